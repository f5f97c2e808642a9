"""Does the retrieved text actually answer the question?

A single similarity threshold separates poorly with this model (best-passage cosine medians about
0.80 for unanswerable and 0.87 for answerable questions, with overlapping ranges). Two pieces of
evidence separate much better (calibration figures in bot/README.md):

- `gap`: how far the best sentence stands above the typical sentence of the retrieved passages.
  A question the documents answer has one sentence that stands out; an unanswerable one lifts
  many sentences a little (same topic, no answer).
- `coverage`: the IDF-weighted share of the question's content words (nouns, names, numbers)
  found in the best sentence and its section title. It catches questions on the documents' topic
  that ask for something they never mention (「JAXAの職員数は？」: JAXA is there, 職員数 is not).
  English questions can only be checked on their names and numbers, which may appear verbatim in
  Japanese text (JAXA, ISECG, 2006) or as Sudachi's katakana reading (Canada → カナダ).
"""

import math
from dataclasses import dataclass

import numpy as np

from bot.language import english_anchors
from bot.store.lexical import LexicalIndex, Tokenizer

GAP_MIN = 0.055
COVERAGE_MIN = 0.45
EN_SIM_MIN = 0.80
# Below these best-sentence cosines the corpus is off-topic for the question (pizza, weather):
# related passages would only be noise, so none are offered. Same calibration table.
RELATED_SIM_MIN = {"ja": 0.82, "en": 0.78}

def idf(lexical: LexicalIndex, term: str) -> float:
    n, df = lexical.num_docs, lexical.document_frequency(term)
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))


def question_terms(tokenizer: Tokenizer, lexical: LexicalIndex, query: str, lang: str) -> dict[str, float]:
    """Content terms the answer should contain, from the resolved query, with IDF weights."""
    if lang == "ja":
        terms = tokenizer.content_terms(query)
    else:
        words = english_anchors(query)
        terms = tokenizer.content_terms(" ".join(words)) if words else []
    return {t: idf(lexical, t) for t in dict.fromkeys(terms)}


@dataclass
class Evidence:
    sim: float  # best sentence cosine to the query
    gap: float  # best sentence cosine minus the median over the retrieved passages' sentences
    coverage: float  # IDF-weighted share of the question's content terms in the best sentence
    n_terms: int

    @classmethod
    def collect(cls, index, scored, hits, qvec: np.ndarray, n_terms: int) -> "Evidence":
        if not scored:
            return cls(0.0, 0.0, 0.0, n_terms)
        rows = [r for h in hits for r in index.sentence_rows[h.row]]
        background = float(np.median(index.sentence_vectors[rows] @ qvec)) if rows else 0.0
        best = max(scored, key=lambda s: s.sim)
        top = scored[0]
        return cls(best.sim, best.sim - background, top.coverage, n_terms)


def decide_found(e: Evidence, lang: str) -> bool:
    if e.gap < GAP_MIN:
        return False
    if lang == "ja":
        return e.coverage >= COVERAGE_MIN
    # English: only the dense match can judge; Latin names are not reliably in Japanese text.
    return e.sim >= EN_SIM_MIN


def worth_relating(e: Evidence, lang: str) -> bool:
    """Whether passages near an unanswered question are worth showing as "related"."""
    return e.sim >= RELATED_SIM_MIN[lang]
