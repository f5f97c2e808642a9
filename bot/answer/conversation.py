"""Follow-up questions: 「それはいつ設立されましたか？」 or "Where is that station?" only make sense
with the conversation so far. For retrieval such a question is joined to the previous user turn.

A question is treated as a follow-up when it points back (a demonstrative or pronoun), or when it
is too short to stand on its own (ellipsis: 「いつ？」, "And Canada?").
"""

import re

# Demonstratives and pronouns that refer to something said earlier (grammar, not topics).
_JA_DEIXIS = re.compile(r"(その|それ|そこ|そちら|この|これ|ここ|あの|あれ|同(?:機関|会議|社|国)|彼|彼女|上記)")
_JA_OPENERS = re.compile(r"^(では|じゃあ|それで|また|さらに|他に|ほかに)")
_EN_REFERENCE = re.compile(
    r"\b(it|its|it's|that|this|those|these|they|them|their|there|he|she|him|her|his|the same|"
    r"such|former|latter)\b", re.I)
_EN_OPENERS = re.compile(r"^\s*(and|also|what about|how about|then)\b", re.I)
_MIN_STANDALONE_CHARS = 6
_MIN_STANDALONE_WORDS = 3


def is_follow_up(question: str, lang: str) -> bool:
    q = question.strip()
    if lang == "ja":
        core = re.sub(r"[？?。！!、\s]", "", q)
        return bool(_JA_DEIXIS.search(q) or _JA_OPENERS.match(q)) or len(core) < _MIN_STANDALONE_CHARS
    words = re.findall(r"[A-Za-z0-9]+", q)
    return bool(_EN_REFERENCE.search(q) or _EN_OPENERS.match(q)) or len(words) < _MIN_STANDALONE_WORDS


def previous_user_turn(history: list) -> str | None:
    for turn in reversed(history):
        if turn.role == "user" and turn.content.strip():
            return turn.content.strip()
    return None


def resolve_query(question: str, history: list, lang: str) -> str:
    """The text to retrieve with: the question alone, or joined to the previous user turn."""
    question = question.strip()
    previous = previous_user_turn(history)
    if previous and is_follow_up(question, lang):
        return f"{previous} {question}"
    return question
