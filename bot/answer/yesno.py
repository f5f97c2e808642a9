"""Whether a sentence settles a yes/no question (〜しましたか / Did …?), and which way: yes, no, or
not settled.

A sentence settles the question when it says what the question asks about (its words, found in
the same or the other language through the term table, and its meaning, the sentence's cosine),
and says it the same way round: a negation next to the words the question asks about
(「金星や火星にない固有磁場」 for 「金星には固有磁場がありますか」, "free of charge" for "Does JAXA
charge …?") turns the answer to no, unless the question is negated too. How much each of these
counts is fitted (fit/fit_yesno.py: two logistic models, settled or not and then yes or no, over JSQuAD's own yes/no
questions, JSQuAD questions turned into yes/no ones, and the project's labelled pairs); the weights
live in yesno.json.

The negation cues are the grammar's closed class (ない, ず, 不-, not, never, without, free of),
not a list of topics: which of them matter and how much is what the fitted weights say.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot import fitted
from bot.query.analysis import Tok, morpheme_toks

MODEL_FILE = Path(__file__).with_name("yesno.json")
FORMAT_VERSION = 1
CLASSES = ("yes", "no", "unsettled")
FEATURES = ("coverage", "sim", "score_gap", "negation_mismatch", "negation_elsewhere", "cross_lingual",
            "fragment")
POLARITY = ("negation_mismatch", "negation_elsewhere")

# How many words (English) or morphemes (Japanese) either side of a question word a negation may
# stand and still be about it.
NEAR = 4
_NEG_JA_AUX = {"ない", "ず", "ぬ", "ん", "まい"}
_NEG_JA_PREFIX = {"無", "不", "未", "非"}
_NEG_EN = {"not", "no", "never", "without", "none", "nor", "neither", "cannot", "free", "lack", "lacks"}
_EN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_EN_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’-]*|[.;:!?]")
_EN_STOPS = {".", ";", ":", "!", "?"}
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# English words a question carries for its grammar, not its content.
_EN_FUNCTION = {"did", "does", "do", "is", "are", "was", "were", "has", "have", "had", "can", "could", "will",
                "would", "should", "the", "a", "an", "of", "in", "on", "at", "to", "for", "by", "with", "and",
                "or", "it", "its", "their", "there", "that", "this", "any", "still", "already", "from",
                "after", "before", "when", "as", "be", "been", "being"}
STEM = 5  # English words match on their first letters ("charge" / "charged", "develop" / "developed")


@dataclass(frozen=True)
class YesNoModel:
    """Two logistic models over standardised features: whether a sentence settles the question
    (`settle`), and, if it does, whether it says no (`no`; fitted on the polarity features
    alone, the others' weights zero: how well a sentence matches says nothing about which way
    it answers)."""
    mean: np.ndarray
    scale: np.ndarray
    settle: np.ndarray
    settle_bias: float
    no: np.ndarray
    no_bias: float

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> YesNoModel:
        data = fitted.read(path, FORMAT_VERSION, FEATURES)
        model = cls(np.asarray(data["mean"], float), np.asarray(data["scale"], float),
                    np.asarray(data["settle"]["weights"], float), float(data["settle"]["bias"]),
                    np.asarray(data["no"]["weights"], float), float(data["no"]["bias"]))
        n = len(FEATURES)
        fitted.require(all(v.shape == (n,) for v in (model.mean, model.scale, model.settle, model.no)), path,
                       f"mean, scale and each model's weights need one number per feature ({n})")
        return model

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P(yes), P(no), P(unsettled) (CLASSES order) of one pair's features, or of each row."""
        z = (np.atleast_2d(x) - self.mean) / self.scale
        settled = 1.0 / (1.0 + np.exp(-(z @ self.settle + self.settle_bias)))
        no = 1.0 / (1.0 + np.exp(-(z @ self.no + self.no_bias)))
        p = np.stack([settled * (1 - no), settled * no, 1 - settled], axis=1)
        return p[0] if np.ndim(x) == 1 else p


@dataclass(frozen=True)
class Asked:
    """What a yes/no question asks about, in both scripts: the normalised forms of its Japanese
    words (its own, or an English question's Japanese search terms), the first letters of its
    English words (its own, or the glosses of a Japanese question's words), and whether it is
    negated itself (「〜はないのですか」, "Isn't …?")."""
    ja: frozenset[str]
    en: frozenset[str]
    negated: bool
    # A Japanese question's words as English stems, one set per word (for English sentences).
    glossed: tuple[frozenset[str], ...] = ()


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _content(t: Tok) -> bool:
    return t.pos[0] in ("名詞", "動詞", "形容詞", "形状詞") and t.pos[1] not in ("代名詞", "非自立可能", "数詞") \
        and len(t.surface) > 0


