"""Local vs Ray index build on a generated larger corpus (`make bench-build ARGS=--ray`).

The corpus is made in a temporary folder (never in the repository): the JSQuAD articles of
../shared/benchmarks/jsquad repeated with variations (each copy numbers its paragraphs and puts
them in another order) until it holds `--passages` passages. Two full builds run, each in its own
process so their memory does not mix:

- local: `build_index` with the model in process (torch on all cores);
- ray: the same `build_index` with `RayEmbedder` on an in-process Ray cluster (`local`), one
  actor per CPU with one torch thread each.

Reported: wall time, embedded texts/s, the driver's own time (everything but the embedding:
reading, splitting, Sudachi, BM25, FAISS, writing, plus starting the cluster) and its share of
the build, each worker's model throughput, and peak memory (driver VmHWM; sum of the RSS of the
process tree, sampled, i.e. driver + raylet + workers). On one 2-core machine Ray cannot be
faster; the per-worker throughput and the driver's share predict a cluster:
    wall(N workers) ≈ driver time + texts / (N × per-worker texts/s).

    .venv/bin/python -m bench.build --ray [--passages 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, header, loadavg, machine, offline, save_results, table

offline()


def make_corpus(folder: Path, passages: int) -> tuple[int, int]:
    """(documents, passages) written: JSQuAD articles, copies with numbered, reordered paragraphs."""
    from bench.jsquad import load_articles
    from bot.ingest.passages import split_passages

    articles = load_articles()
    folder.mkdir(parents=True)
    total, docs, copy = 0, 0, 0
    while total < passages:
        rng = random.Random(copy)
        for a in articles:
            paras = [p["text"] for p in a.paragraphs]
            if copy:
                rng.shuffle(paras)
                paras = [f"（{copy}-{i + 1}）{p}" for i, p in enumerate(paras)]
            title = a.display_title + (f"（版{copy}）" if copy else "")
            text = "\n\n".join([title] + paras)
            doc_id = f"{a.doc_id}-{copy}"
            (folder / f"{doc_id}.txt").write_text(
                f"---\ntitle: {json.dumps(title, ensure_ascii=False)}\nlang: ja\n---\n{text}\n", encoding="utf-8")
            total += len(split_passages(doc_id, text))
            docs += 1
            if total >= passages:
                break
        copy += 1
    return docs, total


def _children(pid: int) -> list[int]:
    out, frontier = [], [pid]
    procs = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                procs[int(d.name)] = int(stat[stat.rfind(")") + 2:].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    while frontier:
        p = frontier.pop()
        kids = [c for c, parent in procs.items() if parent == p]
        out += kids
        frontier += kids
    return out


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_one(mode: str, corpus: Path, index: Path) -> dict:
    """One full build in a subprocess; its result plus the sampled peak RSS of its process tree."""
    out = index.parent / f"{mode}.json"
    proc = subprocess.Popen([sys.executable, "-m", "bench.build_ray", "--one", mode, "--corpus", str(corpus),
                             "--index", str(index), "--out", str(out)], cwd=ROOT,
                            env=dict(os.environ, RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0"))
    peak = 0
    while proc.poll() is None:
        pids = [proc.pid] + _children(proc.pid)
        peak = max(peak, sum(_rss_kb(p) for p in pids))
        time.sleep(0.5)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} build failed ({proc.returncode})")
    result = json.loads(out.read_text())
    result["tree_peak_rss_mb"] = peak / 1024
    return result


class _Timed:
    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.seconds = inner, inner.name, inner.dim, 0.0

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)

    def encode_passages(self, texts, show_progress=False):
        t = time.perf_counter()
        try:
            return self.inner.encode_passages(texts)
        finally:
            self.seconds += time.perf_counter() - t


def one(mode: str, corpus: Path, index: Path) -> dict:
    from bot.settings import Settings, cpu_count
    from bot.store.build import build_index
    from bot.text.analyser import Tokenizer

    s = Settings()
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    res: dict = {"mode": mode}
    if mode == "local":
        from bot.embed.embedder import load_embedder
        embedder = _Timed(load_embedder(s.model, s.model_cache_dir, cpu_count(), s.embed_backend))
        res["startup_s"] = time.perf_counter() - t0
        t = time.perf_counter()
        summary = build_index(corpus, index, embedder, Tokenizer(), max_bytes=int(s.max_file_mb * 1e6))
        res["build_s"] = time.perf_counter() - t
        res["embed_s"] = embedder.seconds
    else:
        from bot.store.distributed import RayEmbedder, cluster_cpus, ray_session, settings_loader
        # Ray renices its workers by +15 (RAY_worker_niceness): on a shared machine they then get
        # next to no CPU (measured: ~5 % each under load average 15). Same priority as the local
        # build, so both compete alike.
        os.environ.setdefault("RAY_worker_niceness", "0")
        res["worker_niceness"] = int(os.environ["RAY_worker_niceness"])
        with ray_session("local"):
            res["startup_s"] = time.perf_counter() - t0
            res["actors"] = cluster_cpus()
            embedder = RayEmbedder(s.model, settings_loader(s))
            t = time.perf_counter()
            summary = build_index(corpus, index, embedder, Tokenizer(), max_bytes=int(s.max_file_mb * 1e6))
            res["build_s"] = time.perf_counter() - t
            run = embedder.last_run
            res["embed_s"] = run["seconds"]
            res["first_batch_s"] = run["first_batch_s"]
            res["workers"] = list(run["workers"].values())
            res["backend"] = run["backend"]
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    res["driver_cpu_s"] = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    res["driver_hwm_mb"] = cpu1.ru_maxrss / 1024
    res.update(texts=summary.embedded_texts, passages=summary.passages, sentences=summary.sentences,
               documents=summary.documents, total_s=time.perf_counter() - t0)
    return res


def compare(a: Path, b: Path) -> dict:
    import numpy as np

    from bot.store import versions as store

    fa, _ = store.open_current(a)
    fb, _ = store.open_current(b)
    same = (fa / "passages.jsonl").read_bytes() == (fb / "passages.jsonl").read_bytes()
    cos = [float(np.min(np.sum(np.load(fa / n) * np.load(fb / n), axis=1)))
           for n in ("passage_vectors.npy", "sentence_vectors.npy")]
    return {"same_passages": same, "min_cosine": min(cos)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--passages", type=int, default=20000)
    ap.add_argument("--one", choices=["local", "ray"], help=argparse.SUPPRESS)
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        args.out.write_text(json.dumps(one(args.one, args.corpus, args.index)))
        return

    info = machine()
    header("bench.build --ray", info)
    root = Path(tempfile.mkdtemp(prefix="jaxabot-bench-ray-"))
    try:
        docs, passages = make_corpus(root / "corpus", args.passages)
        print(f"generated corpus: {docs} documents, {passages} passages (in {root}, removed afterwards)\n", flush=True)
        results = {}
        for mode in ("local", "ray"):
            results[mode] = r = run_one(mode, root / "corpus", root / f"index-{mode}")
            print(f"{mode}: {r['build_s']:.1f} s build, {r['texts']} texts embedded in {r['embed_s']:.1f} s",
                  flush=True)
        check = compare(root / "index-local", root / "index-ray")
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows = []
    for mode, r in results.items():
        fixed = r["startup_s"] + r.get("first_batch_s", 0.0)
        work = r["build_s"] - r["embed_s"]
        rows.append([mode, f"{r['texts']:,}", f"{r['startup_s']:.1f}", f"{r['build_s']:.1f}", f"{r['embed_s']:.1f}",
                     f"{r['texts'] / r['embed_s']:.1f}", f"{work:.1f}", f"{work / r['build_s']:.1%}",
                     f"{r['driver_cpu_s']:.1f}", f"{r['driver_hwm_mb']:.0f}", f"{r['tree_peak_rss_mb']:.0f}"])
    print(table(["build", "texts", "model load / cluster start s", "build s", "embedding s (Ray: the whole job)",
                 "texts/s", "driver's own work s (read, split, Sudachi, BM25, FAISS, write)",
                 "driver's share of the build",
                 "driver CPU s", "driver peak RSS MB", "process tree peak RSS MB"], rows))
    ray = results["ray"]
    w_rows = [[i + 1, f"{w['texts']:,}", f"{w['encode_s']:.1f}", f"{w['texts'] / w['encode_s']:.1f}"]
              for i, w in enumerate(ray["workers"])]
    print("\nRay workers (model time only):\n")
    print(table(["worker", "texts", "encode s", "texts/s"], w_rows))
    per_worker = sum(w["texts"] for w in ray["workers"]) / max(1e-9, sum(w["encode_s"] for w in ray["workers"]))
    work = ray["build_s"] - ray["embed_s"]
    fixed = ray["startup_s"] + ray["first_batch_s"]
    local_wall = results["local"]["build_s"] + results["local"]["startup_s"]
    print(f"\nRay fixed costs: cluster start {ray['startup_s']:.1f} s, first batch back after "
          f"{ray['first_batch_s']:.1f} s (actors start and load the model)")
    print(f"Ray vs local: same passages {check['same_passages']}, min cosine {check['min_cosine']:.5f}")
    print(f"\nprojected wall time for these {ray['texts']:,} texts on N single-CPU workers = fixed {fixed:.0f} s + "
          f"driver work {work:.0f} s + texts / (N × {per_worker:.1f} texts/s); and for 20k passages "
          f"(~110k texts, driver work scaled by the texts):")
    scale = 110_000 / ray["texts"]
    print(table(["N", "these texts: wall s", "vs local", "20k passages: wall s"],
                [[n, f"{fixed + work + ray['texts'] / (n * per_worker):.0f}",
                  f"{local_wall / (fixed + work + ray['texts'] / (n * per_worker)):.1f}×",
                  f"{fixed + work * scale + 110_000 / (n * per_worker):.0f}"]
                 for n in (2, 8, 32, 128)]))
    print(f"\nload average at end {loadavg()}")
    path = save_results("build-ray", {
        "machine": info, "args": vars(args) | {"corpus": None, "index": None, "out": None},
        "documents": docs, "passages": passages, "results": results, "check": check})
    print(f"raw results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
