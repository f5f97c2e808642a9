"""Does the retrieved text actually answer the question?

A single similarity threshold separates poorly with this model (the best-passage cosines of
answerable and unanswerable questions overlap widely). Two pieces of evidence separate much better
(docs/design/refusal.md):

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
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from bot import fitted
from bot.store.lexical import LexicalIndex, idf
from bot.text.analyser import Tokenizer
from bot.text.language import english_anchors

# Below these best-sentence cosines the corpus is off-topic for the question (pizza, weather):
# related passages would only be noise, so none are offered (calibration table in
# docs/design/refusal.md).
RELATED_SIM_MIN = {"ja": 0.82, "en": 0.78}


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
    passage_sim: float = 0.0  # cosine of the first retrieved passage
    coverage_max: float = 0.0  # the best coverage among the top-ranked sentences
    lexical_agree: float = 0.0  # BM25 score of the first passage over the best BM25 score retrieved
    passage_margin: float = 0.0  # first passage's cosine minus the fifth's
    p_answer: float | None = None  # the fitted model's P(the documents answer), once decided
    # 1 when a top sentence has a word of the asked-for kind (a person for 誰, a year for いつ) or
    # the question asks for no particular kind (bot/answer/choice.py: type_support)
    type_support: float = 1.0

    @classmethod
    def collect(cls, index, scored, hits, qvec: np.ndarray, n_terms: int, type_support: float = 1.0) -> "Evidence":
        if not scored:
            return cls(0.0, 0.0, 0.0, n_terms, type_support=type_support)
        rows = [r for h in hits for r in index.sentence_rows[h.row]]
        background = float(np.median(index.sentence_vectors[rows] @ qvec)) if rows else 0.0
        best = max(scored, key=lambda s: s.sim)
        top = scored[0]
        lex = [h.lexical or 0.0 for h in hits]
        agree = (lex[0] / max(lex)) if lex and max(lex) > 0 else 0.0
        margin = hits[0].dense - hits[min(4, len(hits) - 1)].dense if hits else 0.0
        return cls(best.sim, best.sim - background, top.coverage, n_terms, hits[0].dense if hits else 0.0,
                   max(s.coverage for s in scored[:COVERAGE_TOP]), agree, margin, type_support=type_support)


COVERAGE_TOP = 5
# The decision's inputs, in the order of the fitted coefficients (bot/answer/refusal.json).
# (BM25's agreement with the first passage is kept as evidence but not used: under score fusion it
# is 1 for almost every question, and a feature with no spread extrapolates wildly.)
FEATURES = ("sim", "gap", "coverage", "coverage_max", "passage_sim", "passage_margin", "terms", "type_support")
# Standardised inputs are clipped: evidence far outside what the model was fitted on must not
# decide alone.
Z_CLIP = 4.0
REFUSAL_FILE = Path(__file__).with_name("refusal.json")


def features(e: "Evidence | dict") -> list[float]:
    d = e if isinstance(e, dict) else asdict(e)
    # Few content words make coverage all-or-nothing; the model learns how far to trust it.
    return [d.get("sim", 0.0), d.get("gap", 0.0), d.get("coverage", 0.0), d.get("coverage_max", 0.0),
            d.get("passage_sim", 0.0), d.get("passage_margin", 0.0), min(d.get("n_terms", 0), 6) / 6,
            d.get("type_support", 1.0)]


REFUSAL_FORMAT = 1
# Every question is Japanese or English (bot/text/language.py): each needs its fitted model.
LANGUAGES = ("ja", "en")


@dataclass(frozen=True)
class RefusalModel:
    """One language's fitted logistic regression: P(the documents answer) from `features`."""
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    bias: float
    coef: tuple[float, ...]
    threshold: float

    @classmethod
    def load_all(cls, path: Path = REFUSAL_FILE) -> dict[str, "RefusalModel"]:
        """The fitted model of each language in `path` (FittedFileError when one is missing or
        was fitted for other features)."""
        data = fitted.read(path, REFUSAL_FORMAT, FEATURES)
        models = data.get("models")
        if not isinstance(models, dict):
            models = {}
        fitted.require(all(lang in models for lang in LANGUAGES), path,
                       f"it needs a model for each of {', '.join(LANGUAGES)}")
        out = {}
        for lang, m in models.items():
            model = cls(tuple(m["mean"]), tuple(m["scale"]), float(m["bias"]), tuple(m["coef"]),
                        float(m["threshold"]))
            fitted.require(len(model.mean) == len(model.scale) == len(model.coef) == len(FEATURES), path,
                           f"the {lang} model needs one mean, scale and coefficient per feature ({len(FEATURES)})")
            out[lang] = model
        return out

    def probability(self, e: "Evidence") -> float:
        """P(the documents answer) for the evidence `e`."""
        z = self.bias + sum(c * max(-Z_CLIP, min(Z_CLIP, (x - mu) / sd))
                            for c, x, mu, sd in zip(self.coef, features(e), self.mean, self.scale, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


def decide_found(e: Evidence, lang: str, models: dict[str, RefusalModel]) -> bool:
    """Whether the documents answer, by the fitted model of the question's language (its
    probability is kept on the evidence)."""
    model = models[lang]
    p = e.p_answer = model.probability(e)
    return p >= model.threshold


def worth_relating(e: Evidence, lang: str) -> bool:
    """Whether passages near an unanswered question are worth showing as "related"."""
    return e.sim >= RELATED_SIM_MIN[lang]
