"""Hybrid retrieval: ranked lists fused by reciprocal rank fusion (RRF).

Three lists: passages by dense similarity, passages by their best *sentence's* dense similarity
(an answering sentence is often diluted in a passage about something else), and BM25 over
Japanese tokens. BM25 is fused only when the question contains Japanese script: the corpus is
Japanese, so an English question's tokens match almost nothing and BM25's ranking is noise that
drags good dense hits down (figures in bot/README.md).
"""

from dataclasses import dataclass

import numpy as np

from bot.store.dense import search as dense_search
from bot.store.index import SearchIndex

RRF_K = 60
DEPTH = 50
SENTENCE_DEPTH_FACTOR = 4


@dataclass(frozen=True)
class Hit:
    row: int  # passage row in the index
    score: float  # fused
    dense: float  # passage cosine to the query
    lexical: float | None  # BM25, None when BM25 was not used


def _rrf(fused: dict[int, float], ranked: list[int]) -> None:
    for rank, row in enumerate(ranked):
        fused[row] = fused.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)


def retrieve(index: SearchIndex, qvec: np.ndarray, qtokens: list[str], use_lexical: bool,
             k: int, depth: int = DEPTH) -> list[Hit]:
    n = len(index.passages)
    if n == 0:
        return []
    depth = min(depth, n)
    q = qvec[None, :]
    fused: dict[int, float] = {}

    scores, ids = dense_search(index.dense, q, depth)
    dense = {int(i): float(s) for i, s in zip(ids[0], scores[0]) if i >= 0}
    _rrf(fused, list(dense))

    s_scores, s_ids = dense_search(index.dense_sentences, q, depth * SENTENCE_DEPTH_FACTOR)
    by_sentence: list[int] = []
    for i in s_ids[0]:
        if i >= 0:
            row = int(index.sentence_passage[i])
            if row not in by_sentence:
                by_sentence.append(row)
    _rrf(fused, by_sentence[:depth])

    lexical: dict[int, float] = {}
    if use_lexical and qtokens:
        bm = index.lexical.scores(qtokens)
        # A partial sort: at 1M passages a full argsort costs ~77 ms, this ~10 ms (bench/scale).
        cand = np.argpartition(-bm, depth - 1)[:depth] if len(bm) > depth else np.arange(len(bm))
        cand = cand[np.lexsort((cand, -bm[cand]))]  # score descending, then row: deterministic
        top = [int(r) for r in cand if bm[r] > 0]
        lexical = {r: float(bm[r]) for r in top}
        _rrf(fused, top)

    missing = [r for r in fused if r not in dense]
    if missing:  # found by another list only: the answer layer still needs its cosine
        dense.update(zip(missing, (index.passage_vectors[missing] @ qvec).tolist()))
    order = sorted(fused, key=lambda r: (-fused[r], -dense[r]))[:k]
    return [Hit(r, fused[r], dense[r], lexical.get(r, 0.0) if use_lexical else None) for r in order]
