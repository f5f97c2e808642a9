"""Which retrieved sentences to quote: a ranker fitted on JSQuAD over the candidate sentences.

`sentences.score_sentences` orders candidates by a fixed mix of the sentence's cosine, its
passage's cosine and the question's content words it contains. That mix puts the sentence holding
the answer first for about 82 % of JSQuAD questions; the misses are mostly of a few kinds, looked
at by hand:

- the answer sits in the sentence *after* the one that restates the question (「拍の周期の長短に
  よって、音楽の速度を感じる。これをテンポという。」): the question's words are in the previous
  sentence, the answer in a short one that opens with a demonstrative;
- the best-matching sentence has no phrase of the kind asked for (a person, a year, a number)
  while a neighbour does;
- a passage ranked lower by retrieval holds the answer.

The ranker is a conditional logit (a softmax over one question's candidates) over features that
describe exactly these: the sentence's own match, its neighbours' match, whether it has a word of
the asked-for kind (a person's name, a year, a number with the asked counter; `type_match`), its
passage's retrieval rank and its position. Its probabilities are calibrated (cross-validated by article), so the number
of sentences quoted follows from them: runners-up are added until the quoted sentences hold the
answer with probability `confidence`, at most `limit`. The weights and the confidence level live in
choice.json, written by fit/fit_choice.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot import fitted
from bot.answer import phrase
from bot.answer.sentences import SECTION_WEIGHT, ScoredSentence, coverage
from bot.ingest.passages import is_heading
from bot.query import analysis
from bot.retrieve.retrieval import Hit
from bot.store.index import SearchIndex

_KATAKANA = re.compile(r"[\u30a0-\u30ffー]{2,}")

MODEL_FILE = Path(__file__).with_name("choice.json")
FORMAT_VERSION = 1
REDUNDANT_COSINE = 0.96

FEATURES = (
    "sim", "sim_gap", "passage_sim", "coverage", "coverage_gap", "score_gap",
    "prev_sim", "prev_coverage", "next_sim", "next_coverage", "context_coverage",
    "hit_rank", "fused_gap", "first_in_passage", "log_chars", "heading", "prev_score_gap",
    "type_match", "type_gap", "novelty",
)


@dataclass(frozen=True)
class ChoiceModel:
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    confidence: float

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> ChoiceModel:
        """The fitted ranker in `path` (FittedFileError when it was fitted for other features)."""
        data = fitted.read(path, FORMAT_VERSION, FEATURES)
        model = cls(np.asarray(data["mean"], dtype=float), np.asarray(data["scale"], dtype=float),
                    np.asarray(data["weights"], dtype=float), float(data["confidence"]))
        fitted.require(model.mean.shape == model.scale.shape == model.weights.shape == (len(FEATURES),),
                       path, f"mean, scale and weights need one number per feature ({len(FEATURES)})")
        fitted.require(0 < model.confidence <= 1, path, "confidence must lie in (0, 1]")
        return model


@dataclass(frozen=True)
class Profile:
    """What kinds of answer phrase a sentence has, as (normalised form, surface) pairs: read once
    from its morphemes and cached, then matched against each question cheaply."""
    numbers: tuple[tuple[str, str], ...]  # numerals
    times: tuple[tuple[str, str], ...]  # numerals followed by a calendar unit
    counted: tuple[tuple[str, str, str, str], ...]  # numeral norm/surface, counter norm/surface
    persons: tuple[tuple[str, str], ...]
    places: tuple[tuple[str, str], ...]
    propers: tuple[tuple[str, str], ...]
    named: bool  # a quoted term, or 〜と呼ぶ / 〜という


def profile(toks: list[analysis.Tok]) -> Profile:
    pair = lambda t: (t.norm, t.surface)  # noqa: E731
    numbers, times, counted = [], [], []
    for k, t in enumerate(toks):
        if t.pos[1] != "数詞":
            continue
        numbers.append(pair(t))
        nxt = toks[k + 1] if k + 1 < len(toks) else None
        if nxt is not None:
            counted.append((t.norm, t.surface, nxt.norm, nxt.surface))
            if nxt.norm in analysis.TIME_UNITS or nxt.surface in analysis.TIME_UNITS:
                times.append(pair(t))
    named = any(t.surface in phrase._OPEN for t in toks) or any(
        t.surface == "と" and any(u.norm in phrase._NAMING for u in toks[k + 1:k + 4]) for k, t in enumerate(toks))
    # A katakana word before a person's title is a person Sudachi does not know (シリントン王女).
    titled = [t for t, nxt in zip(toks, toks[1:], strict=False)
              if _KATAKANA.fullmatch(t.surface) and nxt.surface in phrase.PERSON_SUFFIX]
    return Profile(tuple(numbers), tuple(times), tuple(counted),
                   tuple(pair(t) for t in toks if "人名" in t.pos) + tuple(pair(t) for t in titled),
                   tuple(pair(t) for t in toks if "地名" in t.pos),
                   tuple(pair(t) for t in toks if t.pos[1] == "固有名詞"), named)


def type_match(p: Profile, q: analysis.QuestionInfo) -> float:
    """Whether the sentence has a word of the kind the question asks for that the question does not
    already contain: a number with a calendar unit for "time", a number (with the asked counter when
    there is one) for "number", Sudachi's person / place names, a proper noun for "org", a quoted
    or named term (「…」, …と呼ぶ / …という) for "name" and "thing"."""
    fresh = lambda pairs: any(n not in q.terms and s not in q.surfaces for n, s in pairs)  # noqa: E731
    t = q.qtype
    if t == "time":
        return float(fresh(p.times))
    if t == "number":
        if q.counter:
            forms = phrase.counter_forms(q.counter)
            return float(fresh((n, s) for n, s, cn, cs in p.counted if cn in forms or cs in forms))
        return float(fresh(p.numbers))
    if t == "person":
        return float(fresh(p.persons))
    if t == "place":
        return float(fresh(p.places))
    if t == "org":
        return float(fresh(p.propers))
    return float(p.named)


# How many of the fixed mix's first sentences are searched for a phrase of the asked-for type
# (refusal evidence: 「万博で誰が話しましたか？」 is answerable because a retrieved sentence names people).
SUPPORT_TOP = 5
# Kinds a page's headings state as often as its prose: a date or a length in a title
# (「みお」(88秒)). A heading's names are the page's topic, not an answer.
HEADED_TYPES = ("number", "time")


def type_support(index: SearchIndex, scored: list[ScoredSentence], q_info: analysis.QuestionInfo | None,
                 sentence_profile: Callable[[int, str], Profile]) -> float:
    """1 when one of the first sentences has a word of the kind the question asks for (or the
    question asks for no particular kind), else 0."""
    if q_info is None or q_info.qtype not in analysis.TYPES:
        return 1.0
    top = scored[:SUPPORT_TOP]
    found = max((type_match(sentence_profile(s.vector_row, _text(index, s)), q_info) for s in top), default=0.0)
    if found or q_info.qtype not in HEADED_TYPES:
        return found
    sections = {s.passage_row: index.passages[s.passage_row].section for s in top}
    return max((type_match(sentence_profile(-1 - row, text), q_info) for row, text in sections.items() if text),
               default=0.0)


def features(index: SearchIndex, scored: list[ScoredSentence], hits: list[Hit], qvec: np.ndarray,
             q_terms: dict[str, float], sentence_terms: Callable[[int, str], set[str]],
             q_info: analysis.QuestionInfo | None, sentence_profile: Callable[[int, str], Profile]
             ) -> np.ndarray:
    """One row of FEATURES per candidate sentence (`scored` in the fixed mix's order);
    `sentence_terms` / `sentence_profile` give a sentence's content terms / `profile` (cached)."""
    n = len(scored)
    X = np.zeros((n, len(FEATURES)))
    if not n:
        return X
    col = {name: k for k, name in enumerate(FEATURES)}
    texts = [_text(index, s) for s in scored]
    terms = [sentence_terms(s.vector_row, t) for s, t in zip(scored, texts, strict=True)]
    vrows = np.array([s.vector_row for s in scored])
    sims = np.array([s.sim for s in scored])
    covs = np.array([s.coverage for s in scored])
    scores = np.array([s.score for s in scored])
    X[:, col["sim"]] = sims
    X[:, col["sim_gap"]] = sims - sims.max()
    X[:, col["passage_sim"]] = [s.passage_sim for s in scored]
    X[:, col["coverage"]] = covs
    X[:, col["coverage_gap"]] = covs - covs.max()
    X[:, col["score_gap"]] = scores - scores.max()
    X[:, col["first_in_passage"]] = [s.sentence_index == 0 for s in scored]
    X[:, col["log_chars"]] = np.log1p([len(t) for t in texts])
    X[:, col["heading"]] = [is_heading(t) for t in texts]
    X[:, col["novelty"]] = [sum(t not in q_terms for t in ts) / len(ts) if ts else 0.0 for ts in terms]

    # Retrieval: the passage's rank among the hits and its fused score below the first's.
    hit_rank = {h.row: k for k, h in enumerate(hits)}
    ranks = [hit_rank.get(s.passage_row) for s in scored]
    if hits:
        X[:, col["hit_rank"]] = [0.0 if r is None else 1.0 / (1.0 + r) for r in ranks]
        X[:, col["fused_gap"]] = [(hits[r].score if r is not None else hits[-1].score) - hits[0].score
                                  for r in ranks]

    # Neighbours in the document (sentence rows follow document order): the previous sentence
    # often carries the question's words when this one carries the answer.
    at = {s.vector_row: k for k, s in enumerate(scored)}
    docs = [index.passages[s.passage_row].doc_id for s in scored]
    raw_cov: dict[int, float] = {}  # coverage without the section title, by sentence row
    for name, step in (("prev", -1), ("next", 1)):
        rows = vrows + step
        ok = (rows >= 0) & (rows < len(index.sentence_passage))
        safe = np.where(ok, rows, 0)
        same = ok & np.array([index.passages[int(index.sentence_passage[r])].doc_id == d
                              for r, d in zip(safe, docs, strict=True)])
        X[:, col[f"{name}_sim"]] = np.where(same, index.sentence_vectors[safe] @ qvec, 0.0)
        for k in np.flatnonzero(same):
            r = int(rows[k])
            j = at.get(r)
            nterms = terms[j] if j is not None else sentence_terms(r, _row_text(index, r))
            if r not in raw_cov:
                raw_cov[r] = coverage(q_terms, nterms)
            X[k, col[f"{name}_coverage"]] = raw_cov[r]
            if step < 0:
                ctx = terms[k] | nterms
                section = index.passages[scored[k].passage_row].section
                c = coverage(q_terms, ctx)
                if section:
                    c += SECTION_WEIGHT * (coverage(q_terms, ctx | sentence_terms(-1 - scored[k].passage_row,
                                                                                   section)) - c)
                X[k, col["context_coverage"]] = c
            if step < 0 and j is not None:
                X[k, col["prev_score_gap"]] = scores[j] - scores.max()
        if step < 0:
            missing = ~same
            X[missing, col["context_coverage"]] = covs[missing]
            no_prev = np.array([at.get(int(r)) is None for r in rows])
            X[no_prev, col["prev_score_gap"]] = scores.min() - scores.max()

    # The kind of phrase the question asks for.
    if q_info is not None and q_info.qtype in analysis.TYPES:
        match = np.array([type_match(sentence_profile(s.vector_row, t), q_info)
                          for s, t in zip(scored, texts, strict=True)])
        X[:, col["type_match"]] = match
        X[:, col["type_gap"]] = match - match.max()
    return X


def _text(index: SearchIndex, s: ScoredSentence) -> str:
    return index.documents[index.passages[s.passage_row].doc_id].text[s.start:s.end]


def _row_text(index: SearchIndex, row: int) -> str:
    prow = int(index.sentence_passage[row])
    p = index.passages[prow]
    a, b = p.sentences[row - index.sentence_rows[prow].start]
    return index.documents[p.doc_id].text[a:b]


def probabilities(X: np.ndarray, model: ChoiceModel) -> np.ndarray:
    """P(the candidate holds the answer), a softmax over the question's candidates."""
    z = ((X - model.mean) / model.scale) @ model.weights
    z = np.exp(z - z.max())
    return z / z.sum()


def choose(index: SearchIndex, scored: list[ScoredSentence], probs: np.ndarray, limit: int,
           confidence: float) -> list[ScoredSentence]:
    """The most probable sentence, then runners-up until the quoted ones hold the answer with
    probability `confidence` (at most `limit`; a near-duplicate of a quoted sentence adds nothing),
    most probable first (`reading_order` arranges them for reading). Each chosen sentence carries
    its probability as its score."""
    order = np.argsort(-probs, kind="stable")
    chosen: list[ScoredSentence] = []
    held = 0.0
    for k in order:
        if len(chosen) >= limit or (chosen and held >= confidence):
            break
        s = scored[int(k)]
        vec = index.sentence_vectors[s.vector_row]
        if any(float(vec @ index.sentence_vectors[c.vector_row]) > REDUNDANT_COSINE for c in chosen):
            held += float(probs[k])  # says what a quoted sentence says: its answer is quoted already
            continue
        chosen.append(ScoredSentence(**{**s.__dict__, "score": float(probs[k])}))
        held += float(probs[k])
    return chosen


# A sentence opening with a demonstrative continues the one before it (grammar, not topics):
# 「これを〇〇という。」「この時代の…」「同社は…」.
_CONTINUES = re.compile(r"^[「『(（]?(これ|この|それ|その|こう|そう|こちら|同[社国年機会省庁局氏])")


def lead_first(index: SearchIndex, chosen: list[ScoredSentence], rows: set[int]) -> list[ScoredSentence]:
    """The quoted sentences with those the answer's first line is read from (`rows`: the answer
    phrase's sentence, the listed items' sentences) first, so that [1] is the evidence of what the
    answer says; the others after them, each group in its order. A sentence continuing the one
    before it (`reading_order`) moves with it."""
    runs: list[list[ScoredSentence]] = []
    for s in chosen:
        prev = runs[-1][-1] if runs else None
        if prev is not None and prev.vector_row + 1 == s.vector_row \
                and index.passages[prev.passage_row].doc_id == index.passages[s.passage_row].doc_id \
                and _CONTINUES.match(_text(index, s)):
            runs[-1].append(s)
        else:
            runs.append([s])
    leading = [run for run in runs if any(s.vector_row in rows for s in run)]
    return [s for run in leading for s in run] + [s for run in runs if run not in leading for s in run]


def reading_order(index: SearchIndex, chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Quoted sentences as a reader should meet them: most probable first, so that [1] is the best
    evidence, except that a sentence continuing the one before it (「…を感じる。これを〇〇という。」)
    is kept right after it when both are quoted."""
    doc = lambda s: index.passages[s.passage_row].doc_id  # noqa: E731
    runs: list[list[ScoredSentence]] = []
    for s in sorted(chosen, key=lambda s: s.vector_row):
        prev = runs[-1][-1] if runs else None
        if prev is not None and prev.vector_row + 1 == s.vector_row and doc(prev) == doc(s) \
                and _CONTINUES.match(index.documents[doc(s)].text[s.start:s.end]):
            runs[-1].append(s)
        else:
            runs.append([s])
    runs.sort(key=lambda run: -max(s.score for s in run))
    return [s for run in runs for s in run]
