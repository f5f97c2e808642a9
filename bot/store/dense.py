"""The dense side: FAISS inner product over L2-normalised vectors (= cosine).

Below `APPROX_THRESHOLD` vectors an exact flat index is both fast and exact. Above it an IVF index
keeps search cost sub-linear; `bench/scale` measures the threshold and the `nprobe` that keeps
recall@10 ≥ 0.95 against exact search (docs/design/retrieval.md, "Dense search at scale").
"""

from pathlib import Path

import faiss
import numpy as np

APPROX_THRESHOLD = 100_000
IVF_NPROBE = 16
# Centroid reuse on incremental builds (bench/ivf_reuse.py measures recall against retraining).
REUSE_NLIST_RATIO = 1.5
REUSE_MAX_POOR_FIT = 0.05
REUSE_FIT_SAMPLE = 4000


def nlist_for(n: int) -> int:
    return int(4 * np.sqrt(n))


def build_dense(vectors: np.ndarray, threshold: int | None = None,
                centroids: np.ndarray | None = None, fresh: np.ndarray | None = None) -> faiss.Index:
    """Flat below `threshold` (default APPROX_THRESHOLD), IVF above. `centroids` (the previous
    version's, same model) skip k-means when they still suit the corpus: its size (`reusable`)
    and the rows marked `fresh` (embedded in this build), which must fit them as well as the
    others do (`fits`)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    index: faiss.Index
    if n < (APPROX_THRESHOLD if threshold is None else threshold):
        index = faiss.IndexFlatIP(dim)
    elif centroids is not None and reusable(centroids, n, dim) and fits(centroids, vectors, fresh):
        quantizer = faiss.IndexFlatIP(dim)
        quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))
        index = faiss.IndexIVFFlat(quantizer, dim, len(centroids), faiss.METRIC_INNER_PRODUCT)
        index.is_trained = True  # the quantizer holds trained centroids: nothing else to train
        index.nprobe = IVF_NPROBE
    else:
        nlist = nlist_for(n)
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        # k-means on a sample: training on every vector costs minutes and gains nothing.
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
        index.train(sample)
        index.nprobe = IVF_NPROBE
    index.add(vectors)
    return index


def reusable(centroids: np.ndarray, n: int, dim: int) -> bool:
    """Trained centroids serve a corpus whose own nlist would be within REUSE_NLIST_RATIO of
    theirs, i.e. one that grew or shrank at most REUSE_NLIST_RATIO² times since training."""
    if centroids.ndim != 2 or centroids.shape[1] != dim or not len(centroids):
        return False
    ratio = nlist_for(n) / len(centroids)
    return 1 / REUSE_NLIST_RATIO <= ratio <= REUSE_NLIST_RATIO


def fits(centroids: np.ndarray, vectors: np.ndarray, fresh: np.ndarray | None) -> bool:
    """New content about something the centroids never saw lands far from all of them, spread
    over lists its neighbours are not in (recall falls: bench/ivf_reuse.py). Fresh rows fit when
    at most REUSE_MAX_POOR_FIT of them are farther from their nearest centroid than the 1st
    percentile of the kept rows (few same-topic additions are, nearly all new-topic ones;
    docs/results.md, "IVF centroid reuse")."""
    if fresh is None or not fresh.any():
        return True
    if fresh.all():
        return False
    rng = np.random.default_rng(0)
    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(np.ascontiguousarray(centroids, dtype=np.float32))

    def nearest(rows: np.ndarray) -> np.ndarray:
        rows = rows[rng.choice(len(rows), size=min(len(rows), REUSE_FIT_SAMPLE), replace=False)]
        return quantizer.search(np.ascontiguousarray(rows), 1)[0][:, 0]

    floor = np.quantile(nearest(vectors[~fresh]), 0.01)
    return float(np.mean(nearest(vectors[fresh]) < floor)) <= REUSE_MAX_POOR_FIT


def centroids_of(path: Path) -> np.ndarray | None:
    """The IVF centroids stored in a saved index (memory-mapped: the lists are not read), or None
    for a flat or unreadable one."""
    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except (RuntimeError, OSError):
        return None
    return centroids_of_index(index)


def centroids_of_index(index: faiss.Index) -> np.ndarray | None:
    if not isinstance(index, faiss.IndexIVF):
        return None
    ivf = faiss.extract_index_ivf(index)
    return ivf.quantizer.reconstruct_n(0, ivf.nlist)


def describe(index: faiss.Index) -> str:
    return "ivf" if isinstance(index, faiss.IndexIVF) else "flat"


def save_dense(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_dense(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = IVF_NPROBE
    return index


def search(index: faiss.Index | None, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ids (-1 where nothing was found), `k` columns at most, one at least; `index` is
    None for an index without passages."""
    if index is None:
        return np.full((len(queries), 1), -np.inf, np.float32), np.full((len(queries), 1), -1, np.int64)
    k = max(1, min(k, index.ntotal))
    scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return scores, ids
