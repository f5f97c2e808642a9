"""Suggested next questions: asked about the substantive sections of the cited document.

A section's first sentence says what it is about: its subject (the topic before 「は」, or an
English sentence's subject) and its predicate (「…を推進しています」, 「…に設立されました」,
"is …", "was established in …"). A question is made from the two, in the reader's language:
「JAXAは何を推進していますか？」, 「APRSAFはいつ設立されましたか？」, "What is Sentinel Asia?".
A section whose first line is no sentence (a share button, a heading, a greeting such as "Ladies
and gentlemen,") or whose subject is a pronoun (「これは」, "I am honoured…") gives none. A question
the engine does not answer is not suggested: `ask` (the engine's) is called on each candidate and
only questions answered outright (state `answered`) are kept.
"""

import re
from collections.abc import Callable

from bot.results import DocumentView

MAX_TRIED = 8  # candidate questions asked per suggestion request, at most
SENTENCES_TRIED = 3  # a passage's first sentences looked at for a subject
SUBJECT_MAX = 30
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
_DEMONSTRATIVE = re.compile(r"^(これ|それ|あれ|この|その|あの|本|当|同|両|次|以下|上記|今回|今後)")
_CONJUNCTION = re.compile(r"^(また|なお|さらに|一方|しかし|そして|ただし|特に|現在|今回|今後|その後|これまで)[、,]?")
_DATE_HEAD = re.compile(r"^[^、]*?(\d{1,4}年|\d{1,2}月|\d{1,2}日)[^、]*、")
_PAREN = re.compile(r"[(（][^()（）]*[)）]")
_POLITE = ("ます", "ました", "ません", "でした")
_YEAR = re.compile(r"\d{4}年|(令和|平成|昭和)\S{1,2}年|\b(1[89]|20)\d{2}\b")
_PRONOUNS = {"i", "we", "you", "it", "this", "that", "these", "those", "they", "he", "she", "there", "here",
             "our", "my", "its", "their", "today", "ladies", "dear", "one", "two", "three", "four", "five",
             "several", "many", "some", "all", "both", "each"}


def _japanese_subject(sentence: str) -> str | None:
    s = sentence.strip()
    m = re.search(r"(?<![でにとてもが])は[、,]?", s)
    if not m:
        return None
    head = s[:m.start()]
    # The topic is the last clause before 「は」: dates and adverbials before it are not the subject.
    head = head.split("、")[-1]
    head = _CONJUNCTION.sub("", head).strip()
    head = _PAREN.sub("", head).strip()
    if not 2 <= len(head) <= SUBJECT_MAX or _DEMONSTRATIVE.match(head) or "「" in head and "」" not in head:
        return None
    return head


def _japanese_predicate(sentence: str) -> tuple[str, str] | None:
    """(kind, predicate): kind 'object' (…を〜), 'time' (a dated event) or 'what' (a description)."""
    s = sentence.strip().rstrip("。．.!！")
    s = re.sub(r"[」』）)]+$", "", s)
    if s.endswith(("です", "である", "だ")) or not re.search(r"[ぁ-ん]$", s):
        return ("what", "")
    tail = re.split(r"[、,]", s)[-1]
    if "を" in tail:
        pred = tail[tail.rindex("を") + 1:]
        if 2 <= len(pred) <= 20 and _JAPANESE.match(pred):
            return ("object", pred)
    m = re.search(r"[にでがと]([^にでがとを、]{2,16})$", tail)
    if m and _YEAR.search(sentence):
        return ("time", m.group(1))
    return None


def _ask_form(pred: str) -> str:
    return pred + "か？" if pred.endswith(_POLITE) else pred + "のですか？"


def japanese_question(sentence: str) -> str | None:
    """A question asking what the sentence states of its subject, or None."""
    if "。" not in sentence and not sentence.rstrip().endswith((".", "．")):
        return None
    subject = _japanese_subject(sentence)
    if subject is None:
        return None
    predicate = _japanese_predicate(sentence)
    if predicate is None:
        return f"{subject}とは何ですか？"
    kind, pred = predicate
    if kind == "object":
        return f"{subject}は何を{_ask_form(pred)}"
    if kind == "time":
        return f"{subject}はいつ{_ask_form(pred)}"
    return f"{subject}とは何ですか？"


