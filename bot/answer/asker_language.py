"""Sentences in the asker's language first, when they answer as well as the others.

A corpus may say the same thing on an English page and a Japanese one. An English reader is
better served by the English sentence (no glossary, nothing to guess), but only when it answers as
well: a plain bonus for the asker's language lifts same-language sentences about something else
above the one that answers.

"As well" is judged by the fitted refusal model (bot/answer/evidence.py): its probability that the
documents answer, from the evidence of every candidate sentence and from the evidence of the
asker-language candidates alone. When the second is within `margin` of the first (on the log-odds
scale, where near-certain probabilities still differ), the asker-language sentences are quoted
first. The margin of each asker language lives in asker_language.json, written by
fit/fit_asker_language.py; a language without one keeps the evidence's order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bot import fitted
from bot.text.language import has_japanese

LANGUAGE_FILE = Path(__file__).with_name("asker_language.json")
FORMAT_VERSION = 1
# What a margin is compared with: logit(P(answer | every candidate)) - logit(P(answer | the
# asker-language candidates alone)).
FEATURES = ("logit_gap",)
LANGUAGES = ("ja", "en")
# Probabilities are clipped before the log-odds: a model saying 1.0 still says how sure it is.
P_CLIP = 1e-6
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

T = TypeVar("T")


def written_in(text: str) -> str | None:
    """The language a reader meets in a sentence: Japanese when it has Japanese script, English when
    it has Latin words and none, None for numbers and punctuation alone (「2.」, 「|」)."""
    if has_japanese(text):
        return "ja"
    return "en" if _LATIN_WORD.search(text) else None


def logit(p: float) -> float:
    p = min(max(p, P_CLIP), 1.0 - P_CLIP)
    return math.log(p / (1.0 - p))


@dataclass(frozen=True)
class AskerLanguage:
    """The fitted margin of each asker language (None: that language's order is the evidence's)."""
    margins: dict[str, float | None]

    @classmethod
    def load(cls, path: Path = LANGUAGE_FILE) -> AskerLanguage:
        """The margins in `path` (FittedFileError when the file does not fit this code)."""
        data = fitted.read(path, FORMAT_VERSION, FEATURES)
        margins = data.get("margins") or {}
        fitted.require(isinstance(margins, dict) and set(margins) <= set(LANGUAGES), path,
                       f"margins must be an object keyed by {', '.join(LANGUAGES)}")
        fitted.require(all(m is None or isinstance(m, int | float) for m in margins.values()), path,
                       "each margin must be a number or null")
        return cls({lang: None if m is None else float(m) for lang, m in margins.items()})

    def prefers(self, lang: str, p_all: float, p_own: float) -> bool:
        """Whether the asker-language candidates (P(answer) `p_own`) answer as well as all of them
        (`p_all`) for an asker of `lang`."""
        margin = self.margins.get(lang)
        return margin is not None and gap(p_all, p_own) <= margin


def gap(p_all: float, p_own: float) -> float:
    """How much likelier every candidate makes an answer than the asker-language ones alone, in
    log-odds (negative when the asker-language ones alone look likelier)."""
    return logit(p_all) - logit(p_own)


def split(items: Sequence[T], lang: str, text: Callable[[T], str]) -> tuple[list[T], list[T]]:
    """The items whose text is in `lang`, then the others, each in their given order."""
    own = [x for x in items if written_in(text(x)) == lang]
    return own, [x for x in items if written_in(text(x)) != lang]


def leading(candidates: Sequence[T], lang: str, text: Callable[[T], str],
            probability: Callable[[Sequence[T]], float], fitted: AskerLanguage) -> list[T]:
    """The candidates in the asker's language `lang` when, by `probability` (P(the documents
    answer) from a list of candidates), they answer as well as all of them within the fitted margin;
    else none. Only a mixed list is weighed."""
    own, other = split(candidates, lang, text)
    if not own or not other or fitted.margins.get(lang) is None:
        return []
    return own if fitted.prefers(lang, probability(candidates), probability(own)) else []


def first(items: Sequence[T], leads: Callable[[T], bool]) -> list[T]:
    """The items for which `leads` holds, then the others, each in their given order."""
    return [x for x in items if leads(x)] + [x for x in items if not leads(x)]
