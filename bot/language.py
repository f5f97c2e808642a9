"""Which language a question is in: Japanese if it contains Japanese script, English otherwise."""

import re

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")


def has_japanese(text: str) -> bool:
    return bool(_JAPANESE.search(text))


def detect_language(text: str) -> str:
    return "ja" if has_japanese(text) else "en"
