"""Sustained load on a real `jaxabot serve`, with an index rebuild and swap in the middle.

On a temporary corpus copy and index folder, with JAXABOT_ADMIN_TOKEN set:
  - 16 concurrent clients (--clients) ask a mix of Japanese, English, follow-up (with history)
    and not-found questions for 60 s (--seconds);
  - a separate process polls GET /api/health every 100 ms (its own interpreter, so the
    clients' event loop cannot delay its timings);
  - at 35 % of the run a document with a distinctive sentence is added to the temporary corpus,
    POST /api/index/rebuild is called and GET /api/index/status polled until the build is done;
    then the new document must answer a question about that sentence, from the new index.
Reported: requests, errors (every non-200 or exception, printed), latency percentiles overall,
during the rebuild and after it, /api/health p99, and the swap checks.

Exit status 1 if any request failed, /api/health p99 ≥ 50 ms, or the swap was not observed.

    .venv/bin/python -m bench.load [--quick] [--seconds 60] [--clients 16]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import secrets
import time
from dataclasses import dataclass

from bench.common import (
    ADDED_DOC_ID,
    MARKER_ANSWER_KEY,
    MARKER_QUESTION_JA,
    CpuMeter,
    Server,
    added_document,
    header,
    interleaved,
    load_questions,
    loadavg,
    machine,
    offline,
    pcts,
    save_results,
    table,
    workspace,
)

offline()

HEALTH_P99_LIMIT_MS = 50.0
HEALTH_INTERVAL_S = 0.1


# -- health poller (separate process) ----------------------------------------------------------

def _poll_health(base: str, stop, out) -> None:
    import httpx

    rows = []
    with httpx.Client(base_url=base, timeout=10.0) as client:
        t0 = time.time()
        while not stop.is_set():
            t = time.perf_counter()
            started = time.time() - t0
            try:
                r = client.get("/api/health")
                ms = (time.perf_counter() - t) * 1000
                body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
                rows.append((started, ms, r.status_code, body.get("index_version"), None))
            except Exception as exc:  # every failure is a finding
                rows.append((started, (time.perf_counter() - t) * 1000, 0, None, f"{type(exc).__name__}: {exc}"))
            time.sleep(max(0.0, HEALTH_INTERVAL_S - (time.perf_counter() - t)))
    out.put((t0, rows))


# -- clients -----------------------------------------------------------------------------------

@dataclass
class Rec:
    start: float  # seconds since the run began
    end: float
    ms: float
    status: int
    version: str | None
    category: str
    qid: str
    error: str | None = None


@dataclass
class Swap:
    edit_at: float | None = None
    posted_at: float | None = None
    post_status: int | None = None
    done_at: float | None = None
    state: str | None = None
    status_body: dict | None = None
    old_version: str | None = None
    new_version: str | None = None
    marker_checks: list | None = None
    problems: list | None = None


async def client_loop(client, questions, offset: int, deadline: float, t0: float, recs: list[Rec]) -> None:
    import httpx

    i = offset
    while time.perf_counter() < deadline:
        q = questions[i % len(questions)]
        i += 1
        t = time.perf_counter()
        try:
            r = await client.post("/api/ask", json=q.body())
            end = time.perf_counter()
            version, error = None, None
            if r.status_code == 200:
                version = r.json().get("index_version")
            else:
                error = f"HTTP {r.status_code}: {r.text[:300]}"
            recs.append(Rec(t - t0, end - t0, (end - t) * 1000, r.status_code, version, q.category, q.id, error))
        except httpx.HTTPError as exc:
            end = time.perf_counter()
            recs.append(Rec(t - t0, end - t0, (end - t) * 1000, 0, None, q.category, q.id,
                            f"{type(exc).__name__}: {exc!r}"))
            await asyncio.sleep(0.1)  # a dead server must not turn the client into a busy loop


async def rebuild_and_verify(client, ws, token: str, at: float, t0: float, swap: Swap,
                             build_timeout: float) -> None:
    problems: list[str] = []
    auth = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
    # Before: the marker question is not answerable from the seed corpus.
    r = await client.post("/api/ask", json={"question": MARKER_QUESTION_JA})
    before = r.json() if r.status_code == 200 else {}
    if any(c.get("doc_id") == ADDED_DOC_ID for c in before.get("citations", [])):
        problems.append("the marker question cited the new document before it existed")
    swap.old_version = before.get("index_version")

    (ws.corpus / f"{ADDED_DOC_ID}.md").write_text(added_document(1), encoding="utf-8")
    swap.edit_at = time.perf_counter() - t0
    r = await client.post("/api/index/rebuild", headers=auth)
    swap.posted_at = time.perf_counter() - t0
    swap.post_status = r.status_code
    if r.status_code != 202:
        problems.append(f"POST /api/index/rebuild answered {r.status_code}: {r.text[:300]}")
    else:
        deadline = time.perf_counter() + build_timeout
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.2)
            s = await client.get("/api/index/status", headers=auth)
            if s.status_code != 200:
                problems.append(f"GET /api/index/status answered {s.status_code}: {s.text[:300]}")
                break
            body = s.json()
            if body.get("state") != "running":
                swap.done_at = time.perf_counter() - t0
                swap.state = body.get("state")
                swap.status_body = body
                swap.new_version = body.get("index_version")
                break
        else:
            problems.append(f"the rebuild did not finish within {build_timeout} s")
        if swap.state == "failed":
            problems.append(f"the rebuild failed: {swap.status_body.get('error')}")
        elif swap.state == "idle":
            last = (swap.status_body or {}).get("last_build") or {}
            if swap.new_version == swap.old_version:
                problems.append(f"index_version did not change ({swap.new_version})")
            if last.get("version") != swap.new_version:
                problems.append(f"status serves {swap.new_version} but the last build is {last.get('version')}")
    # After: asked while the load goes on, answered from the new document of the new index.
    checks = []
    if swap.done_at is not None:
        for question in (MARKER_QUESTION_JA, "ハルニレの打ち上げ予定はいつですか？"):
            r = await client.post("/api/ask", json={"question": question})
            body = r.json() if r.status_code == 200 else {}
            cited = [c.get("doc_id") for c in body.get("citations", [])]
            ok = (r.status_code == 200 and body.get("found") is True and ADDED_DOC_ID in cited
                  and MARKER_ANSWER_KEY in body.get("answer", "") and body.get("index_version") == swap.new_version)
            checks.append({"question": question, "status": r.status_code, "found": body.get("found"),
                           "cited": cited, "answer": body.get("answer", "")[:160],
                           "index_version": body.get("index_version"), "ok": ok})
        if not any(c["ok"] for c in checks):
            problems.append("no answer after the swap came from the new document: "
                            + "; ".join(f"{c['question']} → {c['status']} found={c['found']} cited={c['cited']} "
                                        f"version={c['index_version']} answer={c['answer']!r}" for c in checks))
    swap.marker_checks = checks
    swap.problems = problems


async def run_load(server: Server, ws, token: str, questions, args) -> tuple[list[Rec], Swap, float]:
    import httpx

    recs: list[Rec] = []
    swap = Swap()
    limits = httpx.Limits(max_connections=args.clients + 2, max_keepalive_connections=args.clients + 2)
    async with httpx.AsyncClient(base_url=server.base, timeout=120.0, limits=limits) as client, \
            httpx.AsyncClient(base_url=server.base, timeout=120.0) as admin:
        t0 = time.perf_counter()
        deadline = t0 + args.seconds
        step = max(1, len(questions) // args.clients)
        tasks = [client_loop(client, questions, i * step, deadline, t0, recs) for i in range(args.clients)]
        tasks.append(rebuild_and_verify(admin, ws, token, args.seconds * args.rebuild_at, t0, swap,
                                        args.build_timeout))
        await asyncio.gather(*tasks)
    return recs, swap, t0


@dataclass
class Run:
    """What one run leaves behind: the clients' records, the swap, the health polls, the server."""
    recs: list[Rec]
    swap: Swap
    health: list  # (started s, ms, status, index_version, error) per poll
    cpu: CpuMeter
    alive: bool
    status: dict
    returncode: int | None
    log: str


