"""The lexical side: BM25 (bm25s) over the analyser's index terms (bot/text/analyser.py)."""

import logging
import math
from pathlib import Path

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG, which prints build chatter into the CLI's progress output.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Version of the BM25 terms: an index whose terms were made differently is re-tokenised on the
# next build (its vectors are reused).
LEXICAL_VERSION = 6
# BM25's term-frequency saturation, chosen on the JSQuAD open corpus (words + bigrams, b = 0.75)
# over bm25s's default 1.5 and 2.0 (docs/design/retrieval.md, "BM25 terms").
K1 = 1.2


class LexicalIndex:
    """BM25 over pre-tokenised passages; saved as plain arrays plus JSON (bm25s, no pickle)."""

    def __init__(self, bm25: "bm25s.BM25") -> None:
        self.bm25 = bm25

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> "LexicalIndex":
        bm25 = bm25s.BM25(k1=K1)
        # bm25s cannot index an empty token list; a placeholder keeps row numbers aligned.
        bm25.index([toks or ["\u0000"] for toks in corpus_tokens], show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        self.bm25.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        return cls(bm25s.BM25.load(str(folder), show_progress=False))

    def document_frequency(self, term: str) -> int:
        # The CSC matrix has one column per term: its stored entries are the passages containing it.
        col = self.bm25.vocab_dict.get(term)
        if col is None:
            return 0
        indptr = self.bm25.scores["indptr"]
        return int(indptr[col + 1] - indptr[col])

    def __contains__(self, term: str) -> bool:
        return term in self.bm25.vocab_dict

    @property
    def vocabulary(self) -> set[str]:
        return set(self.bm25.vocab_dict)

    @property
    def num_docs(self) -> int:
        return int(self.bm25.scores["num_docs"])

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        known = [t for t in query_tokens if t in self.bm25.vocab_dict]
        n = self.bm25.scores["num_docs"]
        if not known:
            return np.zeros(n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)


def idf(lexical: LexicalIndex, term: str) -> float:
    """BM25's inverse document frequency of `term` in the index."""
    n, df = lexical.num_docs, lexical.document_frequency(term)
    return math.log(1.0 + (n - df + 0.5) / (df + 0.5))