_EN_BE = re.compile(r"^(?P<subj>[A-Z][\w’'\-]*(?:\s+(?:[A-Z][\w’'\-]*|of|for|and|the|on|in|de|du)){0,7})"
                    r"(?:\s*\([^()]{1,40}\))?\s+(?P<be>is|are|was|were)\s+(?P<rest>.+)")
_EN_VERB = re.compile(r"^(?P<subj>[A-Z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*){0,5})\s+(?P<verb>[a-z]{3,}s)\s+(?P<rest>.+)")


def english_question(sentence: str) -> str | None:
    s = sentence.strip()
    if not s.endswith((".", "!")) and "。" not in s:
        return None
    s = re.sub(r"^(In|On|Since|Today|Currently|Now)\b[^,]{0,40},\s*", "", s)
    m = _EN_BE.match(s)
    if m and m.group("subj").split()[0].lower() not in _PRONOUNS:
        subj, be, rest = m.group("subj"), m.group("be"), m.group("rest")
        part = re.match(r"([a-z]+ed)\b", rest)
        if be in ("was", "were") and part and _YEAR.search(rest):
            return f"When {be} {subj} {part.group(1)}?"
        return f"What {'is' if be in ('is', 'was') else 'are'} {subj}?"
    m = _EN_VERB.match(s)
    if m and m.group("subj").split()[0].lower() not in _PRONOUNS and m.group("verb") not in ("has", "does", "was"):
        verb = m.group("verb")
        base = verb[:-2] if verb.endswith(("sses", "shes", "ches", "xes")) else verb[:-1]
        if base == "aim" and m.group("rest").startswith("to "):
            return f"What does {m.group('subj')} aim to do?"
        return f"What does {m.group('subj')} {base}?"
    return None


def question_for(sentence: str, lang: str) -> str | None:
    """The reader's question about one sentence: Japanese for `ja`; English for `en` (from an
    English sentence, or from a Japanese one whose subject is written in Latin letters)."""
    if lang == "ja":
        return japanese_question(sentence) if _JAPANESE.search(sentence) else None
    if not _JAPANESE.search(sentence):
        return english_question(sentence)
    subject = _japanese_subject(sentence) if "。" in sentence else None
    if subject and re.fullmatch(r"[A-Za-z][A-Za-z0-9 .\-&’']{1,40}", subject):
        return f"What is {subject}?"
    return None


def _is_sentence(text: str) -> bool:
    s = text.strip()
    return "。" in s or (s.endswith((".", "!", "?")) and len(s.split()) >= 4)


def next_questions(doc: DocumentView, chunk_id: str, lang: str, include_own: bool = False, k: int = 3,
                   ask: Callable[[str], object] | None = None) -> list[str]:
    """Up to `k` questions about the passages of `doc` nearest to `chunk_id` (not its own
    section unless `include_own`), each from a section's first sentence, each answered by `ask`
    (when given: the engine's `ask`, whose answer must have state `answered`)."""
    passages = doc.passages
    at = next((i for i, p in enumerate(passages) if p.chunk_id == chunk_id), None)
    if at is None:
        return []
    own = passages[at].section
    # The first passage of each section run (a passage of an untitled run stands alone).
    firsts = [i for i, p in enumerate(passages)
              if i == 0 or not p.section or p.section != passages[i - 1].section]
    order = sorted((abs(i - at), i) for i in firsts
                   if i != at and (include_own or not own or passages[i].section != own))
    if include_own:
        order = [(0, at)] + order
    out: list[str] = []
    tried = 0
    for _, i in order:
        if len(out) >= k or tried >= MAX_TRIED:
            break
        p = passages[i]
        # The first sentences that are sentences (a date line, a greeting or a button is not).
        prose = [doc.text[s:e] for s, e in p.sentences if _is_sentence(doc.text[s:e])][:SENTENCES_TRIED]
        question = next((q for q in (question_for(s, lang) for s in prose) if q), None)
        if question is None or question in out:
            continue
        if ask is not None:
            tried += 1
            try:
                answer = ask(question)
            except Exception:  # a failing check drops the suggestion, not the page
                continue
            if getattr(answer, "state", None) != "answered":
                continue
        out.append(question)
    return out
