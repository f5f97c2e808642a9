"""Splitting a cleaned document into sentences and passages, keeping exact character offsets.

Every span is `[start, end)` into the document's cleaned text, so `text[start:end]` gives the
passage (or sentence) back unchanged. A passage never cuts a sentence: a sentence longer than the
target size becomes a passage of its own.
"""

import re
from dataclasses import dataclass

from bot.ingest.dates import date_line

# Bump when the splitting rules change: a different chunker forces a full rebuild.
CHUNKER_VERSION = 4
TARGET_MAX = 300
TARGET_MIN = 100
MERGE_LIMIT = 400
HEADING_MAX = 40

# A sentence ends after 。！？!? (plus closing brackets), after a Western full stop followed by
# a space, or at a line break. The full stop of a title or an initial before a name (Mr. Cheng
# Hai Tan, Prof. J. Smith, U.S. plans, Sept. 2019) ends no sentence.
_ABBREVIATION = "".join(rf"(?<!\b{a})" for a in (
    "Mr", "Mrs", "Ms", "Dr", "Prof", "Jr", "Sr", "St", "Mt", "vs", "e.g", "i.e", "cf", "approx", "Jan", "Feb", "Mar",
    "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec")) + r"(?<![.\s(][A-Z])"
_SENTENCE_END = re.compile(r"[。！？!?][」』）)\]】\"']*|" + _ABBREVIATION + r"[.．](?=\s)|\n")


@dataclass(frozen=True)
class Passage:
    chunk_id: str
    doc_id: str
    ordinal: int
    section: str
    start: int
    end: int
    text: str
    sentences: tuple[tuple[int, int], ...]  # document offsets, in order

    @property
    def embed_text(self) -> str:
        # The section title disambiguates passages such as 「カナダとは、…」 under 「アメリカ・カナダ」.
        return f"{self.section}\n{self.text}" if self.section else self.text


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans inside `text[start:end]`, whitespace trimmed, empty ones dropped."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    for m in _SENTENCE_END.finditer(text, start, end):
        spans.append((pos, m.end()))
        pos = m.end()
    spans.append((pos, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def _block_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n[^\n]+)*", text)
            if text[m.start():m.end()].strip()]


def is_heading(block: str, title: str = "") -> bool:
    """A single short line without a full stop, standing alone, titles what follows it (the
    document's own title, whatever its length, too). A date (「2023.02.15(水)」) or a salutation
    ending in a comma ("Ladies and gentlemen,") names no section."""
    line = block.strip()
    if "\n" in line:
        return False
    if "。" in line or line.endswith((".", ",", "、", "，")) or date_line(line) is not None:
        return False
    return len(line) <= HEADING_MAX or bool(title) and line == title.strip()


def split_passages(doc_id: str, text: str, title: str = "") -> list[Passage]:
    groups: list[tuple[str, list[tuple[int, int]]]] = []  # (section, sentences)
    section = ""
    current: list[tuple[int, int]] = []
    length = 0

    def flush():
        nonlocal current, length
        if current:
            groups.append((section, current))
        current, length = [], 0

    for bs, be in _block_spans(text):
        if is_heading(text[bs:be], title):
            flush()
            section = text[bs:be].strip()
            continue
        for s, e in split_sentences(text, bs, be):
            if current and length + (e - s) > TARGET_MAX:
                flush()
            current.append((s, e))
            length += e - s
    flush()
    groups = _merge_small(groups, text)
    return [
        Passage(
            chunk_id=f"{doc_id}#p{i}",
            doc_id=doc_id,
            ordinal=i,
            section=sec,
            start=sents[0][0],
            end=sents[-1][1],
            text=text[sents[0][0]:sents[-1][1]],
            sentences=tuple(sents),
        )
        for i, (sec, sents) in enumerate(groups)
    ]


def _merge_small(groups, text):
    # A short tail of a section reads better joined to the passage before it.
    out: list[tuple[str, list[tuple[int, int]]]] = []
    for sec, sents in groups:
        size = sents[-1][1] - sents[0][0]
        if out and out[-1][0] == sec and size < TARGET_MIN:
            prev = out[-1][1]
            if sents[-1][1] - prev[0][0] <= MERGE_LIMIT:
                out[-1] = (sec, prev + sents)
                continue
        out.append((sec, list(sents)))
    return out
