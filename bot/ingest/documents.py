"""Reading `corpus/`: files → cleaned documents with metadata.

Metadata lives in optional YAML front matter at the top of `.txt` / `.md` files::

    ---
    title: 国際的な取り組みと貢献
    url: https://www.jaxa.jp/projects/int/index_j.html
    lang: ja
    ---

HTML pages take theirs from `<title>`, `<link rel="canonical">` and `<html lang>`. A file that
cannot be used is skipped with a reason; it never stops the build on its own.
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import CorpusError
from bot.ingest.chrome import Chrome, learn_chrome
from bot.ingest.cleaning import clean_text, html_to_text, markdown_to_text, prepare_text
from bot.ingest.dates import stated_date
from bot.ingest.frontmatter import MAX_FRONT_MATTER_BYTES, FrontMatterError, html_metadata, parse_front_matter
from bot.ingest.locations import Box, Extracted, Location, remap
from bot.ingest.ocr import OcrEngine, Tesseract
from bot.ingest.office import OfficeLimits, OfficeRefused, read_office
from bot.ingest.pdf import PdfRefused, ReadLimits, read_pdf
from bot.results import Skipped

TEXT_SUFFIXES = (".txt", ".md", ".html", ".htm")
STRUCTURED_SUFFIXES = (".pdf", ".docx", ".pptx", ".xlsx")
SUFFIXES = TEXT_SUFFIXES + STRUCTURED_SUFFIXES
# Bump when what a reader of a structured format extracts changes: their documents are re-embedded.
EXTRACT_VERSION = 1
# Tried in order when a file is not UTF-8: Japanese pages still come in these.
FALLBACK_ENCODINGS = ("cp932", "euc_jp")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_FRONT_MATTER_START = re.compile(r"\A---[ \t]*\r?\n")


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str  # relative to the corpus folder, POSIX style
    title: str
    url: str | None
    lang: str
    text: str  # cleaned text; every offset in the index points into it
    content_hash: str  # sha256 of the file's bytes and its cleaned text: decides whether a rebuild re-embeds it
    kind: str = "text"  # text, pdf, docx, pptx, xlsx
    locations: tuple[Location, ...] = ()  # where stretches of `text` are in the file (page, slide, sheet, row)
    boxes: dict[int, Box] = field(default_factory=dict, compare=False)  # PDF: offset → character box
    page_sizes: tuple[tuple[float, float], ...] = ()
    pages: int = 0  # PDF pages, slides or sheets
    ocr_pages: int = 0
    notes: tuple[str, ...] = ()  # parts left out (pages that needed OCR without Tesseract), with why
    file_hash: str = ""  # sha256 of the file's bytes: the page view renders only the file that was indexed
    date: str | None = None  # ISO date (or year-month, year): front matter, HTML meta/<time>, or stated near the top




@dataclass
class ReadOptions:
    """How structured files are read: limits and the OCR engine (None: no OCR)."""
    pdf: ReadLimits = field(default_factory=ReadLimits)
    office: OfficeLimits = field(default_factory=OfficeLimits)
    ocr: OcrEngine | None = field(default_factory=Tesseract)

    @classmethod
    def from_settings(cls, settings) -> "ReadOptions":
        return cls(pdf=ReadLimits(max_pages=settings.max_pdf_pages, seconds=settings.max_read_seconds),
                   office=OfficeLimits(max_unzipped_bytes=int(settings.max_unzipped_mb * 1e6),
                                       max_rows=settings.max_sheet_rows),
                   ocr=Tesseract(timeout=settings.ocr_timeout) if settings.ocr else None)


def require_documents(corpus_dir: Path, max_bytes: int, options: ReadOptions | None = None
                      ) -> tuple[list[Document], list[Skipped]]:
    """`load_corpus`, failing with every file's reason when no document is usable."""
    docs, skipped = load_corpus(corpus_dir, max_bytes, options)
    if not docs:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped) or "the folder is empty"
        raise CorpusError(f"no usable document in {corpus_dir} ({reasons})")
    return docs, skipped


def doc_id_for(relative: Path) -> str:
    # The relative path without its suffix: stable across rebuilds and readable in URLs.
    return relative.with_suffix("").as_posix()


def load_corpus(corpus_dir: Path, max_bytes: int, options: ReadOptions | None = None
                ) -> tuple[list[Document], list[Skipped]]:
    """Every usable document, cleaned. Two passes: read every file, learn the corpus's chrome
    (labels and boilerplate lines that recur, `bot.ingest.chrome`), then clean each document."""
    options = options or ReadOptions()
    root = corpus_dir.resolve()
    sources: list[_Source] = []
    skipped: list[Skipped] = []
    if not root.is_dir():
        return [], [Skipped(str(corpus_dir), "corpus folder does not exist")]
    for path in sorted(_walk(corpus_dir)):
        rel = path.relative_to(corpus_dir)
        if path.suffix.lower() not in SUFFIXES:
            if path.name.lower() != "readme.md" and not path.name.startswith("."):
                skipped.append(Skipped(rel.as_posix(), f"unsupported file type {path.suffix or '(none)'}"))
            continue
        if rel.as_posix().lower() == "readme.md":
            continue  # the folder's own instructions, not a document
        try:
            sources.append(read_source(path, rel, root, max_bytes, options))
        except _Skip as why:
            skipped.append(Skipped(rel.as_posix(), str(why)))
    chrome = learn_chrome([src.text for src in sources])
    docs: list[Document] = []
    for src in sources:
        try:
            docs.append(to_document(src, chrome))
        except _Skip as why:
            skipped.append(Skipped(src.rel.as_posix(), str(why)))
    return docs, sorted(skipped, key=lambda s: s.path)


