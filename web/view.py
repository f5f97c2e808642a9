"""Pure helpers that turn engine results into pieces the templates print (always escaped).

Text is split into (text, flag) parts instead of building HTML strings, so the templates stay the
only place markup is written and every piece of document text goes through autoescaping. Answers
the chat's script fetches are rendered here too (POST /fragments/answer, web/routes/pages.py): the
script has no copy of these rules.
"""

import math
import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from bot.ingest.passages import is_heading
from bot.results import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, Citation, DocumentView

_MARKER = re.compile(r"\[(\d+)\]")
_PARAGRAPH = re.compile(r"[^\n]+(?:\n[^\n]+)*")
# Where an excerpt may end without "…": after a sentence end or at a line break.
_BOUNDARY = re.compile(r"[。！？!?]|\n")
EXCERPT_CONTEXT = 60


def anchor(chunk_id: str) -> str:
    # Unique within one document page: its chunk ids differ only in their "#pN" suffix.
    return "p-" + re.sub(r"[^A-Za-z0-9_-]", "-", chunk_id)


def source_href(doc_id: str, chunk_id: str, highlight: tuple[int, int] | None = None,
                lang: str | None = None) -> str:
    """Link to a passage in the document view; `highlight` is relative to the passage text.
    `lang` keeps the chat's language on the document page (and on its way back to the chat)."""
    query = f"chunk={quote(chunk_id, safe='')}"
    if highlight is not None:
        query += f"&hl={int(highlight[0])}-{int(highlight[1])}"
    if lang in ("ja", "en"):
        query += f"&lang={lang}"
    return f"/documents/{quote(doc_id, safe='/')}?{query}#{anchor(chunk_id)}"


def safe_url(url: str | None) -> str | None:
    """Only http(s) links from document metadata: a `javascript:` URL in front matter must not
    become a clickable link."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def site_name(url: str | None) -> str | None:
    """The site a document comes from, as a reader names it: its host without "www."."""
    url = safe_url(url)
    if not url:
        return None
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return None
    return host[4:] if host.startswith("www.") else host or None


def answer_parts(text: str, citations: list[Citation]) -> list[tuple[str, int | None]]:
    """The answer split around its [n] markers; a part with n set is a link to citation n."""
    known = {c.n for c in citations}
    parts: list[tuple[str, int | None]] = []
    pos = 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if n not in known:
            continue
        if m.start() > pos:
            parts.append((text[pos:m.start()], None))
        parts.append((m.group(0), n))
        pos = m.end()
    if pos < len(text):
        parts.append((text[pos:], None))
    return parts


def mark_parts(text: str, start: int, end: int, mark: tuple[int, int] | None) -> list[tuple[str, bool]]:
    """`text[start:end]` split into pieces, the ones inside `mark` flagged (offsets into text)."""
    if mark is None:
        return [(text[start:end], False)] if end > start else []
    ms, me = max(mark[0], start), min(mark[1], end)
    if ms >= me:
        return [(text[start:end], False)] if end > start else []
    pieces = [(text[start:ms], False), (text[ms:me], True), (text[me:end], False)]
    return [(t, m) for t, m in pieces if t]


def excerpt_parts(text: str, highlight: tuple[int, int] | None,
                  context: int = EXCERPT_CONTEXT) -> list[tuple[str, bool]]:
    """A card's text: the highlighted sentence with up to `context` characters around it, cut at
    a sentence or line end where one is near, "…" marking each cut. Without a highlight, the
    passage's beginning. The whole passage is one click away (the document view)."""
    if not highlight or not 0 <= highlight[0] < highlight[1]:
        if len(text) <= 2 * context:
            return [(text, False)] if text else []
        return [(_cut_after(text, 0, 2 * context), False)]
    s, e = highlight[0], min(highlight[1], len(text))
    start = max(0, s - context)
    if start > 0:
        ends = [m.end() for m in _BOUNDARY.finditer(text, start, s)]
        start = ends[0] if ends else start
    before = text[start:s].lstrip()
    if start > 0 and before:
        before = "…" + before
    after = _cut_after(text, e, context)
    return [(t, m) for t, m in ((before, False), (text[s:e], True), (after, False)) if t]


def card_parts(text: str, highlight: tuple[int, int] | None,
               answer_span: tuple[int, int] | None = None,
               context: int = EXCERPT_CONTEXT) -> list[tuple[str, bool, list[tuple[str, bool]]]]:
    """`excerpt_parts` as (text, marked, pieces): the marked (cited) sentence comes in pieces
    flagged bold where `answer_span` (offsets into `text`, like `highlight`) falls. A span
    outside the cited sentence is ignored: the bold points into the sentence being quoted."""
    out: list[tuple[str, bool, list[tuple[str, bool]]]] = []
    for piece, marked in excerpt_parts(text, highlight, context):
        if not marked:
            out.append((piece, False, []))
            continue
        pieces = [(piece, False)]
        if highlight and answer_span:
            bs = max(answer_span[0] - highlight[0], 0)
            be = min(answer_span[1] - highlight[0], len(piece))
            if bs < be:
                pieces = [(t, b) for t, b in ((piece[:bs], False), (piece[bs:be], True), (piece[be:], False)) if t]
        out.append((piece, True, pieces))
    return out


