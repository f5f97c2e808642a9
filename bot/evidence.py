"""Does the retrieved text actually answer the question?

A single similarity threshold separates poorly with this model (best-passage cosine medians about
0.80 for unanswerable and 0.87 for answerable questions, with overlapping ranges). So the decision
combines the best sentence's similarity with how much of the question's content (its nouns, names
and numbers) that sentence and its section actually contain. Calibration figures: bot/README.md.
"""

import re
from dataclasses import dataclass

from bot.lexical import Tokenizer

# Calibrated on ../shared/eval/dev.jsonl (see bot/README.md): a confident match needs no
# lexical support; a moderate one needs the sentence to cover most of the question's content.
SIM_ALONE = 0.90
SIM_FLOOR = 0.80
COVERAGE_MIN = 0.5

# English words that name something: acronyms, capitalised names and numbers.
_EN_ANCHOR = re.compile(r"\b(?:[A-Z][A-Za-z0-9\-]*|[0-9][0-9,.]*)\b")


def question_terms(tokenizer: Tokenizer, question: str, query: str, lang: str) -> set[str]:
    """Content terms the answer should contain, from the resolved query."""
    if lang == "ja":
        return set(tokenizer.content_terms(query))
    words = [w for w in _EN_ANCHOR.findall(query) if w not in _EN_FUNCTION_CAPS]
    return set(tokenizer.content_terms(" ".join(words))) if words else set()


# Capitalised only because they open a sentence; they name nothing.
_EN_FUNCTION_CAPS = {"What", "When", "Where", "Who", "Whom", "Which", "Why", "How", "Is", "Are", "Was",
                     "Were", "Do", "Does", "Did", "Can", "Could", "Tell", "The", "A", "An", "And", "In",
                     "On", "At", "Of", "For", "With", "I", "Please", "Give", "List", "Name", "Explain"}


@dataclass
class Evidence:
    sim: float  # best sentence cosine to the query
    coverage: float  # share of the question's content terms in that sentence (+ its section)
    passage_sim: float  # best passage cosine
    n_terms: int

    @classmethod
    def from_scores(cls, scored, hits, q_terms) -> "Evidence":
        if not scored:
            return cls(0.0, 0.0, 0.0, len(q_terms))
        best = scored[0]
        psim = max((h.dense or 0.0) for h in hits) if hits else 0.0
        return cls(best.sim, best.coverage, psim, len(q_terms))


def decide_found(e: Evidence, lang: str) -> bool:
    if e.sim >= SIM_ALONE:
        return True
    if e.sim < SIM_FLOOR:
        return False
    return e.n_terms > 0 and e.coverage >= COVERAGE_MIN
