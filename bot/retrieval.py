"""Hybrid retrieval: dense search and BM25 fused by reciprocal rank fusion.

BM25 is fused only when the question contains Japanese script: the corpus is Japanese, so for an
English question its tokens match almost nothing and BM25's ranking is noise that drags good dense
hits down (measured on dev: see bot/README or the issue note).
"""

from dataclasses import dataclass

import numpy as np

from bot.dense import search as dense_search
from bot.index import SearchIndex

RRF_K = 60
DEPTH = 50


@dataclass(frozen=True)
class Hit:
    row: int  # passage row in the index
    score: float  # fused
    dense: float | None
    lexical: float | None


def retrieve(index: SearchIndex, qvec: np.ndarray, qtokens: list[str], use_lexical: bool,
             k: int, depth: int = DEPTH) -> list[Hit]:
    n = len(index.passages)
    if n == 0:
        return []
    depth = min(depth, n)
    scores, ids = dense_search(index.dense, qvec[None, :], depth)
    dense = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
    fused: dict[int, float] = {}
    for rank, row in enumerate(dense):
        fused[row] = 1.0 / (RRF_K + rank + 1)
    lexical: dict[int, float] = {}
    if use_lexical and qtokens:
        bm = index.lexical.scores(qtokens)
        top = np.argsort(-bm)[:depth]
        for rank, row in enumerate(int(r) for r in top):
            if bm[row] <= 0:
                break
            lexical[row] = float(bm[row])
            fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
    if use_lexical:
        # Rows found only by BM25 still need a dense score for the answer layer.
        missing = [r for r in fused if r not in dense]
        if missing:
            sims = index.passage_vectors[missing] @ qvec
            dense.update({r: float(s) for r, s in zip(missing, sims)})
    order = sorted(fused, key=lambda r: (-fused[r], -dense.get(r, 0.0)))[:k]
    return [Hit(r, fused[r], dense.get(r), lexical.get(r, 0.0 if use_lexical else None)) for r in order]