def section_parts(section: str, span: tuple[int, int] | None) -> list[tuple[str, bool]]:
    """A card's section heading in pieces flagged bold where the answering phrase (`span`, when
    the heading gives it) falls."""
    a, b = span if span and 0 <= span[0] < span[1] <= len(section) else (0, 0)
    return [(t, bold) for t, bold in ((section[:a], False), (section[a:b], True), (section[b:], False)) if t]


def ocr_percent(confidence) -> int | None:
    """An OCR confidence (0–1) as a whole percentage, half up."""
    if confidence is None or isinstance(confidence, bool) or not isinstance(confidence, (int, float)):
        return None
    if not math.isfinite(confidence):
        return None
    return min(100, max(0, math.floor(confidence * 100 + 0.5)))


def card_place(item, strings: dict[str, str]) -> list[tuple[str, str]]:
    """Where a card's cited sentence is in its file, in the reader's language, as (kind, text):
    ("where", "3ページ"), ("where", "スライド3"), ("where", "シート「予算」3行目") and ("ocr",
    "OCR（信頼度 86%）") when the text was read by OCR. Nothing for plain text (or a related
    passage, which carries no location)."""
    out: list[tuple[str, str]] = []
    page, slide = getattr(item, "page", None), getattr(item, "slide", None)
    sheet, row = getattr(item, "sheet", None), getattr(item, "row", None)
    if page is not None:
        out.append(("where", strings["page_n"].format(n=page)))
    if slide is not None:
        out.append(("where", strings["slide_n"].format(n=slide)))
    if sheet:
        out.append(("where", strings["sheet_row"].format(sheet=sheet, row=row) if row is not None
                    else strings["sheet_only"].format(sheet=sheet)))
    conf = ocr_percent(getattr(item, "ocr_confidence", None))
    if conf is not None:
        out.append(("ocr", strings["ocr_mark"].format(conf=conf)))
    return out


def _cut_after(text: str, start: int, context: int) -> str:
    end = start + context
    if end >= len(text):
        return text[start:]
    ends = [m.end() for m in _BOUNDARY.finditer(text, start, end)]
    cut = ends[-1] if ends else end
    return text[start:cut].rstrip() + "…"


_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def answer_state(answer) -> str:
    """`answered`, `partial` or `not_found`; an answer stored before `state` existed (or a
    refusal without it) is told by `found`."""
    state = getattr(answer, "state", None)
    if state in ("partial", "not_found"):
        return state
    return "answered" if answer.found else "not_found"


def _squash(text: str) -> str:
    return " ".join((text or "").split())


def searched_query(question: str | None, query: str | None) -> str | None:
    """The query the engine searched with, when it is not just the question as typed (a
    follow-up with its topic filled in); None otherwise."""
    if not question or not query or _squash(question) == _squash(query):
        return None
    return query.strip()


def text_lang(text: str, lang: str) -> str | None:
    """The language of a piece of document text when it differs from the answer's `lang`
    (Japanese script → ja, else en), for a `lang` attribute; None when it is the same."""
    own = "ja" if _JAPANESE.search(text or "") else "en"
    return own if own != lang else None


_JA_QUOTE = re.compile(r"^(「.*」)\s*(\[\d+\])\s*\(Japanese source\)\s*$")
_GLOSS = re.compile(r"^- (.+?): (.+)$")


@dataclass
class Layout:
    """An answer as the page shows it: the main text; for an English answer that quotes Japanese,
    the quotes (each "「…」[n]") and the glossary fold into a "Japanese source text" section."""
    main: str
    quotes: list[str] = field(default_factory=list)
    glossary_title: str = ""
    glossary: list[tuple[str, str]] = field(default_factory=list)


def answer_layout(text: str, lang: str) -> Layout:
    if lang != "en":
        return Layout(text)
    main: list[str] = []
    quotes: list[str] = []
    gloss_title = ""
    gloss: list[tuple[str, str]] = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        entries = [m for line in lines[1:] if (m := _GLOSS.match(line))]
        if lines[0].startswith("Glossary") and len(lines) > 1 and len(entries) == len(lines) - 1 and not gloss:
            gloss_title = lines[0].rstrip(":").strip()
            gloss = [(m.group(1), m.group(2)) for m in entries]
            continue
        kept = []
        for line in lines:
            m = _JA_QUOTE.match(line)
            if m:
                quotes.append(m.group(1) + m.group(2))
            else:
                kept.append(line)
        if kept:
            main.append("\n".join(kept))
    if not quotes:  # nothing to fold: the text as it is
        return Layout(text)
    return Layout("\n\n".join(main), quotes, gloss_title, gloss)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def format_date(value: str | None, lang: str) -> tuple[str, str | None] | None:
    """A document's date ("2019-09-24", "2019-09" or "2019") as (text, machine-readable value
    for <time datetime>); another string is shown as it is; nothing for none."""
    if not value or not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    m = _DATE.fullmatch(value)
    if not m or (m.group(2) and not 1 <= int(m.group(2)) <= 12) or (m.group(3) and not 1 <= int(m.group(3)) <= 31):
        return value, None
    y, mo, d = m.group(1), m.group(2), m.group(3)
    if lang == "ja":
        text = f"{y}年" + (f"{int(mo)}月" if mo else "") + (f"{int(d)}日" if d else "")
    else:
        text = " ".join(p for p in (str(int(d)) if d else "", _MONTHS[int(mo) - 1] if mo else "", y) if p)
    return text, value


