"""Extractive answers: the documents' own sentences, each cited to the passage it comes from.

Sentences are scored across the best passages *and their neighbours*, because an answering
sentence often sits at the edge of the passage next to the one that ranked first. A sentence's
score combines its own similarity to the question (vectors computed at index time), the similarity
of its passage, and how much of the question's content words it contains.

Whether the documents answer at all is decided from evidence, not from a single similarity:
see `decide_found` and docs/design/refusal.md.
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot import fitted
from bot.ingest.passages import is_heading
from bot.retrieve.retrieval import Hit
from bot.store.index import SearchIndex
from bot.text.language import has_japanese

# How many ranked passages feed sentence scoring (their neighbours are added).
CANDIDATE_PASSAGES = 4
W_PASSAGE = 0.35
# Content-word coverage only ranks sentences for Japanese questions: an English question's
# names rarely appear verbatim, and the one that does (JAXA) is everywhere.
W_COVERAGE = {"ja": 0.15, "en": 0.15}
# Extra sentences must score within this of the best one. English questions match Japanese
# sentences less sharply, so close runners-up are more often the real answer: keep more of them.
EXTRA_MARGIN = {"ja": 0.03, "en": 0.08}
# A word found only in the section title counts for this much of a word in the sentence itself.
SECTION_WEIGHT = 0.5
MAX_SENTENCES = 3
REDUNDANT_COSINE = 0.96


@dataclass
class ScoredSentence:
    passage_row: int
    sentence_index: int  # within the passage
    vector_row: int
    start: int  # document offsets
    end: int
    sim: float
    passage_sim: float
    coverage: float
    score: float


CROSS_FILE = Path(__file__).with_name("cross_language.json")
CROSS_FORMAT = 1
CROSS_FEATURES = ("cosine",)


@dataclass(frozen=True)
class CrossLanguage:
    """How much lower the model puts a question's cosine to a sentence in the other language than
    to one in its own, per question language (None: not corrected). A Japanese question's
    sentences are scored, chosen and refused on the scale of Japanese sentences (the refusal
    model was fitted on them), so an English page's sentence gets the offset added before it is
    compared with them. Fitted by fit/fit_cross_language.py."""
    offsets: dict[str, float | None]

    @classmethod
    def load(cls, path: Path = CROSS_FILE) -> "CrossLanguage":
        data = fitted.read(path, CROSS_FORMAT, CROSS_FEATURES)
        raw = data.get("offsets")
        offsets: dict = raw if isinstance(raw, dict) else {}
        fitted.require(isinstance(raw, dict) and all(v is None or isinstance(v, (int, float))
                                                     for v in offsets.values()),
                       path, "offsets must map each question language to a number or null")
        return cls({lang: None if v is None else float(v) for lang, v in offsets.items()})

    def of(self, lang: str) -> float:
        return self.offsets.get(lang) or 0.0


# The least share of the question's words (IDF-weighted) a runner-up sentence must hold to give
# the lead phrase.
MIN_PHRASE_COVERAGE = 0.1


def phrase_givers(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """The quoted sentences a lead phrase may be read from: the best-scored one, runners-up
    holding some of the question's words, and those in the passage of one that does (or next to
    it: 「これをテンポという。」 after the sentence the question restates). A runner-up holding next
    to none, from another passage (a footnote's 「1999年以降、3回開催」 quoted beside a sentence
    about the asked plan), is context, not the answer."""
    first = max(chosen, key=lambda x: x.score, default=None)
    covering = {s.passage_row for s in chosen if s is first or s.coverage >= MIN_PHRASE_COVERAGE}
    return [s for s in chosen if s is first or s.coverage >= MIN_PHRASE_COVERAGE
            or covering & {s.passage_row - 1, s.passage_row, s.passage_row + 1}]


def candidate_rows(index: SearchIndex, hits: list[Hit], n: int = CANDIDATE_PASSAGES, lang: str = "") -> list[int]:
    """The passages whose sentences are scored: the first `n` of the fused ranking, and the one the
    dense model ranks first when it is in another language than `lang`, the question's (BM25
    reaches such a page only through the question's translated words, so it may rank below
    same-language siblings), each with its neighbours."""
    rows: list[int] = []
    densest = max(hits, key=lambda h: h.dense, default=None)
    other = densest is not None and densest not in hits[:n] and bool(lang) and \
        has_japanese(index.passages[densest.row].text) != (lang == "ja")
    for h in hits[:n] + ([densest] if densest is not None and other else []):
        for r in (h.row, h.row - 1, h.row + 1):
            if 0 <= r < len(index.passages) and index.passages[r].doc_id == index.passages[h.row].doc_id \
                    and r not in rows:
                rows.append(r)
    return rows


def normalize(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def coverage(terms: dict[str, float], text_terms: set[str]) -> float:
    """Share of the question's content, weighted by IDF, that the text contains: a missing rare
    word (職員数, 予算) weighs more than a missing common one (JAXA)."""
    total = sum(terms.values())
    if not total:
        return 0.0
    return sum(w for t, w in terms.items() if t in text_terms) / total


def score_sentences(index: SearchIndex, rows: list[int], qvec: np.ndarray, q_terms: dict[str, float],
                    sentence_terms, lang: str, cross: float = 0.0) -> list[ScoredSentence]:
    """`sentence_terms(vector_row, text)` returns the content terms of one sentence (cached);
    `cross` is added to the cosines of sentences and passages whose document is in another
    language than the question (`CrossLanguage`)."""
    out = []
    for r in rows:
        p = index.passages[r]
        vr = index.sentence_rows[r]
        if not len(vr):
            continue
        offset = cross if cross and index.documents[p.doc_id].lang != lang else 0.0
        sims = index.sentence_vectors[vr.start:vr.stop] @ qvec + offset
        psim = float(index.passage_vectors[r] @ qvec) + offset
        doc_text = index.documents[p.doc_id].text
        section_terms = sentence_terms(-1 - r, p.section) if p.section else set()
        for i, (s, e) in enumerate(p.sentences):
            terms = sentence_terms(vr.start + i, doc_text[s:e])
            cov = coverage(q_terms, terms)
            if section_terms:
                cov += SECTION_WEIGHT * (coverage(q_terms, terms | section_terms) - cov)
            sim = float(sims[i])
            out.append(ScoredSentence(r, i, vr.start + i, s, e, sim, psim, cov,
                                      sim + W_PASSAGE * psim + W_COVERAGE[lang] * cov))
    out.sort(key=lambda x: -x.score)
    return out


# A sentence the conversation already quoted is only repeated when it still wins by this much:
# a follow-up asks for something new (「それはどこで開催されましたか？」 after the founding year).
REPEAT_PENALTY = 0.05


def demote_repeats(index: SearchIndex, scored: list[ScoredSentence], said: list[str]) -> list[ScoredSentence]:
    if not said:
        return scored
    told = normalize(" ".join(said))
    out = []
    for s in scored:
        text = normalize(index.documents[index.passages[s.passage_row].doc_id].text[s.start:s.end])
        if text and text in told:
            s = ScoredSentence(**{**s.__dict__, "score": s.score - REPEAT_PENALTY})
        out.append(s)
    out.sort(key=lambda x: -x.score)
    return out


def pick_sentences(index: SearchIndex, scored: list[ScoredSentence], lang: str,
                   limit: int = MAX_SENTENCES) -> list[ScoredSentence]:
    """The best sentence and close runners-up (at most `limit`), in document order."""
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    for s in scored[1:]:
        if len(chosen) >= min(limit, MAX_SENTENCES) or s.score < best.score - EXTRA_MARGIN[lang]:
            break
        text = index.documents[index.passages[s.passage_row].doc_id].text[s.start:s.end]
        if is_heading(text):
            continue  # a title-like fragment ("…の歴史") supports nothing beside a real sentence
        vec = index.sentence_vectors[s.vector_row]
        if any(float(vec @ index.sentence_vectors[c.vector_row]) > REDUNDANT_COSINE for c in chosen):
            continue
        chosen.append(s)
    # Document order reads naturally and keeps cause before effect.
    return sorted(chosen, key=lambda s: (index.passages[s.passage_row].doc_id, s.start))