@dataclass
class Figures:
    """What the report derives from a run: requests by outcome and by time around the swap, health."""
    ok: list[Rec]
    errors: list[Rec]
    before: list[Rec]
    after: list[Rec]
    rows: list[list]
    health_errors: list
    hms: list[float]
    hp: dict[str, float]
    hmax: float


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="20 s instead of 60")
    ap.add_argument("--seconds", type=float, default=None)
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--rebuild-at", type=float, default=0.35, help="fraction of the run")
    ap.add_argument("--build-timeout", type=float, default=180.0)
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server (e.g. JAXABOT_TORCH_THREADS=1); repeatable")
    args = ap.parse_args()
    args.seconds = args.seconds or (20.0 if args.quick else 60.0)
    return args


def run(args, server_env: dict[str, str], questions) -> Run:
    """Starts the server on a temporary workspace, the health poller in its own process, and the load."""
    token = secrets.token_urlsafe(24)
    with workspace() as ws:
        server = Server(ws, admin_token=token, extra_env=server_env).start()
        try:
            marks = server.wait_first_answer()
            if server_env:
                print(f"server environment: {server_env}")
            print(f"server up: first answer {marks['first_answer_s']:.1f} s after process start (index built "
                  f"at start); {args.clients} clients for {args.seconds:.0f} s, health every "
                  f"{HEALTH_INTERVAL_S * 1000:.0f} ms from a separate process; rebuild at "
                  f"{args.rebuild_at:.0%} of the run\n", flush=True)
            ctx = mp.get_context("spawn")
            stop, out = ctx.Event(), ctx.Queue()
            poller = ctx.Process(target=_poll_health, args=(server.base, stop, out), daemon=True)
            poller.start()
            time.sleep(0.5)  # the poller's interpreter starts; its first polls land in the run
            with CpuMeter(lambda: [os.getpid(), server.pid, poller.pid]) as cpu:
                recs, swap, _ = asyncio.run(run_load(server, ws, token, questions, args))
            stop.set()
            _, health = out.get(timeout=30)
            poller.join(10)
            alive = server.alive()
            st = server.status() if alive else {}
        finally:
            returncode = server.stop()
            log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    return Run(recs, swap, health, cpu, alive, st, returncode, log)


