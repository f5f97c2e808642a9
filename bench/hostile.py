"""Hostile clients against a real `jaxabot serve`: does a real question still get answered?

On a temporary corpus copy and index folder (the server builds the index on start):
  - baseline: seconds for a real question (median of 3) with nothing else going on;
  - idle: --idle connections (300) are opened and send nothing; while they stay open, health and
    a real question are asked every 0.2 s until the question is answered (at most --hold s);
    after --hold s, how many of them the server has closed;
  - trickle: the same with connections that sent half a request line and then nothing more;
  - abandoned: --abandoned (150) complete POST /api/ask requests whose clients close the
    connection at once; then the seconds until the next real question is answered.
Printed: status of the first health / question, seconds until the question was answered (or
"never" within the hold), and how many of the held connections the server had closed by then.
Nothing asserts on time; current figures are in docs/results.md.

    .venv/bin/python -m bench.hostile [--idle 300] [--abandoned 150] [--hold 30]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import time

from bench.common import HOST, Server, header, load_questions, machine, offline, save_results, table, workspace

offline()

REAL = "SAFEは何年に設立されましたか？"


def _ask(base: str, timeout: float = 300.0) -> tuple[int, float]:
    import httpx
    t = time.perf_counter()
    try:
        r = httpx.post(f"{base}/api/ask", json={"question": REAL}, timeout=timeout)
        return r.status_code, time.perf_counter() - t
    except httpx.HTTPError:
        return 0, time.perf_counter() - t


def _health(base: str) -> int:
    import httpx
    try:
        return httpx.get(f"{base}/api/health", timeout=10).status_code
    except httpx.HTTPError:
        return 0


def _open(port: int, n: int, first_bytes: bytes) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=10)
        if first_bytes:
            s.sendall(first_bytes)
        s.setblocking(False)
        socks.append(s)
    return socks


def _closed_by_server(socks: list[socket.socket]) -> int:
    closed = 0
    for s in socks:
        try:
            data = s.recv(65536)
            closed += data == b"" or data.startswith(b"HTTP/1.1 408")
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    return closed


def held_connections(server: Server, n: int, first_bytes: bytes, hold: float) -> dict:
    socks = _open(server.port, n, first_bytes)
    try:
        time.sleep(0.5)
        t0 = time.perf_counter()
        first_health = _health(server.base)
        first_status, _ = _ask(server.base, timeout=60)
        answered_s = None
        while time.perf_counter() - t0 < hold:
            status, _ = _ask(server.base, timeout=60) if answered_s is None else (200, 0)
            if status == 200:
                answered_s = time.perf_counter() - t0
                break
            time.sleep(0.2)
        time.sleep(max(0.0, hold - (time.perf_counter() - t0)))  # then: did the server drop them?
        return {"connections": n, "first_health": first_health, "first_question": first_status,
                "answered_after_s": answered_s, "closed_by_server": _closed_by_server(socks)}
    finally:
        for s in socks:
            s.close()


def abandoned(server: Server, n: int) -> dict:
    questions = [q.question for q in load_questions()] or [REAL]
    sent = 0
    t0 = time.perf_counter()
    for i in range(n):
        body = json.dumps({"question": questions[i % len(questions)]}).encode()
        head = (f"POST /api/ask HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        try:
            with socket.create_connection((HOST, server.port), timeout=10) as s:
                s.sendall(head + body)
            sent += 1
        except OSError:
            pass
    sent_s = time.perf_counter() - t0
    time.sleep(0.2)
    status, seconds = _ask(server.base)
    return {"abandoned": sent, "sending_s": sent_s, "next_question_status": status, "next_question_s": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--idle", type=int, default=300)
    ap.add_argument("--abandoned", type=int, default=150)
    ap.add_argument("--hold", type=float, default=15.0,
                    help="seconds the held connections stay open (longer than JAXABOT_REQUEST_TIMEOUT)")
    ap.add_argument("--label", default="", help="a name for this run in the saved JSON (e.g. before/after)")
    args = ap.parse_args()
    info = machine()
    header("bench.hostile — real questions next to hostile clients", info)
    with workspace("jaxabot-hostile-") as ws, Server(ws) as server:
        server.wait_first_answer()
        base = [_ask(server.base)[1] for _ in range(3)]
        idle = held_connections(server, args.idle, b"", args.hold)
        trickle = held_connections(server, args.idle, b"POST /api/ask HTTP/1.1\r\nHost: x", args.hold)
        gone = abandoned(server, args.abandoned)
        server.check_alive()
    never = f"never (in {args.hold:.0f} s)"
    rows = [["baseline: real question", "—", "200", f"{statistics.median(base):.2f}", "—"]]
    for name, r in (("idle connections", idle), ("trickled headers", trickle)):
        after = r["answered_after_s"]
        rows.append([f"{r['connections']} {name} held open", str(r["first_health"]), str(r["first_question"]),
                     never if after is None else f"{after:.2f}", str(r["closed_by_server"])])
    rows.append([f"after {gone['abandoned']} abandoned requests", "—", str(gone["next_question_status"]),
                 f"{gone['next_question_s']:.2f}", "—"])
    print(table(["situation", "first /api/health", "first /api/ask", "real question answered after (s)",
                 f"held connections closed by the server after {args.hold:g} s"], rows))
    path = save_results("hostile", {"label": args.label, "machine": info, "baseline_s": base, "idle": idle,
                                    "trickle": trickle, "abandoned": gone})
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()