def parse_span(value: str | None) -> tuple[int, int] | None:
    """"12-40" → (12, 40); anything else → None (a bad highlight hint is ignored, not an error)."""
    m = re.fullmatch(r"(\d{1,7})-(\d{1,7})", value or "")
    if not m:
        return None
    start, end = int(m.group(1)), int(m.group(2))
    return (start, end) if start < end else None


@dataclass
class Block:
    kind: str  # "heading", "text" or "passage"
    text: str = ""
    anchor: str = ""
    chunk_id: str = ""
    section: str = ""
    cited: bool = False
    paragraphs: list[list[tuple[str, bool]]] = field(default_factory=list)


def document_blocks(doc: DocumentView, chunk: str | None, hl: tuple[int, int] | None) -> list[Block]:
    """The whole document in order: text between passages (headings) and each passage, the
    cited passage flagged and its cited sentence marked. `hl` is relative to that passage."""
    text = doc.text
    blocks: list[Block] = []
    pos = 0
    for p in doc.passages:
        blocks.extend(_between(text, pos, p.start))
        cited = p.chunk_id == chunk
        mark = (p.start + hl[0], min(p.start + hl[1], p.end)) if cited and hl else None
        paragraphs = [mark_parts(text, m.start(), m.end(), mark)
                      for m in _PARAGRAPH.finditer(text, p.start, p.end)]
        blocks.append(Block("passage", anchor=anchor(p.chunk_id), chunk_id=p.chunk_id,
                            section=p.section, cited=cited, paragraphs=paragraphs))
        pos = p.end
    blocks.extend(_between(text, pos, len(text)))
    return blocks


def _between(text: str, start: int, end: int) -> list[Block]:
    out = []
    for m in _PARAGRAPH.finditer(text, start, end):
        chunk = m.group(0).strip()
        if chunk:
            out.append(Block("heading" if is_heading(chunk) else "text", text=chunk))
    return out


def fit_history(turns: list[dict]) -> list[dict]:
    """The newest turns that fit the API's limits, so a long conversation keeps working."""
    kept: list[dict] = []
    total = 0
    for turn in reversed(turns):
        size = len(turn["content"])
        if len(kept) >= MAX_HISTORY_TURNS or total + size > MAX_HISTORY_CHARS:
            break
        kept.append(turn)
        total += size
    return kept[::-1]


@dataclass
class CitedPlace:
    """Where the cited sentence is in its file, for the document view."""
    start: int  # the sentence's document offsets
    end: int
    page: int | None = None
    slide: int | None = None
    sheet: str | None = None
    row: int | None = None
    ocr: float | None = None


def cited_place(doc: DocumentView, chunk: str | None, hl: tuple[int, int] | None) -> CitedPlace | None:
    """The cited sentence's location (page, slide, sheet and row) from the document's locations."""
    if not chunk or not hl or not doc.locations:
        return None
    passage = next((p for p in doc.passages if p.chunk_id == chunk), None)
    if passage is None:
        return None
    start, end = passage.start + hl[0], min(passage.start + hl[1], passage.end)
    where = None
    for s, e, w in doc.locations:
        if s <= start < e:
            where = w
            break
        if s > start:
            break
        where = w
    if where is None:
        return None
    return CitedPlace(start, end, where.get("page"), where.get("slide"), where.get("sheet"),
                      where.get("row"), where.get("ocr"))


def page_image_href(doc_id: str, page: int, start: int, end: int) -> str:
    return f"/page-image/{quote(doc_id, safe='/')}?page={int(page)}&s={int(start)}-{int(end)}"


def original_href(doc_id: str, page: int | None = None) -> str:
    return f"/original/{quote(doc_id, safe='/')}" + (f"#page={int(page)}" if page else "")


def starting_text(build: dict | None, strings: dict[str, str]) -> str:
    """What the page says while the server starts: loading, or the first build's progress
    (`BuildProgress.as_dict()`)."""
    if not build:
        return strings["starting"]
    total = build.get("documents_total") or 0
    if not total:
        return strings["build_reading"]
    if build.get("stage") in ("reading", "splitting"):
        return strings["build_docs"].format(done=build.get("documents_done", 0), total=total)
    if build.get("stage") == "embedding" and build.get("rows_total"):
        return strings["build_embed"].format(total=total, pct=100 * build.get("rows_done", 0) // build["rows_total"])
    return strings["build_finish"].format(total=total)
