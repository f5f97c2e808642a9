"""Retrieval cost as the corpus grows, on synthetic indexes (no model, no server).

Dense (bot.store.dense.build_dense with the threshold forced, so both index types are built at every
size): 384-dim unit vectors of two kinds,
  - random: uniform on the sphere, the worst case for IVF (no structure to partition);
  - clustered: a Gaussian mixture (1,000 components, per-point cosine ≈ 0.78 to its centre),
    closer to real embeddings, which sit in topical clumps;
  - hierarchical: a two-level mixture (100 topics × 100 subtopics, cosine ≈ 0.7 at each level),
    neighbours on a continuum rather than in separated blobs: between the two above;
→ build time, index bytes, RSS delta, single-query search latency p50/p95 (k=50, as
bot.retrieve.retrieval asks for passages) for flat and for IVF at each nprobe, and IVF recall@10 against
exact (flat) search.

Lexical (bot.store.lexical.LexicalIndex over synthetic Japanese-like token lists: ~65 tokens per
passage drawn from a Zipf distribution over a 50k vocabulary) → build time, bytes, RSS delta,
`scores()` latency for 3–5-token queries, and the cost of the full-array argsort that
bot.retrieve.retrieval runs on those scores.

    .venv/bin/python -m bench.scale [--quick] [--sizes 10000,100000,300000,1000000]

Default sizes 10k, 100k, 300k (around bot.store.dense.APPROX_THRESHOLD) and 1M; --quick does 10k and
100k only. 1M needs ~5 GB free and several minutes (IVF k-means).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from pathlib import Path

import numpy as np

from bench.common import fmt, header, loadavg, machine, median_of_runs, offline, pcts, save_results, table

offline()

DIM = 384
K_SEARCH = 50  # bot.retrieve.retrieval.DEPTH
K_RECALL = 10
NPROBES = [1, 2, 4, 8, 16, 32, 64, 128]
VOCAB = 50_000
ZIPF_S = 1.07
MIXTURE_COMPONENTS = 1000
MIXTURE_SIGMA = 0.8  # x = c + sigma * g / sqrt(d): cos(x, c) ≈ 1 / sqrt(1 + sigma²) ≈ 0.78
TARGET_RECALL = 0.95


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def mem_available_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def _normalise(x: np.ndarray, chunk: int = 100_000) -> np.ndarray:
    for i in range(0, len(x), chunk):
        part = x[i:i + chunk]
        part /= np.linalg.norm(part, axis=1, keepdims=True)
    return x


def random_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.empty((n, DIM), np.float32)
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        x[i:i + m] = rng.standard_normal((m, DIM), dtype=np.float32)
    return _normalise(x)


class Mixture:
    def __init__(self, rng: np.random.Generator) -> None:
        self.centres = _normalise(rng.standard_normal((MIXTURE_COMPONENTS, DIM), dtype=np.float32))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        x = np.empty((n, DIM), np.float32)
        scale = np.float32(MIXTURE_SIGMA / np.sqrt(DIM))
        for i in range(0, n, 100_000):
            m = min(100_000, n - i)
            labels = rng.integers(0, MIXTURE_COMPONENTS, size=m)
            part = rng.standard_normal((m, DIM), dtype=np.float32)
            part *= scale
            part += self.centres[labels]
            x[i:i + m] = part
        return _normalise(x)


class Hierarchy:
    """Two-level mixture: 100 topics × 100 subtopics. cos(point, its subtopic) ≈ cos(subtopic,
    its topic) ≈ 0.7, so neighbours form a continuum (same subtopic ≈ 0.5, same topic ≈ 0.25,
    elsewhere ≈ 0) instead of tight separated blobs."""

    def __init__(self, rng: np.random.Generator, topics: int = 100, per_topic: int = 100,
                 sigma: float = 1.0) -> None:
        self.sigma = sigma
        top = _normalise(rng.standard_normal((topics, DIM), dtype=np.float32))
        sub = np.repeat(top, per_topic, axis=0)
        sub += np.float32(sigma / np.sqrt(DIM)) * rng.standard_normal(sub.shape, dtype=np.float32)
        self.centres = _normalise(sub)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        x = np.empty((n, DIM), np.float32)
        scale = np.float32(self.sigma / np.sqrt(DIM))
        for i in range(0, n, 100_000):
            m = min(100_000, n - i)
            part = rng.standard_normal((m, DIM), dtype=np.float32)
            part *= scale
            part += self.centres[rng.integers(0, len(self.centres), size=m)]
            x[i:i + m] = part
        return _normalise(x)


def time_queries(index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """One query per search call, as the bot searches; ms per query and the ids found."""
    from bot.store.dense import search

    ms, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = search(index, q[None, :], k)
        ms.append((time.perf_counter() - t) * 1000)
        found.append(ids[0])
    return ms, np.stack(found)


def recall_at(found: np.ndarray, exact: np.ndarray, k: int) -> float:
    hits = [len(set(f[:k].tolist()) & set(e[:k].tolist())) for f, e in zip(found, exact, strict=False)]
    return float(np.mean(hits)) / k


def ivf_bytes(index) -> int:
    import faiss

    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    entries = sum(invlists.list_size(i) for i in range(ivf.nlist))
    return entries * (ivf.code_size + 8) + ivf.nlist * DIM * 4  # codes + ids + centroids


def dense_case(n: int, kind: str, vectors: np.ndarray, queries: np.ndarray, lat_queries: int) -> dict:
    from bot.store.dense import build_dense, describe

    out: dict = {"n": n, "kind": kind}
    # Flat (exact): threshold above n.
    gc.collect()
    r0 = rss_kb()
    t = time.perf_counter()
    flat = build_dense(vectors, threshold=n + 1)
    out["flat_build_s"] = time.perf_counter() - t
    out["flat_rss_mb"] = (rss_kb() - r0) / 1024
    out["flat_bytes"] = flat.ntotal * DIM * 4
    assert describe(flat) == "flat"
    # Exact neighbours of every query, batched (that is not what is timed).
    _, exact = flat.search(queries, K_SEARCH)
    ms, _ = time_queries(flat, queries[:lat_queries], K_SEARCH)
    out["flat"] = pcts(ms, (50, 95))
    del flat
    gc.collect()

    # IVF: threshold 0 forces it; nlist = 4·√n and k-means on a sample, as the bot builds it.
    r0 = rss_kb()
    t = time.perf_counter()
    ivf = build_dense(vectors, threshold=0)
    out["ivf_build_s"] = time.perf_counter() - t
    out["ivf_rss_mb"] = (rss_kb() - r0) / 1024
    out["ivf_bytes"] = ivf_bytes(ivf)
    out["nlist"] = int(ivf.nlist)
    assert describe(ivf) == "ivf"
    out["ivf"] = {}
    for nprobe in NPROBES:
        if nprobe > ivf.nlist:
            continue
        ivf.nprobe = nprobe
        ms, found = time_queries(ivf, queries, K_SEARCH)
        out["ivf"][nprobe] = {**pcts(ms[:lat_queries], (50, 95)), "recall10": recall_at(found, exact, K_RECALL),
                              "recall50": recall_at(found, exact, K_SEARCH)}
    del ivf
    gc.collect()
    return out


# -- BM25 ----------------------------------------------------------------------------------------

def japanese_like_vocab(rng: np.random.Generator, size: int) -> np.ndarray:
    """`size` distinct 1–4-character words from kanji, hiragana and katakana."""
    kanji = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]
    kana = [chr(c) for c in range(0x3041, 0x3097)] + [chr(c) for c in range(0x30A1, 0x30FB)]
    alphabet = np.array(kanji + kana)
    words: set[str] = set()
    while len(words) < size:
        lengths = rng.integers(1, 5, size=size)
        chars = rng.integers(0, len(alphabet), size=(size, 4))
        for ln, row in zip(lengths, chars, strict=False):
            words.add("".join(alphabet[row[:ln]]))
            if len(words) >= size:
                break
    return np.array(sorted(words), dtype=object)


def zipf_p(size: int) -> np.ndarray:
    p = 1.0 / np.arange(1, size + 1) ** ZIPF_S
    return p / p.sum()


def bm25_case(n: int, rng: np.random.Generator, vocab: np.ndarray, n_queries: int) -> dict:
    from bot.store.lexical import LexicalIndex

    p = zipf_p(len(vocab))
    lengths = rng.integers(20, 111, size=n)  # mean ≈ 65 terms, like the seed corpus' passages
    ids = rng.choice(len(vocab), size=int(lengths.sum()), p=p)
    words = vocab[ids]
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    tokens = [words[bounds[i]:bounds[i + 1]].tolist() for i in range(n)]
    del ids, words
    gc.collect()
    r0 = rss_kb()
    t = time.perf_counter()
    lex = LexicalIndex.build(tokens)
    build_s = time.perf_counter() - t
    rss_mb = (rss_kb() - r0) / 1024
    del tokens
    gc.collect()
    nbytes = sum(v.nbytes for v in lex.bm25.scores.values() if isinstance(v, np.ndarray))

    qlen = rng.integers(3, 6, size=n_queries)
    queries = [vocab[rng.choice(len(vocab), size=m, p=p)].tolist() for m in qlen]
    score_ms, argsort_ms, argpart_ms = [], [], []
    for q in queries:
        t = time.perf_counter()
        s = lex.scores(q)
        t1 = time.perf_counter()
        top = [int(r) for r in np.argsort(-s)[:K_SEARCH] if s[r] > 0]  # what bot.retrieve.retrieval does
        t2 = time.perf_counter()
        part = np.argpartition(-s, K_SEARCH - 1)[:K_SEARCH] if len(s) > K_SEARCH else np.arange(len(s))
        part = part[np.argsort(-s[part])]
        t3 = time.perf_counter()
        score_ms.append((t1 - t) * 1000)
        argsort_ms.append((t2 - t1) * 1000)
        argpart_ms.append((t3 - t2) * 1000)
        assert {int(r) for r in part if s[r] > 0} <= set(range(n)) and len(top) <= K_SEARCH
    del lex
    gc.collect()
    return {"n": n, "build_s": build_s, "rss_mb": rss_mb, "bytes": nbytes, "tokens_mean": float(lengths.mean()),
            "scores": pcts(score_ms, (50, 95)), "argsort": pcts(argsort_ms, (50, 95)),
            "argpartition": pcts(argpart_ms, (50, 95))}


# -- report --------------------------------------------------------------------------------------

def min_nprobe(case: dict) -> int | None:
    for nprobe, m in sorted(case["ivf"].items()):
        if m["recall10"] >= TARGET_RECALL:
            return nprobe
    return None


def recommend(dense: list[dict]) -> None:
    """For each candidate threshold T (a measured size): the smallest nprobe whose worst recall
    over the structured vector kinds at every size ≥ T meets the target at k=10 and also at k=50
    (bot.retrieve.retrieval fuses the top 50), with the flat latency just below T it replaces."""
    structured = [c for c in dense if c["kind"] in ("clustered", "hierarchical")]
    sizes = sorted({c["n"] for c in structured})
    if not sizes:
        return
    probes = sorted({p for c in structured for p in c["ivf"]})
    rows = []
    for t in sizes:
        above = [c for c in structured if c["n"] >= t]
        chosen = {}
        for k in ("recall10", "recall50"):
            chosen[k] = next((p for p in probes if all(p in c["ivf"] and c["ivf"][p][k] >= TARGET_RECALL
                                                       for c in above)), None)
        p = chosen["recall50"]
        worst10 = min(c["ivf"][p]["recall10"] for c in above) if p else float("nan")
        worst50 = min(c["ivf"][p]["recall50"] for c in above) if p else float("nan")
        worst_ms = max(c["ivf"][p]["p95"] for c in above) if p else float("nan")
        flat_ms = max(c["flat"]["p50"] for c in structured if c["n"] == t)
        ivf_s = max(c["ivf_build_s"] for c in structured if c["n"] == t)
        none = f"none ≤ {probes[-1]}"
        rows.append([f"{t:,}", none if chosen["recall10"] is None else str(chosen["recall10"]),
                     none if p is None else str(p), fmt(worst10, 3), fmt(worst50, 3), fmt(worst_ms, 2),
                     f"{flat_ms:.2f}", f"{ivf_s:.1f}"])
    print("## Threshold candidates (structured vectors: clustered + hierarchical)\n")
    print(table(["threshold T", f"min nprobe, recall@10 ≥ {TARGET_RECALL} at all n ≥ T",
                 f"min nprobe, recall@10 and @50 ≥ {TARGET_RECALL}", "worst recall@10", "worst recall@50",
                 "worst IVF p95 ms (n ≥ T)", "flat p50 ms at T", "IVF build s at T (per index, every rebuild)"],
                rows))
    print()


def report(dense: list[dict], lexical: list[dict]) -> dict:
    mb = lambda b: b / 1e6  # noqa: E731
    print("## Dense: build, memory, flat latency\n")
    rows = []
    for c in dense:
        rows.append([f"{c['n']:,}", c["kind"], c["flat_build_s"], mb(c["flat_bytes"]), c["flat_rss_mb"],
                     c["flat"]["p50"], c["flat"]["p95"], c["nlist"], c["ivf_build_s"], mb(c["ivf_bytes"]),
                     c["ivf_rss_mb"]])
    print(table(["passages", "vectors", "flat build s", "flat MB", "flat RSS Δ MB", "flat p50 ms", "flat p95 ms",
                 "IVF nlist", "IVF build s", "IVF MB", "IVF RSS Δ MB"],
                [[r[0], r[1], f"{r[2]:.2f}", f"{r[3]:.0f}", f"{r[4]:.0f}", f"{r[5]:.2f}", f"{r[6]:.2f}", r[7],
                  f"{r[8]:.2f}", f"{r[9]:.0f}", f"{r[10]:.0f}"] for r in rows]))
    print()
    print(f"## Dense: IVF by nprobe — recall@{K_RECALL} vs exact / p50 ms / p95 ms "
          f"(k={K_SEARCH}, one query per call)\n")
    probes = sorted({p for c in dense for p in c["ivf"]})
    rows = []
    for c in dense:
        row = [f"{c['n']:,}", c["kind"], f"{c['flat']['p50']:.2f}"]
        for p in probes:
            m = c["ivf"].get(p)
            row.append("—" if m is None else f"{m['recall10']:.3f} / {m['p50']:.2f} / {m['p95']:.2f}")
        rows.append(row)
    print(table(["passages", "vectors", "flat p50 ms"] + [f"nprobe {p}" for p in probes], rows))
    print()
    print(f"## Smallest nprobe with recall@{K_RECALL} ≥ {TARGET_RECALL}\n")
    rows, summary = [], {}
    for c in dense:
        p = min_nprobe(c)
        m = c["ivf"].get(p) if p else None
        summary[f"{c['n']}-{c['kind']}"] = p
        rows.append([f"{c['n']:,}", c["kind"], "none ≤ 128" if p is None else str(p),
                     "—" if m is None else f"{m['recall10']:.3f}", "—" if m is None else f"{m['recall50']:.3f}",
                     "—" if m is None else f"{m['p50']:.2f}", f"{c['flat']['p50']:.2f}",
                     "—" if m is None else f"{c['flat']['p50'] / m['p50']:.1f}×"])
    print(table(["passages", "vectors", "nprobe", f"recall@{K_RECALL}", f"recall@{K_SEARCH}", "IVF p50 ms",
                 "flat p50 ms", "IVF speed-up"], rows))
    print()
    recommend(dense)
    if lexical:
        print("## Lexical (BM25, bm25s via bot.store.lexical): 3–5-token queries\n")
        print(table(["passages", "tokens/passage", "build s", "MB (CSC arrays)", "RSS Δ MB", "scores p50 ms",
                     "scores p95 ms", "argsort top-50 p50 ms", "argpartition top-50 p50 ms"],
                    [[f"{c['n']:,}", f"{c['tokens_mean']:.0f}", f"{c['build_s']:.2f}", f"{c['bytes'] / 1e6:.0f}",
                      f"{c['rss_mb']:.0f}", f"{c['scores']['p50']:.2f}", f"{c['scores']['p95']:.2f}",
                      f"{c['argsort']['p50']:.2f}", f"{c['argpartition']['p50']:.2f}"] for c in lexical]))
        print()
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10k and 100k only")
    ap.add_argument("--sizes", default=None, help="comma-separated passage counts (default 10k,100k,1M)")
    ap.add_argument("--queries", type=int, default=None, help="queries for recall (default 300, quick 100)")
    ap.add_argument("--latency-queries", type=int, default=None,
                    help="queries timed one by one (default 200, quick 100)")
    ap.add_argument("--kinds", default="random,clustered,hierarchical")
    ap.add_argument("--no-bm25", action="store_true")
    ap.add_argument("--vectors", default=None, metavar="FILE.npy",
                    help="real embeddings instead of synthetic ones (e.g. a large index's passage_vectors.npy): "
                         "held-out rows are the queries; dense only")
    ap.add_argument("--from-json", nargs="+", default=None, metavar="JSON",
                    help="print the tables of saved bench/results/scale-*.json runs (several: medians)")
    args = ap.parse_args()
    if args.from_json:
        import json

        runs = [json.loads(Path(f).read_text(encoding="utf-8")) for f in args.from_json]
        dense = [median_of_runs([c for r in runs for c in r["dense"] if (c["n"], c["kind"]) == key])
                 for key in dict.fromkeys((c["n"], c["kind"]) for c in runs[0]["dense"])]
        lexical = [median_of_runs([c for r in runs for c in r["lexical"] if c["n"] == n])
                   for n in [c["n"] for c in runs[0]["lexical"]]]
        for c in dense:
            c["ivf"] = {int(p): m for p, m in c["ivf"].items()}
        print(f"# bench.scale: median of {len(runs)} run(s) ({', '.join(r['machine']['date'] for r in runs)})\n")
        report(dense, lexical)
        return
    sizes = [int(float(s)) for s in
             (args.sizes or ("10000,100000" if args.quick else "10000,100000,300000,1000000")).split(",")]
    n_queries = args.queries or (100 if args.quick else 300)
    lat_queries = min(n_queries, args.latency_queries or (100 if args.quick else 200))
    kinds = [k for k in args.kinds.split(",") if k]

    import faiss

    info = machine()
    header("bench.scale", info)
    print(f"faiss {faiss.__version__} ({faiss.omp_get_max_threads()} OpenMP threads), dim {DIM}, "
          f"{'vectors from ' + args.vectors if args.vectors else f'sizes {sizes}'}, "
          f"{n_queries} queries for recall, {lat_queries} timed one per call; "
          f"current bot.store.dense: APPROX_THRESHOLD={__import__('bot.store.dense').dense.APPROX_THRESHOLD}, "
          f"IVF_NPROBE={__import__('bot.store.dense').dense.IVF_NPROBE}\n", flush=True)
    t0 = time.perf_counter()
    if args.vectors:
        data = np.load(args.vectors, mmap_mode="r")
        order = np.random.default_rng(1234).permutation(len(data))
        queries = _normalise(np.array(data[np.sort(order[:n_queries])], dtype=np.float32))
        vectors = _normalise(np.array(data[np.sort(order[n_queries:])], dtype=np.float32))
        case = dense_case(len(vectors), f"file:{Path(args.vectors).name}", vectors, queries, lat_queries)
        print()
        report([case], [])
        path = save_results("scale", {"machine": info, "args": vars(args), "dense": [case], "lexical": []})
        print(f"raw results: {path.relative_to(path.parents[2])}")
        return
    rng = np.random.default_rng(1234)
    mixture = Mixture(rng)
    hierarchy = Hierarchy(rng)
    dense, lexical = [], []
    for n in sizes:
        need_kb = n * DIM * 4 * 3.2 / 1024  # vectors + one index + sample and slack
        if mem_available_kb() < need_kb:
            print(f"skipping {n:,}: needs ~{need_kb / 1e6:.1f} GB, {mem_available_kb() / 1e6:.1f} GB available")
            continue
        for kind in kinds:
            t = time.perf_counter()
            if kind == "random":
                vectors, queries = random_vectors(rng, n), random_vectors(rng, n_queries)
            else:
                gen = mixture if kind == "clustered" else hierarchy
                vectors, queries = gen.sample(rng, n), gen.sample(rng, n_queries)
            case = dense_case(n, kind, vectors, queries, lat_queries)
            del vectors
            gc.collect()
            best = min_nprobe(case)
            print(f"{n:>9,} {kind:<9} flat p50 {case['flat']['p50']:.2f} ms, IVF build {case['ivf_build_s']:.1f} s, "
                  f"nprobe for recall@10≥{TARGET_RECALL}: {best} "
                  f"({time.perf_counter() - t:.0f} s, load avg {loadavg()})",
                  flush=True)
            dense.append(case)
        if not args.no_bm25:
            t = time.perf_counter()
            vocab = japanese_like_vocab(np.random.default_rng(7), VOCAB)
            case = bm25_case(n, rng, vocab, 200)
            print(f"{n:>9,} BM25      build {case['build_s']:.1f} s, scores p50 {case['scores']['p50']:.2f} ms, "
                  f"argsort p50 {case['argsort']['p50']:.2f} ms ({time.perf_counter() - t:.0f} s)", flush=True)
            lexical.append(case)
    print()
    summary = report(dense, lexical)
    info["loadavg_end"] = loadavg()
    info["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"load average at end {info['loadavg_end']}; total {info['seconds']} s; pid {os.getpid()}")
    path = save_results("scale", {"machine": info, "args": vars(args), "dense": dense, "lexical": lexical,
                                  "min_nprobe": summary})
    print(f"raw results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