def report_latency(args, result: Run) -> Figures:
    """Prints /api/ask latency overall and around the rebuild, by question type, /api/health and throughput."""
    recs, swap, health = result.recs, result.swap, result.health
    errors = [r for r in recs if r.error]
    health_errors = [h for h in health if h[4] or h[2] != 200]
    ok = [r for r in recs if not r.error]
    wall = max((r.end for r in recs), default=0.0)
    during = [r.ms for r in ok if swap.posted_at is not None and swap.done_at is not None
              and r.end >= swap.posted_at and r.start <= swap.done_at]
    after = [r for r in ok if swap.done_at is not None and r.start > swap.done_at]
    before = [r for r in ok if swap.posted_at is None or r.end < swap.posted_at]
    rows = []
    for name, ms in [("all", [r.ms for r in ok]), ("before the rebuild", [r.ms for r in before]),
                     ("overlapping the rebuild", during), ("after the swap", [r.ms for r in after])]:
        p = pcts(ms, (50, 95, 99))
        rows.append([name, len(ms), p["p50"], p["p95"], p["p99"], max(ms) if ms else float("nan")])
    print(f"## /api/ask under load ({args.clients} clients, {args.seconds:.0f} s), ms\n")
    print(table(["requests", "count", "p50", "p95", "p99", "max"], rows))
    by_cat: dict[str, list[float]] = {}
    for r in ok:
        by_cat.setdefault(r.category, []).append(r.ms)
    print("\np50 by question type, ms: " + ", ".join(f"{c} {pcts(v)['p50']:.0f} ({len(v)})"
                                                    for c, v in sorted(by_cat.items())))
    hms = [h[1] for h in health if not h[4]]
    hp = pcts(hms, (50, 95, 99))
    hmax = max(hms) if hms else float("nan")
    print(f"\n## /api/health while loaded ({len(health)} polls)\n")
    print(table(["p50 ms", "p95 ms", "p99 ms", "max ms", "non-200 / failed"],
                [[hp["p50"], hp["p95"], hp["p99"], hmax, len(health_errors)]]))
    print(f"\nthroughput {len(ok) / wall if wall else 0:.1f} req/s; {len(recs)} requests, {len(errors)} errors; "
          f"server {'alive' if result.alive else 'DEAD'}, VmHWM {result.status.get('VmHWM', 0) / 1024:.0f} MB, "
          f"threads {result.status.get('Threads', '?')}; load average {loadavg()}")
    print(result.cpu.summary())
    return Figures(ok, errors, before, after, rows, health_errors, hms, hp, hmax)