def _negation_ja(toks: list[Tok], k: int) -> bool:
    t = toks[k]
    if t.pos[0] == "助動詞" and t.norm in _NEG_JA_AUX:
        return True
    if t.pos[0] == "形容詞" and t.norm in ("無い", "ない"):
        return True
    if t.surface in ("なし", "無し"):
        return True
    return t.pos[0] == "接頭辞" and t.surface in _NEG_JA_PREFIX


def negated_japanese(text: str, tokenizer) -> bool:
    """Whether a Japanese phrase is negated (ない, できない, 無し, 不-)."""
    toks = morpheme_toks(_nfkc(text), tokenizer)
    return any(_negation_ja(toks, k) for k in range(len(toks)))


def _en_words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _EN_WORD.findall(_nfkc(text))]


def _negation_en(word: str) -> bool:
    return word in _NEG_EN or word.endswith("n't")


def _stems(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w[:STEM] for w in words if len(w) > 2 and w not in _EN_FUNCTION and not _negation_en(w))


def asked(question: str, lang: str, tokenizer, japanese_terms: Iterable[str] = (), glosses=None) -> Asked:
    """What `question` asks about (see Asked). `japanese_terms`: an English question's Japanese
    search terms; `glosses`: the term table's English gloss of a Japanese word (a mapping), for
    matching a Japanese question's words in English sentences."""
    if lang == "ja":
        toks = morpheme_toks(_nfkc(question), tokenizer)
        words = [t for t in toks if _content(t)]
        glossed = []
        for t in words:
            g = glosses.get(t.surface) if glosses is not None else None
            # Latin-script names as written, else the word's English gloss
            glossed.append(_stems(_en_words(t.surface) or (_en_words(g) if g else [])))
        return Asked(frozenset(t.norm for t in words), frozenset().union(*glossed),
                     any(_negation_ja(toks, k) for k in range(len(toks))), tuple(glossed))
    en_words = _en_words(question)
    ja = {t.norm for term in japanese_terms for t in morpheme_toks(term, tokenizer) if _content(t)}
    return Asked(frozenset(ja), _stems(en_words), any(_negation_en(w) for w in en_words))


def english_coverage(q: Asked, sentence: str) -> float:
    """The share of a Japanese question's words that an English sentence carries, through their
    English glosses (a word without one counts as missing)."""
    if not q.glossed:
        return 0.0
    have = {w[:STEM] for w in _en_words(sentence)}
    return sum(bool(g & have) for g in q.glossed) / len(q.glossed)


def negations(sentence: str, q: Asked, tokenizer) -> tuple[bool, bool]:
    """(a negation stands next to a word the question asks about, a negation stands elsewhere)."""
    s = _nfkc(sentence)
    if _JAPANESE.search(s):
        toks = morpheme_toks(s, tokenizer)
        anchors = [k for k, t in enumerate(toks)
                   if _content(t) and (t.norm in q.ja or t.surface.lower()[:STEM] in q.en)]
        negs = [k for k in range(len(toks)) if _negation_ja(toks, k)]
        stops = [k for k, t in enumerate(toks) if t.surface in ("。", "．")]
    else:
        words = [w.lower().replace("’", "'") for w in _EN_TOKEN.findall(s)]
        anchors = [k for k, w in enumerate(words) if w[:STEM] in q.en]
        negs = [k for k, w in enumerate(words) if _negation_en(w)]
        stops = [k for k, w in enumerate(words) if w in _EN_STOPS]
    near = any(abs(n - a) <= NEAR and not any(min(n, a) < x < max(n, a) for x in stops)
               for n in negs for a in anchors)
    return near, bool(negs) and not near


def features(question: Asked, sentence: str, coverage: float, sim: float, score_gap: float, cross_lingual: bool,
             fragment: bool, tokenizer) -> np.ndarray:
    """The model's inputs for one (question, sentence) pair, in FEATURES order. `coverage`: the
    question-term coverage of the sentence the engine computed (cross-lingual for an English
    question); `sim`: its cosine to the question; `score_gap`: its score minus the best
    candidate's (≤ 0)."""
    near, elsewhere = negations(sentence, question, tokenizer)
    return np.array([coverage, sim, score_gap, float(near != question.negated), float(elsewhere),
                     float(cross_lingual), float(fragment)])


def verdict(probabilities: np.ndarray) -> str:
    """"unsettled" unless settled is the likelier (P(yes) + P(no) above one half); then the likelier
    of yes and no."""
    yes, no, unsettled = probabilities
    if unsettled >= yes + no:
        return "unsettled"
    return "yes" if yes >= no else "no"
