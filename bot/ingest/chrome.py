"""Page chrome learned from repetition: link labels and boilerplate lines that recur.

Two kinds of chrome survive shape-based cleaning because each occurrence looks like text:

- Link labels glued after an anchor text: 「2006 SAFEの設立 外部リンク」, 「報告書 (PDF:1.2MB)」,
  "Annual report (opens in a new window)". A label is a short tail, set off by a space, that ends
  several lines of a document (or lines in several documents) and never occurs inside the
  documents' running text. Japanese does not separate words with spaces, so a space before a
  Japanese tail is already unusual; a Latin tail must be bracketed or symbolic ("(PDF)", "↗"), so
  the last word of an English list ("… mission") is never taken for one. A bare tail with a digit
  is a value ("5件"), not a label.
- Boilerplate lines at a document's top or bottom that recur in other documents of the corpus
  (site menus, "© 2025 Example. All rights reserved.").

`learn_chrome` looks at every document's lines once; `Chrome.strip_labels` removes learned labels
from a line wherever they trail a phrase (at the line end or before a closing bracket).
"""

import re
from collections import Counter
from dataclasses import dataclass, field

LABEL_MAX_CHARS = 16
BRACKETED_MAX_CHARS = 30
# Line ends carrying the tail within one document, or documents carrying it, to call it a label.
LABEL_MIN_LINES = 3
LABEL_MIN_DOCUMENTS = 2
EDGE_MIN_DOCUMENTS = 2
# Only short lines count as boilerplate by repetition: a shared paragraph (a quoted passage, a
# duplicated document) is content.
EDGE_LINE_MAX = 60

_TERMINAL = "。！？!?．."
_CLOSERS = "」』）)]】\"'"
_BRACKETED = re.compile(rf"\s(\([^()\n]{{1,{BRACKETED_MAX_CHARS}}}\)|\[[^\[\]\n]{{1,{BRACKETED_MAX_CHARS}}}\]"
                        rf"|【[^【】\n]{{1,{BRACKETED_MAX_CHARS}}}】|（[^（）\n]{{1,{BRACKETED_MAX_CHARS}}}）)$")
_BARE = re.compile(rf"\s(\S{{1,{LABEL_MAX_CHARS}}})$")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


# A number with an optional short unit: sizes inside a label vary ("PDF:1.2MB", "PDF:850KB").
_NUMBER = r"\d+(?:[.,]\d+)*\s?[A-Za-z]{0,2}"


def _shape(tail: str) -> str:
    return re.sub(_NUMBER, "0", tail)


def trailing_label(line: str) -> str | None:
    """The label-shaped tail of a line, as its digit-free shape, or None."""
    s = line.rstrip()
    m = _BRACKETED.search(s)
    if m and s[: m.start()].strip():
        return _shape(m.group(1))
    m = _BARE.search(s)
    if not m or not s[: m.start()].strip():
        return None
    tail = m.group(1)
    if tail[-1] in _TERMINAL or tail[-1] in _CLOSERS or any(ch.isdigit() for ch in tail):
        return None
    if _JAPANESE.search(tail) or not any(ch.isalnum() for ch in tail):
        return tail
    return None


def _pattern(shape: str) -> str:
    return re.escape(shape).replace("0", _NUMBER)


@dataclass
class Chrome:
    labels: set[str] = field(default_factory=set)  # label shapes
    edge_lines: set[str] = field(default_factory=set)  # stripped lines repeated across documents
    _regex: re.Pattern | None = None

    def regex(self) -> re.Pattern | None:
        if self._regex is None and self.labels:
            alts = "|".join(_pattern(s) for s in sorted(self.labels, key=len, reverse=True))
            self._regex = re.compile(rf"[ \t\u3000]+(?:{alts})(?=[ \t\u3000]*(?:$|[{re.escape(_CLOSERS)}]))", re.M)
        return self._regex

    def strip_labels(self, text: str) -> str:
        rx = self.regex()
        return rx.sub("", text) if rx is not None else text


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def learn_chrome(texts: list[str]) -> Chrome:
    """Labels and repeated edge lines of a corpus, from its documents' uncleaned texts."""
    per_doc_lines: Counter[str] = Counter()
    per_doc_labels: Counter[str] = Counter()
    label_lines: Counter[str] = Counter()
    max_in_one: Counter[str] = Counter()
    for text in texts:
        lines = _lines(text)
        per_doc_lines.update(set(lines))
        here = Counter(lab for lab in (trailing_label(line) for line in lines) if lab)
        per_doc_labels.update(here.keys())
        label_lines.update(here)
        for lab, n in here.items():
            max_in_one[lab] = max(max_in_one[lab], n)
    candidates = {lab for lab, n in label_lines.items() if n >= LABEL_MIN_LINES
                  and (max_in_one[lab] >= LABEL_MIN_LINES or per_doc_labels[lab] >= LABEL_MIN_DOCUMENTS)}
    labels = candidates - _in_running_text(candidates, texts)
    edge = {line for line, n in per_doc_lines.items()
            if n >= EDGE_MIN_DOCUMENTS and len(line) <= EDGE_LINE_MAX}
    return Chrome(labels=labels, edge_lines=edge)


def _in_running_text(shapes: set[str], texts: list[str]) -> set[str]:
    """The shapes that also occur inside prose (not as a trailing label): those are words.
    One pass over the corpus for all of them."""
    if not shapes:
        return set()
    rx = re.compile("|".join(_pattern(s) for s in sorted(shapes, key=len, reverse=True)))
    words: set[str] = set()
    for text in texts:
        for m in rx.finditer(text):
            before = text[m.start() - 1] if m.start() else "\n"
            after = text[m.end():m.end() + 1]
            tail_position = before in " \t\u3000" and (after in ("", "\n", " ", "\t", "\u3000")
                                                        or after in _CLOSERS)
            if not tail_position:
                words.add(_shape(m.group(0)))
    return words
