"""Serving settings side by side: req/s and server CPU per answer at N clients, in one run.

Each configuration is a set of `JAXABOT_*` variables for `jaxabot serve`. All share one
workspace (the first server builds the index); every round starts each configuration's server in
turn, warms it up and sends the same questions at the same concurrency. Server CPU milliseconds
per answer (utime + stime of the server process over the phase) are printed beside req/s: on a
machine shared with other work they move far less than wall-clock figures.

    python -m bench.tune --config "JAXABOT_EMBED_BACKEND=torch JAXABOT_EMBED_BATCH=0" \\
        --config "JAXABOT_EMBED_BATCH=0" --config "JAXABOT_WORKERS=8" --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

from bench.common import (
    Server,
    _proc_jiffies,
    header,
    interleaved,
    load_questions,
    machine,
    offline,
    pcts,
    save_results,
    table,
    workspace,
)
from bench.latency import _concurrent, sequential

offline()


async def _with_health(base: str, questions, args, health: list[float]):
    """The load, and meanwhile one /api/health every 50 ms (its latency, ms): health must stay
    fast while every worker is busy."""
    import httpx

    done = asyncio.Event()

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=30.0) as client:
            while not done.is_set():
                t = time.perf_counter()
                await client.get("/api/health")
                health.append((time.perf_counter() - t) * 1000)
                await asyncio.sleep(0.05)

    poller = asyncio.create_task(poll())
    try:
        return await _concurrent(base, questions, args.requests, args.clients, args.load_generator)
    finally:
        done.set()
        await poller


def measure(ws, env: dict, questions, args) -> dict:
    server = Server(ws, log_name="tune.log", extra_env=env).start()
    try:
        server.wait_first_answer()
        sequential(server.base, questions, args.warmup)
        hz = os.sysconf("SC_CLK_TCK")
        before = _proc_jiffies(server.pid)
        health: list[float] = []
        lat, wall = asyncio.run(_with_health(server.base, questions, args, health))
        cpu_s = (_proc_jiffies(server.pid) - before) / hz
        server.check_alive()
        ok = len(lat.ms)
        return {"rps": ok / wall if wall else 0.0, "cpu_ms_per_answer": cpu_s * 1000 / max(1, ok),
                "errors": len(lat.errors), "error_samples": lat.errors[:3], **pcts(lat.ms),
                "health_p50": pcts(health)["p50"], "health_max": max(health, default=float("nan")),
                "vmhwm_mb": server.status().get("VmHWM", 0) / 1024}
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", action="append", required=True, metavar="'K=V K=V'",
                    help="one server configuration (space-separated KEY=VALUE); repeatable, first is the reference")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--load-generator", choices=("lean", "httpx"), default="lean",
                    help="bench.loadgen's keep-alive clients (~0.4 ms of CPU per request) or httpx's (~2 ms)")
    ap.add_argument("--requests", type=int, default=160, help="requests per measurement")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=8)
    args = ap.parse_args()
    configs = [dict(kv.split("=", 1) for kv in c.split()) for c in args.config]
    info = machine()
    header("bench.tune", info)
    questions = interleaved(load_questions())
    results: list[list[dict]] = [[] for _ in configs]
    with workspace() as ws:
        for r in range(args.rounds):
            for i, env in enumerate(configs):
                m = measure(ws, env, questions, args)
                results[i].append(m)
                print(f"round {r + 1} {args.config[i]!r}: {m['rps']:.1f} req/s, {m['cpu_ms_per_answer']:.1f} "
                      f"server CPU ms/answer, p50 {m['p50']:.0f} ms, health p50 {m['health_p50']:.1f} ms, "
                      f"errors {m['errors']}", flush=True)
    med = lambda xs, k: statistics.median(x[k] for x in xs)  # noqa: E731
    ref_rps, ref_cpu = med(results[0], "rps"), med(results[0], "cpu_ms_per_answer")
    rows = [[c, f"{med(res, 'rps'):.1f}", f"{med(res, 'rps') / ref_rps:.2f}", f"{med(res, 'cpu_ms_per_answer'):.1f}",
             f"{med(res, 'cpu_ms_per_answer') / ref_cpu:.2f}", f"{med(res, 'p50'):.0f}", f"{med(res, 'p95'):.0f}",
             f"{med(res, 'health_p50'):.1f}", f"{med(res, 'health_max'):.0f}",
             f"{med(res, 'vmhwm_mb'):.0f}"] for c, res in zip(args.config, results, strict=False)]
    print()
    print(f"{args.clients} clients ({args.load_generator}), {args.requests} requests per measurement, "
          f"median of {args.rounds} round(s)\n")
    print(table(["configuration", "req/s", "× first", "server CPU ms / answer", "× first", "p50 ms", "p95 ms",
                 "health p50 ms", "health max ms", "peak RSS MB"], rows))
    path = save_results("tune", {"machine": info, "args": vars(args), "results": results})
    print(f"\nraw results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