def report_swap(swap: Swap, fig: Figures) -> list[str]:
    """Prints the rebuild's timings and which index answered when; returns the swap's failures."""
    failures = []
    print("\n## Rebuild and swap\n")
    if swap.posted_at is not None:
        dur = (swap.done_at - swap.posted_at) if swap.done_at is not None else float("nan")
        lb = (swap.status_body or {}).get("last_build") or {}
        print(f"document added at {swap.edit_at:.1f} s; POST /api/index/rebuild → {swap.post_status} at "
              f"{swap.posted_at:.1f} s; status {swap.state!r} at "
              f"{'—' if swap.done_at is None else f'{swap.done_at:.1f} s'} (build + reload {dur:.1f} s under "
              f"load; build itself {lb.get('seconds', float('nan')):.2f} s, embedded {lb.get('embedded_texts')} texts)")
        print(f"index_version {swap.old_version} → {swap.new_version}")
    versions_after = sorted({r.version for r in fig.after})
    stale_after = [r for r in fig.after if r.version != swap.new_version]
    wrong_before = [r for r in fig.before if swap.old_version and r.version != swap.old_version]
    print(f"requests started after the swap: {len(fig.after)}, on versions {versions_after}; "
          f"stale (old index) after the swap: {len(stale_after)}; requests before the rebuild on another "
          f"version than the old one: {len(wrong_before)}")
    for c in swap.marker_checks or []:
        print(f"  {'OK ' if c['ok'] else 'BAD'} {c['question']} → found={c['found']} cited={c['cited']} "
              f"version={c['index_version']}: {c['answer']!r}")
    for p in swap.problems or []:
        failures.append(f"swap: {p}")
    if stale_after:
        failures.append(f"swap: {len(stale_after)} request(s) started after the swap were answered from "
                        f"another version ({sorted({r.version for r in stale_after})})")
    if swap.done_at is None or swap.new_version in (None, swap.old_version):
        failures.append("swap: the new index version was not observed")
    return failures


def report_failures(result: Run, fig: Figures) -> list[str]:
    """Prints failed requests and polls, a dead server's log tail and the first traceback; returns the failures."""
    failures = []
    errors, health_errors, hp = fig.errors, fig.health_errors, fig.hp
    if errors:
        failures.append(f"{len(errors)} /api/ask request(s) failed")
        print("\n## Failed requests\n")
        for e in errors[:30]:
            print(f"  at {e.start:.2f} s {e.qid} ({e.category}) after {e.ms:.0f} ms: {e.error}")
        if len(errors) > 30:
            print(f"  … and {len(errors) - 30} more")
    if health_errors:
        failures.append(f"{len(health_errors)} /api/health poll(s) failed")
        for h in health_errors[:10]:
            print(f"  health at {h[0]:.2f} s: status {h[2]} {h[4] or ''}")
    if not fig.hms or hp["p99"] >= HEALTH_P99_LIMIT_MS:
        failures.append(f"/api/health p99 {hp['p99']:.1f} ms ≥ {HEALTH_P99_LIMIT_MS:.0f} ms")
    if not result.alive:
        failures.append(f"the server died during the run (exit status {result.returncode}; negative = killed by "
                        "that signal)")
        print("\nserver log tail:\n" + "\n".join(result.log.splitlines()[-60:]))
    tracebacks = result.log.count("Traceback")
    if tracebacks:
        failures.append(f"the server log has {tracebacks} traceback(s)")
        i = result.log.find("Traceback")
        print("\nfirst traceback in the server log:\n" + result.log[i:i + 3000])
    return failures


def save(info: dict, args, result: Run, fig: Figures, failures: list[str]):
    info["loadavg_end"] = loadavg()
    return save_results("load", {
        "machine": info, "args": vars(args), "requests": len(result.recs), "errors": [e.__dict__ for e in fig.errors],
        "latency_ms": {row[0]: {"count": row[1], "p50": row[2], "p95": row[3], "p99": row[4], "max": row[5]}
                       for row in fig.rows},
        "health_ms": {**fig.hp, "max": fig.hmax, "polls": len(result.health), "errors": len(fig.health_errors)},
        "swap": result.swap.__dict__, "failures": failures,
        "cpu": {"busy": result.cpu.cores_busy, "ours": result.cpu.cores_ours, "others": result.cpu.cores_others},
        "records": [(round(e.start, 3), round(e.ms, 1), e.status, e.version, e.category) for e in result.recs],
        "health": [(round(h[0], 3), round(h[1], 2), h[2], h[3]) for h in result.health]})


def main() -> None:
    args = parse_args()
    server_env = dict(kv.split("=", 1) for kv in args.server_env)
    info = machine()
    header("bench.load", info)
    result = run(args, server_env, interleaved(load_questions()))
    fig = report_latency(args, result)
    failures = report_swap(result.swap, fig)
    failures += report_failures(result, fig)
    path = save(info, args, result, fig, failures)
    print(f"\nraw results: {path.relative_to(path.parents[2])}")
    if failures:
        print("\nFAILED:\n" + "\n".join(f"  - {f}" for f in failures))
        raise SystemExit(1)
    print("\nPASSED: no failed request, /api/health p99 < 50 ms, swap observed")


if __name__ == "__main__":
    main()
