"""Serving latency of a real `jaxabot serve` process on 127.0.0.1.

Per run (a fresh temporary corpus copy and index folder each time):
  1. first start: process start → first 200 from /api/ask with no index on disk (the server
     builds it first), then stop;
  2. cold start: the same, with the index now on disk (an ordinary restart);
  3. sequential /api/ask latency over the dev + held-out questions (Japanese, English,
     follow-ups with history, not-found), cycling;
  4. throughput and latency at concurrency 4 and 16 (bench.loadgen's lean keep-alive clients,
     or httpx's async client with `--client httpx`; `--client lean,httpx` measures both);
  5. peak resident memory of the server process (VmHWM from /proc/<pid>/status).
Figures are printed per run and as medians over runs. Nothing is asserted.

    .venv/bin/python -m bench.latency [--quick] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from bench.common import (
    CpuMeter,
    Latencies,
    Server,
    _proc_jiffies,
    header,
    interleaved,
    load_questions,
    loadavg,
    machine,
    median_of_runs,
    offline,
    pcts,
    save_results,
    table,
    workspace,
)

offline()


def sequential(base: str, questions, n: int) -> Latencies:
    import httpx

    lat = Latencies()
    with httpx.Client(base_url=base, timeout=60.0) as client:
        for i in range(n):
            q = questions[i % len(questions)]
            t = time.perf_counter()
            try:
                lat.record(q, t, client.post("/api/ask", json=q.body()))
            except httpx.HTTPError as exc:
                lat.record(q, t, exc=exc)
    return lat


async def _concurrent(base: str, questions, n: int, concurrency: int,
                      generator: str = "lean") -> tuple[Latencies, float]:
    lat = Latencies()
    if generator == "lean":
        from bench.loadgen import post_all
        wall = await post_all(base, "/api/ask", questions, lambda q: q.body(), n, concurrency, lat.record)
        return lat, wall
    import httpx

    counter = iter(range(n))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120.0, limits=limits) as client:
        async def worker() -> None:
            for i in counter:
                q = questions[i % len(questions)]
                t = time.perf_counter()
                try:
                    lat.record(q, t, await client.post("/api/ask", json=q.body()))
                except httpx.HTTPError as exc:
                    lat.record(q, t, exc=exc)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return lat, wall


def one_run(run: int, args, questions, env: dict | None = None) -> dict:
    env = args.server_env if env is None else env
    out: dict = {"loadavg": loadavg()}
    with workspace() as ws:
        # 1. first start: no index yet, `serve` builds it before listening.
        server = Server(ws, log_name="first.log", extra_env=env).start()
        try:
            marks = server.wait_first_answer()
            out["first_start_s"] = marks["first_answer_s"]
            out["first_start_vmhwm_mb"] = server.status().get("VmHWM", 0) / 1024
        finally:
            server.stop()
        # 2. cold start with the index on disk, then the measurements on that server.
        server = Server(ws, log_name="cold.log", extra_env=env).start()
        try:
            marks = server.wait_first_answer()
            out["cold_start_s"] = marks["first_answer_s"]
            # CPU seconds the server used to get there: contention inflates it far less than wall time.
            out["cold_start_cpu_s"] = _proc_jiffies(server.pid) / os.sysconf("SC_CLK_TCK")
            out["first_http_response_s"] = marks["first_response_s"]
            out["vmrss_after_start_mb"] = server.status().get("VmRSS", 0) / 1024
            sequential(server.base, questions, args.warmup)  # not counted

            meter = CpuMeter(lambda: [os.getpid(), server.pid]).__enter__()
            seq = sequential(server.base, questions, args.sequential)
            server.check_alive()
            out["sequential"] = {"requests": len(seq.ms), "errors": len(seq.errors), **pcts(seq.ms),
                                 "server_p50": pcts(seq.server_ms)["p50"],
                                 "by_category_p50": {c: pcts(v)["p50"] for c, v in sorted(seq.by_category.items())}}
            errors = list(seq.errors)
            hz = os.sysconf("SC_CLK_TCK")
            for c, client in phases(args):
                # CPU per request of the server and of this load generator, which share the cores:
                # req/s ≈ cores / (server + client CPU per request) once both are CPU-bound.
                server_j, client_s = _proc_jiffies(server.pid), time.process_time()
                lat, wall = asyncio.run(_concurrent(server.base, questions, args.concurrent, c, client))
                server_cpu = (_proc_jiffies(server.pid) - server_j) / hz
                client_cpu = time.process_time() - client_s
                server.check_alive()
                errors += lat.errors
                n = max(1, len(lat.ms))
                out[key(c, client, args)] = {"requests": len(lat.ms), "errors": len(lat.errors), "wall_s": wall,
                                "rps": len(lat.ms) / wall if wall else 0.0, **pcts(lat.ms),
                                "server_p50": pcts(lat.server_ms)["p50"],
                                "server_cpu_ms": server_cpu * 1000 / n, "client_cpu_ms": client_cpu * 1000 / n}
            meter.__exit__(None, None, None)
            out["cpu_others"] = meter.cores_others
            out["cpu_ours"] = meter.cores_ours
            st = server.status()
            out["vmhwm_mb"] = st.get("VmHWM", 0) / 1024
            out["vmrss_end_mb"] = st.get("VmRSS", 0) / 1024
            out["threads"] = st.get("Threads", 0)
            out["error_samples"] = errors[:10]
        finally:
            server.stop()
    return out


def phases(args) -> list[tuple[int, str]]:
    return [(c, client) for c in args.levels for client in args.client]


def key(c: int, client: str, args) -> str:
    """Results key of a concurrency phase: `c16` with the first client named, `c16-httpx` etc."""
    return f"c{c}" if client == args.client[0] else f"c{c}-{client}"


def label(c: int, client: str, args) -> str:
    return f"concurrency {c}" + (f" ({client})" if len(args.client) > 1 else "")


def report(runs: list[dict], args) -> dict:
    med = median_of_runs(runs)
    n = len(runs)
    print(f"## Start-up and memory (median of {n} run{'s' if n > 1 else ''}; per run in brackets)\n")
    per = lambda key, d=1: " / ".join(f"{r.get(key, float('nan')):.{d}f}" for r in runs)  # noqa: E731
    print(table(["measure", "median", "runs"], [
        ["first start, no index (process start → first answer, s)", med["first_start_s"], per("first_start_s")],
        ["cold start, index on disk (process start → first answer, s)", med["cold_start_s"], per("cold_start_s")],
        ["  of which: process start → first HTTP response (s)", med["first_http_response_s"],
         per("first_http_response_s")],
        ["cold start, server CPU seconds to the first answer", med.get("cold_start_cpu_s"), per("cold_start_cpu_s", 2)],
        ["peak RSS (VmHWM) after the runs, MB", med["vmhwm_mb"], per("vmhwm_mb", 0)],
        ["peak RSS of the first-start process, MB", med["first_start_vmhwm_mb"], per("first_start_vmhwm_mb", 0)],
        ["RSS right after start, MB", med["vmrss_after_start_mb"], per("vmrss_after_start_mb", 0)],
    ]))
    print()
    print(f"## /api/ask latency, client side, ms (median of {n} run{'s' if n > 1 else ''})\n")
    rows = []
    s = med["sequential"]
    rows.append(["sequential (1 client)", s["requests"], s["errors"], "—", s["p50"], s["p95"], s["p99"],
                 s["server_p50"], "—", "—"])
    for c, client in phases(args):
        m = med[key(c, client, args)]
        rows.append([label(c, client, args), m["requests"], m["errors"], f"{m['rps']:.1f}", m["p50"], m["p95"],
                     m["p99"], m["server_p50"], _cpu(m, "server_cpu_ms"), _cpu(m, "client_cpu_ms")])
    print(table(["phase", "requests", "errors", "req/s", "p50", "p95", "p99", "server total p50",
                 "server CPU ms / answer", "load generator CPU ms / request"], rows))
    print()
    print("Sequential p50 by question type, ms: " + ", ".join(
        f"{c} {v:.1f}" for c, v in s["by_category_p50"].items()))
    print()
    for r in runs:
        for e in r.get("error_samples", []):
            print(f"ERROR: {e}")
    return med


def _cpu(m: dict, key: str) -> str:
    return f"{m[key]:.1f}" if key in m else "—"  # runs saved before this column existed


def _print_run(i: int, args, r: dict, info: dict, label: str = "") -> None:
    print(f"run {i + 1}/{args.repeat}{' ' + label if label else ''}: first start {r['first_start_s']:.1f} s, "
          f"cold start {r['cold_start_s']:.1f} s, sequential p50 {r['sequential']['p50']:.1f} ms, "
          + ", ".join(f"{k} {r[k]['rps']:.1f} req/s p95 {r[k]['p95']:.0f} ms"
                      for k in (key(c, cl, args) for c, cl in phases(args)))
          + f", VmHWM {r['vmhwm_mb']:.0f} MB (other processes used {r['cpu_others']:.2f} of "
          f"{info['cores']} cores)", flush=True)


def compare(med: dict, base: dict, args) -> None:
    """The main settings against the baseline, as ratios (both measured in this run)."""
    ratio = lambda a, b: f"{a / b:.2f}" if b else "—"  # noqa: E731
    rows = [["cold start, s", med["cold_start_s"], base["cold_start_s"],
             ratio(med["cold_start_s"], base["cold_start_s"])],
            ["cold start, server CPU s", med["cold_start_cpu_s"], base["cold_start_cpu_s"],
             ratio(med["cold_start_cpu_s"], base["cold_start_cpu_s"])],
            ["first start, s", med["first_start_s"], base["first_start_s"],
             ratio(med["first_start_s"], base["first_start_s"])],
            ["peak RSS, MB", med["vmhwm_mb"], base["vmhwm_mb"], ratio(med["vmhwm_mb"], base["vmhwm_mb"])],
            ["sequential p50, ms", med["sequential"]["p50"], base["sequential"]["p50"],
             ratio(med["sequential"]["p50"], base["sequential"]["p50"])]]
    for c, client in phases(args):
        k = key(c, client, args)
        rows.append([f"req/s at {label(c, client, args)}", med[k]["rps"], base[k]["rps"],
                     f"{med[k]['rps'] / base[k]['rps']:.2f}"])
        m, b = med[k].get("server_cpu_ms"), base[k].get("server_cpu_ms")
        if m and b:
            rows.append([f"server CPU ms per answer at {label(c, client, args)}", m, b, ratio(m, b)])
    print("## Main settings vs baseline (same run)\n")
    print(table(["measure", "main", "baseline", "main / baseline"], rows))
    print()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 run, fewer requests")
    ap.add_argument("--repeat", type=int, default=None, help="runs (default 3, quick 1)")
    ap.add_argument("--sequential", type=int, default=None, help="sequential requests (default 138, quick 46)")
    ap.add_argument("--concurrent", type=int, default=None,
                    help="requests per concurrency level (default 160, quick 48)")
    ap.add_argument("--levels", default="4,16", help="concurrency levels")
    ap.add_argument("--warmup", type=int, default=8)
    ap.add_argument("--client", default="lean",
                    help="load generator(s) of the concurrency phases, comma-separated: lean (bench.loadgen, "
                         "little CPU per request) and/or httpx (several times more)")
    ap.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for the server (e.g. JAXABOT_TORCH_THREADS=1); repeatable")
    ap.add_argument("--baseline-env", action="append", default=[], metavar="KEY=VALUE",
                    help="also run a baseline server with this environment (e.g. JAXABOT_EMBED_BACKEND=torch), "
                         "alternating with the main one run by run, and print the ratios; repeatable")
    args = ap.parse_args()
    args.server_env = dict(kv.split("=", 1) for kv in args.server_env)
    args.baseline_env = dict(kv.split("=", 1) for kv in args.baseline_env)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.sequential = args.sequential or (46 if args.quick else 138)
    args.concurrent = args.concurrent or (48 if args.quick else 160)
    args.levels = [int(x) for x in args.levels.split(",") if x]
    args.client = [x for x in args.client.split(",") if x]
    if not args.client or set(args.client) - {"lean", "httpx"}:
        ap.error("--client takes lean, httpx or both")

    info = machine()
    questions = interleaved(load_questions())
    header("bench.latency", info)
    print(f"{len(questions)} questions (dev + held-out: ja, en, follow-ups, not-found), cycled; "
          f"{args.repeat} run(s): {args.sequential} sequential + {args.concurrent} per concurrency level "
          f"{args.levels} (load generator: {', '.join(args.client)}); {args.warmup} warm-up requests per run"
          + (f"; server environment {args.server_env}" if args.server_env else "") + "\n")
    runs, baseline = [], []
    t0 = time.perf_counter()
    for i in range(args.repeat):
        r = one_run(i, args, questions)
        _print_run(i, args, r, info)
        runs.append(r)
        if args.baseline_env:
            b = one_run(i, args, questions, env=args.baseline_env)
            _print_run(i, args, b, info, label=f"baseline {args.baseline_env}")
            baseline.append(b)
    print()
    med = report(runs, args)
    if baseline:
        print(f"### Baseline: server environment {args.baseline_env}\n")
        base = report(baseline, args)
        compare(med, base, args)
    info["loadavg_end"] = loadavg()
    info["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"load average at end {info['loadavg_end']}; total {info['seconds']} s")
    path = save_results("latency", {"machine": info, "args": vars(args), "runs": runs, "median": med,
                                    "baseline_runs": baseline})
    print(f"raw results: {path.relative_to(path.parents[2])}")
    errors = sum(r["sequential"]["errors"] + sum(r[key(c, cl, args)]["errors"] for c, cl in phases(args))
                 for r in runs + baseline)
    if errors:
        print(f"{errors} request(s) failed")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
