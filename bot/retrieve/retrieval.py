"""Hybrid retrieval: ranked lists fused by reciprocal rank fusion (RRF).

Three lists: passages by dense similarity, passages by their best *sentence's* dense similarity
(an answering sentence is often diluted in a passage about something else), and BM25 over
Japanese tokens. BM25 is fused only when the question contains Japanese script: the corpus is
Japanese, so an English question's tokens match almost nothing and BM25's ranking is noise that
drags good dense hits down (docs/design/retrieval.md).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot import fitted
from bot.store.dense import search as dense_search
from bot.store.index import SearchIndex

DEPTH = 50
SENTENCE_DEPTH_FACTOR = 4
# The lists' weights and the RRF constant are fitted on the JSQuAD benchmark (fit/fit_fusion.py).
FUSION_FILE = Path(__file__).with_name("fusion.json")
FUSION_FORMAT = 1
# What a fusion may weigh: the ranked lists (RRF) or the candidates' scores (linear; `SCORES`),
# and the follow-up's current document.
FEATURES = ("passage", "sentence", "sentence2", "bm25", "topic")


@dataclass(frozen=True)
class Hit:
    row: int  # passage row in the index
    score: float  # fused
    dense: float  # passage cosine to the query
    lexical: float | None  # BM25, None when BM25 was not used


@dataclass(frozen=True)
class Fusion:
    weights: dict[str, float]
    rrf_k: float = 60.0
    # "rrf": weighted reciprocal ranks; "linear": a weighted sum of the `SCORES` of each passage in
    # the union of the lists.
    method: str = "rrf"


@dataclass(frozen=True)
class Fusions:
    """The fitted fusion of each question language: Japanese questions' at the top of
    fusion.json, another language's under "languages" when it has its own (English questions
    search with dictionary terms, whose BM25 is noisier than Japanese words)."""
    default: Fusion
    languages: dict[str, Fusion]

    def of(self, lang: str) -> Fusion:
        return self.languages.get(lang, self.default)

    @classmethod
    def load(cls, path: Path = FUSION_FILE) -> "Fusions":
        """The fusions in `path` (FittedFileError when it weighs lists the code does not make)."""
        data = fitted.read(path, FUSION_FORMAT, FEATURES)
        return cls(_fusion(data, path, "the fusion"),
                   {lang: _fusion(d, path, f"the {lang} fusion") for lang, d in data.get("languages", {}).items()})


def _fusion(data: dict, path: Path, what: str) -> Fusion:
    raw, method = data.get("weights"), data.get("method", "rrf")
    weights: dict[str, float] = raw if isinstance(raw, dict) else {}
    fitted.require(method in ("rrf", "linear"), path, f"{what} has method {method!r}, not rrf or linear")
    fitted.require(isinstance(raw, dict) and set(weights) <= set(FEATURES), path,
                   f"{what} weighs {sorted(set(weights) - set(FEATURES))}, which are not among its features")
    return Fusion(weights=weights, rrf_k=float(data.get("rrf_k", 60)), method=method)


@dataclass
class Lists:
    """The ranked lists before fusion, with the scores the answer layer needs."""
    ranked: dict[str, list[int]]
    dense: dict[int, float]
    lexical: dict[int, float]
    bm25: np.ndarray | None = None  # every passage's BM25 score, when BM25 was used


# The candidates' scores a linear fusion weighs, in column order (bot/retrieve/fusion.json).
SCORES = ("passage", "sentence", "sentence2", "bm25")


def score_features(index: SearchIndex, lists: Lists, qvec: np.ndarray, rows: list[int]) -> np.ndarray:
    """Per candidate passage (columns as `SCORES`): its cosine, its best and second-best sentences'
    cosines (a one-sentence passage's best counts twice: a passage whose best sentence stands out
    from the rest is likelier to hold the answer than one that is uniformly close), and its BM25
    score relative to the best BM25 score of the query (0 without BM25)."""
    out = np.zeros((len(rows), len(SCORES)), dtype=np.float32)
    if not rows:
        return out
    out[:, 0] = index.passage_vectors[rows] @ qvec
    for i, r in enumerate(rows):
        vr = index.sentence_rows[r]
        if len(vr):
            cos = index.sentence_vectors[vr.start:vr.stop] @ qvec
            if len(cos) > 1:
                second, best = np.partition(cos, len(cos) - 2)[-2:]
                out[i, 1], out[i, 2] = best, second
            else:
                out[i, 1] = out[i, 2] = cos[0]
    if lists.bm25 is not None and lists.bm25.size and lists.bm25.max() > 0:
        out[:, 3] = lists.bm25[rows] / lists.bm25.max()
    return out


def ranked_lists(index: SearchIndex, qvec: np.ndarray, qtokens: list[str], use_lexical: bool,
                 depth: int = DEPTH) -> Lists:
    depth = min(depth, len(index.passages))
    q = qvec[None, :]
    scores, ids = dense_search(index.dense, q, depth)
    dense = {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}

    s_scores, s_ids = dense_search(index.dense_sentences, q, depth * SENTENCE_DEPTH_FACTOR)
    by_sentence: list[int] = []
    for i in s_ids[0]:
        if i >= 0:
            row = int(index.sentence_passage[i])
            if row not in by_sentence:
                by_sentence.append(row)
    ranked = {"passage": list(dense), "sentence": by_sentence[:depth]}

    lexical: dict[int, float] = {}
    if use_lexical and qtokens:
        bm = index.lexical.scores(qtokens)
        # A partial sort: at 1M passages a full argsort costs ~77 ms, this ~10 ms (bench/scale).
        cand = np.argpartition(-bm, depth - 1)[:depth] if len(bm) > depth else np.arange(len(bm))
        cand = cand[np.lexsort((cand, -bm[cand]))]  # score descending, then row: deterministic
        top = [int(r) for r in cand if bm[r] > 0]
        lexical = {r: float(bm[r]) for r in top}
        ranked["bm25"] = top
        return Lists(ranked, dense, lexical, bm)
    return Lists(ranked, dense, lexical)


def fuse_linear(index: SearchIndex, lists: Lists, qvec: np.ndarray, f: Fusion,
                topic_doc: str | None = None) -> dict[int, float]:
    """Weighted sum of the candidates' scores (features in `score_features`); a follow-up's
    current document gets the `topic` weight on top."""
    rows = list(dict.fromkeys(r for name in ("passage", "sentence", "bm25") for r in lists.ranked.get(name, ())))
    w = np.array([f.weights.get(name, 0.0) for name in SCORES], dtype=np.float32)
    scores = score_features(index, lists, qvec, rows) @ w
    if topic_doc is not None:
        scores += f.weights.get("topic", 0.0) * np.array([index.passages[r].doc_id == topic_doc for r in rows])
    return dict(zip(rows, scores.tolist(), strict=True))


def fuse(ranked: dict[str, list[int]], f: Fusion) -> dict[int, float]:
    """Weighted reciprocal rank fusion."""
    fused: dict[int, float] = {}
    for name, rows in ranked.items():
        w = f.weights.get(name, 0.0)
        if w:
            for rank, row in enumerate(rows):
                fused[row] = fused.get(row, 0.0) + w / (f.rrf_k + rank + 1)
    return fused


def topic_list(index: SearchIndex, ranked: dict[str, list[int]], doc_id: str) -> list[int]:
    """The passages of the conversation's current document, in the order the other lists found them:
    a follow-up is most likely about the document the previous answer came from."""
    rows = dict.fromkeys(r for name in ("sentence", "passage") for r in ranked.get(name, ()))
    return [r for r in rows if index.passages[r].doc_id == doc_id]


def retrieve(index: SearchIndex, qvec: np.ndarray, qtokens: list[str], use_lexical: bool,
             k: int, f: Fusion, depth: int = DEPTH, topic_doc: str | None = None) -> list[Hit]:
    if len(index.passages) == 0:
        return []
    lists = ranked_lists(index, qvec, qtokens, use_lexical, depth)
    if f.method == "linear":
        fused = fuse_linear(index, lists, qvec, f, topic_doc)
    else:
        if topic_doc is not None:
            lists.ranked["topic"] = topic_list(index, lists.ranked, topic_doc)
        fused = fuse(lists.ranked, f)
    dense = lists.dense
    missing = [r for r in fused if r not in dense]
    if missing:  # found by another list only: the answer layer still needs its cosine
        dense.update(zip(missing, (index.passage_vectors[missing] @ qvec).tolist(), strict=True))
    order = sorted(fused, key=lambda r: (-fused[r], -dense[r]))[:k]
    return [Hit(r, fused[r], dense[r], lists.lexical.get(r, 0.0) if use_lexical else None) for r in order]
