"""Which language a question is in: Japanese if it contains Japanese script, English otherwise."""

import re

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def has_japanese(text: str) -> bool:
    return bool(_JAPANESE.search(text))


def detect_language(text: str) -> str:
    return "ja" if has_japanese(text) else "en"


# English words that name something: acronyms, capitalised names and numbers.
_EN_ANCHOR = re.compile(r"\b(?:[A-Z][A-Za-z0-9\-]*|[0-9][0-9,.]*)\b")
# Capitalised only because they open a sentence; they name nothing.
_EN_FUNCTION_CAPS = {"What", "When", "Where", "Who", "Whom", "Which", "Why", "How", "Is", "Are", "Was",
                     "Were", "Do", "Does", "Did", "Can", "Could", "Tell", "The", "A", "An", "And", "In",
                     "On", "At", "Of", "For", "With", "I", "Please", "Give", "List", "Name", "Explain"}


def english_anchors(text: str) -> list[str]:
    """Names and numbers in English text: the words that may appear verbatim in Japanese text."""
    return [w for w in _EN_ANCHOR.findall(text) if w not in _EN_FUNCTION_CAPS]
