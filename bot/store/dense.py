"""The dense side: FAISS inner product over L2-normalised vectors (= cosine).

Below `APPROX_THRESHOLD` vectors an exact flat index is both fast and exact. Above it an IVF index
keeps search cost sub-linear; `bench/scale` measured the threshold and the `nprobe` that keeps
recall@10 ≥ 0.95 against exact search (see bench/README.md).
"""

from pathlib import Path

import faiss
import numpy as np

APPROX_THRESHOLD = 100_000
IVF_NPROBE = 16


def build_dense(vectors: np.ndarray, threshold: int = APPROX_THRESHOLD) -> faiss.Index:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if n < threshold:
        index = faiss.IndexFlatIP(dim)
    else:
        nlist = int(4 * np.sqrt(n))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        # k-means on a sample: training on every vector costs minutes and gains nothing.
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(n, size=min(n, nlist * 64), replace=False)]
        index.train(sample)
        index.nprobe = IVF_NPROBE
    index.add(vectors)
    return index


def describe(index: faiss.Index) -> str:
    return "ivf" if isinstance(index, faiss.IndexIVF) else "flat"


def save_dense(index: faiss.Index, path: Path) -> None:
    faiss.write_index(index, str(path))


def load_dense(path: Path) -> faiss.Index:
    index = faiss.read_index(str(path))
    if isinstance(index, faiss.IndexIVF):
        index.nprobe = IVF_NPROBE
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    k = max(1, min(k, index.ntotal))
    scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return scores, ids
