"""Extractive answers: the documents' own sentences, each cited to the passage it comes from.

Sentences are scored across the best passages *and their neighbours*, because an answering
sentence often sits at the edge of the passage next to the one that ranked first. A sentence's
score combines its own similarity to the question (vectors computed at index time), the similarity
of its passage, and how much of the question's content words it contains.

Whether the documents answer at all is decided from evidence, not from a single similarity:
see `decide_found` and the calibration figures in bot/README.md.
"""

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from bot.index import SearchIndex
from bot.retrieval import Hit

# How many ranked passages feed sentence scoring (their neighbours are added).
CANDIDATE_PASSAGES = 4
W_PASSAGE = 0.35
W_COVERAGE = 0.15
# Extra sentences must score within this of the best one.
EXTRA_MARGIN = 0.03
MAX_SENTENCES = 3
REDUNDANT_COSINE = 0.92


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


def candidate_rows(index: SearchIndex, hits: list[Hit], n: int = CANDIDATE_PASSAGES) -> list[int]:
    rows: list[int] = []
    for h in hits[:n]:
        for r in (h.row, h.row - 1, h.row + 1):
            if 0 <= r < len(index.passages) and index.passages[r].doc_id == index.passages[h.row].doc_id \
                    and r not in rows:
                rows.append(r)
    return rows


def normalize(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def coverage(terms: set[str], text_terms: set[str]) -> float:
    if not terms:
        return 0.0
    return len(terms & text_terms) / len(terms)


def score_sentences(index: SearchIndex, rows: list[int], qvec: np.ndarray, q_terms: set[str],
                    sentence_terms) -> list[ScoredSentence]:
    """`sentence_terms(vector_row, text)` returns the content terms of one sentence (cached)."""
    out = []
    for r in rows:
        p = index.passages[r]
        vr = index.sentence_rows[r]
        if not len(vr):
            continue
        sims = index.sentence_vectors[vr.start:vr.stop] @ qvec
        psim = float(index.passage_vectors[r] @ qvec)
        doc_text = index.documents[p.doc_id].text
        section_terms = sentence_terms(-1 - r, p.section) if p.section else set()
        for i, (s, e) in enumerate(p.sentences):
            terms = sentence_terms(vr.start + i, doc_text[s:e]) | section_terms
            cov = coverage(q_terms, terms)
            sim = float(sims[i])
            out.append(ScoredSentence(r, i, vr.start + i, s, e, sim, psim, cov,
                                      sim + W_PASSAGE * psim + W_COVERAGE * cov))
    out.sort(key=lambda x: -x.score)
    return out


def pick_sentences(index: SearchIndex, scored: list[ScoredSentence]) -> list[ScoredSentence]:
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    for s in scored[1:]:
        if len(chosen) >= MAX_SENTENCES or s.score < best.score - EXTRA_MARGIN:
            break
        vec = index.sentence_vectors[s.vector_row]
        if any(float(vec @ index.sentence_vectors[c.vector_row]) > REDUNDANT_COSINE for c in chosen):
            continue
        chosen.append(s)
    # Document order reads naturally and keeps cause before effect.
    return sorted(chosen, key=lambda s: (index.passages[s.passage_row].doc_id, s.start))
