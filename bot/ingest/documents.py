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
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.ingest.cleaning import clean_text, html_to_text, markdown_to_text
from bot.errors import CorpusError

SUFFIXES = (".txt", ".md", ".html", ".htm")
# Tried in order when a file is not UTF-8: Japanese pages still come in these.
FALLBACK_ENCODINGS = ("cp932", "euc_jp")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)


@dataclass(frozen=True)
class Document:
    doc_id: str
    path: str  # relative to the corpus folder, POSIX style
    title: str
    url: str | None
    lang: str
    text: str  # cleaned text; every offset in the index points into it
    content_hash: str  # sha256 of the file's bytes: decides whether a rebuild re-embeds it


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def require_documents(corpus_dir: Path, max_bytes: int) -> tuple[list[Document], list[Skipped]]:
    """`load_corpus`, failing with every file's reason when no document is usable."""
    docs, skipped = load_corpus(corpus_dir, max_bytes)
    if not docs:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped) or "the folder is empty"
        raise CorpusError(f"no usable document in {corpus_dir} ({reasons})")
    return docs, skipped


def doc_id_for(relative: Path) -> str:
    # The relative path without its suffix: stable across rebuilds and readable in URLs.
    return relative.with_suffix("").as_posix()


def load_corpus(corpus_dir: Path, max_bytes: int) -> tuple[list[Document], list[Skipped]]:
    root = corpus_dir.resolve()
    docs: list[Document] = []
    skipped: list[Skipped] = []
    if not root.is_dir():
        return docs, [Skipped(str(corpus_dir), "corpus folder does not exist")]
    for path in sorted(_walk(corpus_dir)):
        rel = path.relative_to(corpus_dir)
        if path.suffix.lower() not in SUFFIXES:
            if path.name.lower() != "readme.md" and not path.name.startswith("."):
                skipped.append(Skipped(rel.as_posix(), f"unsupported file type {path.suffix or '(none)'}"))
            continue
        if rel.as_posix().lower() == "readme.md":
            continue  # the folder's own instructions, not a document
        try:
            doc = read_document(path, rel, root, max_bytes)
        except _Skip as why:
            skipped.append(Skipped(rel.as_posix(), str(why)))
            continue
        docs.append(doc)
    return docs, skipped


def _walk(corpus_dir: Path):
    for dirpath, dirnames, filenames in os.walk(corpus_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith("."):
                yield Path(dirpath) / name


class _Skip(Exception):
    pass


def read_document(path: Path, rel: Path, root: Path, max_bytes: int) -> Document:
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
    if b"\x00" in raw[:8192]:
        raise _Skip("binary file")
    source = _decode(raw)
    kind = path.suffix.lower()
    meta: dict = {}
    if kind in (".html", ".htm"):
        text, meta = html_to_text(source)
    else:
        body, meta = split_front_matter(source)
        text = markdown_to_text(body) if kind == ".md" else body
    text = clean_text(text)
    if not text:
        raise _Skip("no text left after cleaning")
    title = str(meta.get("title") or _first_line(text) or rel.stem).strip()
    lang = str(meta.get("lang") or _guess_lang(text))
    url = meta.get("url") or meta.get("source")
    return Document(
        doc_id=doc_id_for(rel),
        path=rel.as_posix(),
        title=title,
        url=str(url) if url else None,
        lang=lang,
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
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
    m = _FRONT_MATTER.match(source)
    if not m:
        return source, {}
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise _Skip(f"front matter is not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(meta, dict):
        raise _Skip("front matter must be a mapping of key: value lines")
    return source[m.end():], meta


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:120]


def _guess_lang(text: str) -> str:
    sample = text[:2000]
    ja = sum(1 for ch in sample if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
    return "ja" if ja > len(sample) * 0.1 else "en"