def _walk(corpus_dir: Path):
    for dirpath, dirnames, filenames in os.walk(corpus_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith("."):
                yield Path(dirpath) / name


class _Skip(Exception):
    pass


@dataclass
class _Source:
    rel: Path
    text: str  # decoded, front matter and markup removed, not yet cleaned
    meta: dict
    raw_hash: str
    extracted: Extracted | None = None  # a structured file's text with its locations


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def read_structured(raw: bytes, kind: str, options: ReadOptions) -> Extracted:
    """A PDF or Office file's text with locations; _Skip with the reason when it cannot be read."""
    try:
        if kind == "pdf":
            return read_pdf(raw, options.pdf, options.ocr)
        return read_office(raw, kind, options.office)
    except (PdfRefused, OfficeRefused) as why:
        raise _Skip(str(why)) from None
    except Exception as exc:  # a file the libraries choke on must never stop the build
        raise _Skip(f"cannot be read ({exc.__class__.__name__}: {str(exc)[:160]})") from None


def read_source(path: Path, rel: Path, root: Path, max_bytes: int, options: ReadOptions | None = None) -> _Source:
    try:
        real = path.resolve(strict=True)
    except OSError as exc:
        raise _Skip(f"unreadable ({exc.strerror or exc})") from None
    if not real.is_relative_to(root):
        raise _Skip("symlink leads outside the corpus folder")
    if not real.is_file():
        raise _Skip("not a regular file")
    try:
        size = real.stat().st_size
        if size > max_bytes:
            raise _Skip(f"too large ({size / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB limit)")
        raw = real.read_bytes()
    except OSError as exc:
        raise _Skip(f"unreadable ({exc.strerror or exc})") from None
    if not raw.strip():
        raise _Skip("empty file")
    kind = path.suffix.lower()
    if kind in STRUCTURED_SUFFIXES:
        extracted = read_structured(raw, kind[1:], options or ReadOptions())
        # Same length, so the reader's offsets stay valid; cleaning sees no control characters.
        extracted.text = _CONTROL_CHARS.sub(" ", extracted.text)
        meta = {"title": extracted.title} if extracted.title else {}
        return _Source(rel, extracted.text, meta, hashlib.sha256(raw).hexdigest(), extracted)
    if b"\x00" in raw[:8192]:
        raise _Skip("binary file")
    source = _decode(raw)
    if kind in (".html", ".htm"):
        text, meta = html_to_text(source)
        meta = html_metadata(meta)
    else:
        body, meta = split_front_matter(source)
        text = markdown_to_text(body) if kind == ".md" else body
    return _Source(rel, prepare_text(text), meta, hashlib.sha256(raw).hexdigest())


def to_document(src: _Source, chrome: Chrome | None) -> Document:
    ex = src.extracted
    # A structured file's blocks are known (tables, slides, sheets): no menu or footer by shape;
    # its running headers and footers went by repetition across its pages.
    text = clean_text(src.text, chrome, by_shape=ex is None, title=src.meta.get("title", ""))
    if not text.strip():
        if ex is not None and ex.notes:
            raise _Skip("no text: " + "; ".join(ex.notes))
        raise _Skip("no text left after cleaning")
    meta = src.meta
    located: dict = {}
    if ex is not None:
        locations, boxes = remap(src.text, text, ex.locations, ex.boxes)
        located = dict(kind=ex.kind, locations=tuple(locations), boxes=boxes, page_sizes=tuple(ex.page_sizes),
                       pages=ex.pages, ocr_pages=ex.ocr_pages, notes=tuple(ex.notes))
    first = _first_line(text) if ex is None or ex.kind in ("pdf", "docx") else ""
    title = (meta.get("title") or first or src.rel.stem).strip()
    lang = meta.get("lang") or _guess_lang(text)
    date = meta.get("date") or stated_date(text, title)
    # The cleaned text is part of the hash: what the corpus teaches about chrome can change a
    # document's text without changing its bytes, and its vectors must follow.
    salt = f"\n{EXTRACT_VERSION}" if ex is not None else ""
    content_hash = hashlib.sha256(f"{src.raw_hash}\n{text}{salt}".encode()).hexdigest()
    return Document(
        doc_id=doc_id_for(src.rel),
        path=src.rel.as_posix(),
        title=title,
        url=meta.get("url"),
        lang=lang,
        text=text,
        content_hash=content_hash,
        file_hash=src.raw_hash,
        date=date,
        **located,
    )


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for enc in FALLBACK_ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise _Skip("not valid UTF-8, Shift_JIS or EUC-JP text")


def split_front_matter(source: str) -> tuple[str, dict]:
    m = _FRONT_MATTER.match(source[: MAX_FRONT_MATTER_BYTES + 64])
    if not m:
        if _FRONT_MATTER_START.match(source) and _FRONT_MATTER.match(source):
            raise _Skip(f"front matter is larger than {MAX_FRONT_MATTER_BYTES} bytes")
        return source, {}
    try:
        meta = parse_front_matter(m.group(1))
    except FrontMatterError as exc:
        raise _Skip(str(exc)) from None
    return source[m.end():], meta


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:120]


def _guess_lang(text: str) -> str:
    sample = text[:2000]
    ja = sum(1 for ch in sample if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    return "ja" if ja > len(sample) * 0.1 else "en"
