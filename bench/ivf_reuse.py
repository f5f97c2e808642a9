"""IVF centroid reuse on incremental builds: build time and recall, reused vs retrained.

An incremental build with the same model may keep the previous version's k-means centroids
(`bot.store.dense.build_dense(..., centroids=...)`) instead of training again. This measures, on
synthetic 384-dim vectors (bench.scale's hierarchical mixture, 100 topics × 100 subtopics), what
that saves and what it costs when the corpus grows:

- the previous version holds n vectors from topics 0–89 only; its centroids are trained on them;
- the new version adds g·n vectors, either from the same topics (edits, more of the same) or from
  topics 90–99 that the centroids never saw (new subject matter: the worst case);
- both indexes are built on the same n·(1+g) vectors, reuse forced; recall@10 / @50 against exact
  search for 300 queries (half like the old rows, half like the added ones); build time (retrain
  = k-means + add, reuse = add only); and what `build_dense`'s checks (size, fit of the fresh
  rows) decide for that case.

    .venv/bin/python -m bench.ivf_reuse [--sizes 100000,300000,1000000] [--growth 0.01,0.1,0.5,1.25]
"""

from __future__ import annotations

import argparse
import gc
import time

import numpy as np

from bench.common import header, loadavg, machine, offline, save_results, table
from bench.scale import DIM, Hierarchy, _normalise, recall_at

offline()

N_QUERIES = 300


def sample(h: Hierarchy, rng: np.random.Generator, n: int, topics: range, per_topic: int = 100) -> np.ndarray:
    x = np.empty((n, DIM), np.float32)
    scale = np.float32(h.sigma / np.sqrt(DIM))
    choices = np.concatenate([np.arange(t * per_topic, (t + 1) * per_topic) for t in topics])
    for i in range(0, n, 100_000):
        m = min(100_000, n - i)
        part = rng.standard_normal((m, DIM), dtype=np.float32)
        part *= scale
        part += h.centres[rng.choice(choices, size=m)]
        x[i:i + m] = part
    return _normalise(x)


def case(n: int, growth: float, kind: str, h: Hierarchy, base: np.ndarray, centroids: np.ndarray,
         seed: int) -> dict:
    import faiss

    from bot.store import dense

    rng = np.random.default_rng(seed)
    extra = max(1, int(n * growth))
    topics = range(0, 90) if kind == "same topics" else range(90, 100)
    vectors = np.concatenate([base, sample(h, rng, extra, topics)])
    fresh = np.zeros(len(vectors), bool)
    fresh[n:] = True
    half = N_QUERIES // 2
    queries = np.concatenate([sample(h, rng, half, range(0, 90)), sample(h, rng, half, topics)])
    flat = faiss.IndexFlatIP(DIM)
    flat.add(vectors)
    _, exact = flat.search(queries, 50)
    del flat
    gc.collect()

    out = {"n": n, "growth": growth, "kind": kind, "total": len(vectors), "nlist_trained": len(centroids),
           "nlist_new": dense.nlist_for(len(vectors)),
           "build_reuses": bool(dense.reusable(centroids, len(vectors), DIM)
                                and dense.fits(centroids, vectors, fresh))}
    for mode in ("retrain", "reuse"):
        ratio = dense.REUSE_NLIST_RATIO
        dense.REUSE_NLIST_RATIO = 1e9  # force reuse whatever the size: the recall is what we measure
        t = time.perf_counter()
        index = dense.build_dense(vectors, threshold=0, centroids=centroids if mode == "reuse" else None)
        out[f"{mode}_s"] = time.perf_counter() - t
        dense.REUSE_NLIST_RATIO = ratio
        if mode == "reuse":
            assert np.array_equal(dense.centroids_of_index(index), centroids)
        _, found = index.search(queries, 50)
        out[f"{mode}_r10"] = recall_at(found, exact, 10)
        out[f"{mode}_r50"] = recall_at(found, exact, 50)
        out[f"{mode}_r10_added"] = recall_at(found[half:], exact[half:], 10)
        del index
        gc.collect()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--growth", default="0.01,0.1,0.5,1.25")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    growths = [float(g) for g in args.growth.split(",")]

    info = machine()
    header("bench.ivf_reuse", info)
    from bot.store.dense import build_dense, centroids_of_index

    rows, results = [], []
    t0 = time.perf_counter()
    for n in sizes:
        rng = np.random.default_rng(n)
        h = Hierarchy(rng)
        base = sample(h, rng, n, range(0, 90))
        t = time.perf_counter()
        centroids = centroids_of_index(build_dense(base, threshold=0))
        train_s = time.perf_counter() - t
        print(f"n={n:,}: previous version trained in {train_s:.1f} s (nlist {len(centroids)})", flush=True)
        for g in growths:
            for kind in ("same topics", "new topics"):
                r = case(n, g, kind, h, base, centroids, seed=int(n * (1 + g)) + len(kind))
                results.append(r)
                rows.append([f"{n:,}", f"+{g:.0%} {kind}", f"{r['nlist_trained']} → {r['nlist_new']}",
                             "reuse" if r["build_reuses"] else "retrain",
                             f"{r['retrain_s']:.1f}", f"{r['reuse_s']:.1f}",
                             f"{r['retrain_r10']:.3f} / {r['reuse_r10']:.3f}",
                             f"{r['retrain_r50']:.3f} / {r['reuse_r50']:.3f}",
                             f"{r['retrain_r10_added']:.3f} / {r['reuse_r10_added']:.3f}"])
                print("  " + " | ".join(str(c) for c in rows[-1][1:]), flush=True)
        del base
        gc.collect()
    print()
    print(table(["vectors before", "added", "nlist trained → wanted", "the build decides",
                 "retrain s", "reuse s", "recall@10 retrain / reuse", "recall@50 retrain / reuse",
                 "recall@10, queries like the added rows"], rows))
    print(f"\nload average at end {loadavg()}; total {time.perf_counter() - t0:.0f} s")
    path = save_results("ivf_reuse", {"machine": info, "args": vars(args), "results": results})
    print(f"raw results: {path.relative_to(path.parents[2])}")


if __name__ == "__main__":
    main()
