"""Managing the corpus folder's files for editors (the admin page, `/api/documents`, `jaxabot
documents`): what is there and how it was indexed, adding and replacing files, deleting them into
a recoverable trash.

- Names are sanitised (`clean_name`): Unicode NFC, the last path component only, no control or
  bidi characters, no leading dots (hidden files), Japanese kept, at most `MAX_NAME_CHARS`.
- A file's type is decided by its bytes (`sniff`), never by its name: the name's suffix must be
  one the content allows and one the ingest layer reads (`bot.ingest.documents.SUFFIXES`).
- Writes are atomic (`write_atomic`): a hidden temporary file in the corpus folder, fsync, then a
  rename (replace) or a hard link (add: never overwrites a file that appeared meanwhile).
- A delete moves the file to `DATA_DIR/trash/<id>/` with who deleted it and when. It can be
  restored until a build published after the delete no longer holds it; then it is purged
  (`Corpus.purge_trash`, run whenever the trash is listed).
"""

import io
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import unicodedata
import zipfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field

from bot.errors import CorpusUnwritable, DocumentExists, DocumentNotFound, JaxabotError, UploadRejected, UploadTooLarge
from bot.ingest.documents import FALLBACK_ENCODINGS, SUFFIXES
from bot.store import versions as store

log = logging.getLogger(__name__)

MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240  # ext4 allows 255 bytes per name; leave room for nothing else
TRASH_DIR = "trash"
TRASH_META = "entry.json"
BUILD_RECORD = "last_build.json"
# Files at most per upload request; the request itself may be this many times the file limit.
MAX_FILES_PER_UPLOAD = 20
UPLOAD_REQUEST_FILES = 4
RESERVED_NAMES = {"readme.md"}  # the corpus folder's own instructions, never a document

# What the bytes can be, and the suffixes such a file may carry. The suffixes that are really
# accepted are these ∩ bot.ingest.documents.SUFFIXES (what the ingest layer reads).
KIND_SUFFIXES: dict[str, tuple[str, ...]] = {
    "text": (".txt", ".md", ".markdown", ".text", ".html", ".htm"),
    "html": (".html", ".htm"),
    "pdf": (".pdf",),
    "docx": (".docx",),
    "pptx": (".pptx",),
    "xlsx": (".xlsx",),
}
KIND_LABELS = {"text": "text", "html": "HTML", "pdf": "PDF", "docx": "Word (docx)",
               "pptx": "PowerPoint (pptx)", "xlsx": "Excel (xlsx)", "zip": "a zip archive",
               "ole": "a legacy or encrypted Office file", "image": "an image", "binary": "binary data"}
_OOXML = {"word/document.xml": "docx", "ppt/presentation.xml": "pptx", "xl/workbook.xml": "xlsx"}
_IMAGES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")
_HTML_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html[\s>])",
                         re.I | re.S)
_UNSAFE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
_RESERVED_CHARS = re.compile(r'[<>:"|?*]')


def accepted_suffixes() -> tuple[str, ...]:
    """The suffixes an upload may have: what the ingest layer reads, in its order."""
    return tuple(s for s in SUFFIXES)


# ----------------------------------------------------------------------------------------- names

def clean_name(raw: str) -> str:
    """A safe file name for the corpus root from what a client sent (a browser may send a path,
    a Mac decomposed kana): UploadRejected when nothing usable is left or the suffix is not one
    the ingest layer reads."""
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"\s+", " ", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _UNSAFE_CATEGORIES)
    name = _RESERVED_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip().rstrip(". ")
    if not name or name in (".", ".."):
        raise UploadRejected(f"{raw!r} is not a usable file name")
    stem, dot, suffix = name.rpartition(".")
    if not dot or not stem:
        raise UploadRejected(f"{name!r} has no file type suffix; accepted: {', '.join(accepted_suffixes())}")
    suffix = "." + suffix
    if suffix.lower() not in SUFFIXES:
        raise UploadRejected(f"{name!r}: {suffix} files are not read; accepted: {', '.join(accepted_suffixes())}")
    while len(stem) + len(suffix) > MAX_NAME_CHARS or len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    name = stem.rstrip(". ") + suffix
    if name.lower() in RESERVED_NAMES:
        raise UploadRejected(f"{name} is the corpus folder's own instructions, not a document")
    return name


def relative_name(name: str) -> PurePosixPath:
    """A corpus-relative path as the API and CLI name existing files (`sub/report.md`): NFC, no
    empty, `.`, `..` or hidden component, no control characters. UploadRejected otherwise."""
    text = unicodedata.normalize("NFC", name or "")
    parts = text.split("/")
    if (not text or len(text) > 1024 or "\\" in text
            or any(not p or p in (".", "..") or p.startswith(".") for p in parts)
            or any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in text)):
        raise UploadRejected(f"{name!r} is not a document name (a path inside the corpus folder)")
    return PurePosixPath(*parts)


# ------------------------------------------------------------------------------------- sniffing

def sniff(data: bytes) -> str:
    """What the bytes are, from their content alone: text, html, pdf, docx, pptx, xlsx, or
    (refused) zip, ole, image, binary."""
    head = data[:8192]
    if data[:1024].lstrip(b"\xef\xbb\xbf\t\n\r\f ").startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(_IMAGES) or head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if b"\x00" in head:
        return "binary"
    text = _decode(data)
    if text is None or _control_share(text[:20000]) > 0.005:
        return "binary"
    return "html" if _HTML_START.match(head) else "text"


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:  # reads the central directory only
            names = set(z.namelist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return "binary"
    if "[Content_Types].xml" in names:
        for part, kind in _OOXML.items():
            if part in names:
                return kind
    return "zip"


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", *FALLBACK_ENCODINGS):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _control_share(text: str) -> float:
    if not text:
        return 0.0
    bad = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\x1b")
    return bad / len(text)


def check_upload(raw_name: str, data: bytes, max_bytes: int) -> str:
    """The name a file would be stored under, after checking its size and that its content is a
    type the ingest layer reads and its name's suffix fits that content. UploadRejected /
    UploadTooLarge otherwise."""
    name = clean_name(raw_name)
    check_content(name, data, max_bytes)
    return name


def check_content(name: str, data: bytes, max_bytes: int) -> str:
    """The content's kind, when it may be stored under `name` (see `check_upload`)."""
    if len(data) > max_bytes:
        raise UploadTooLarge(f"{name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:g} MB limit "
                             "(JAXABOT_MAX_FILE_MB)")
    if not data.strip():
        raise UploadRejected(f"{name}: the file is empty")
    kind = sniff(data)
    suffix = PurePosixPath(name).suffix.lower()
    readable = [s for s in KIND_SUFFIXES.get(kind, ()) if s in SUFFIXES]
    if not readable:
        raise UploadRejected(f"{name}: the content is {KIND_LABELS[kind]}, which is not read "
                             f"(accepted: {', '.join(accepted_suffixes())})")
    if suffix not in readable:
        raise UploadRejected(f"{name}: the content is {KIND_LABELS[kind]}, but the name ends in {suffix} "
                             f"(use {' or '.join(readable)})")
    return kind


# --------------------------------------------------------------------------------- atomic files


def write_atomic(folder: Path, name: str, data: bytes, *, replace: bool) -> Path:
    """Write `folder/name` so that a reader (a build, the watcher) sees the old file or the whole
    new one: a hidden temporary file in the same folder, fsync, then rename over it (`replace`)
    or hard-link it into place (DocumentExists if the name is taken, even by a file that appeared
    meanwhile). CorpusUnwritable when the folder cannot be written."""
    final = folder / name
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=folder)
        tmp = Path(tmp_name)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if replace:
            os.replace(tmp, final)
            tmp = None
        else:
            try:
                os.link(tmp, final)
            except FileExistsError:
                raise DocumentExists(f"{name} already exists; replace it instead") from None
        store.fsync_dir(folder)
    except OSError as exc:
        raise CorpusUnwritable(f"cannot write {name} in the corpus folder ({exc.strerror or exc}); "
                               "nothing was changed") from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return final


# ------------------------------------------------------------------------------------- listing

Status = Literal["indexed", "changed", "pending", "skipped", "removed"]


class DocumentRow(BaseModel):
    name: str = Field(description="path inside the corpus folder")
    title: str | None = None
    format: str = Field(description="the file's suffix, e.g. md, txt, html, pdf")
    size: int | None = Field(None, description="bytes on disk (None: the file is gone)")
    modified_at: datetime | None = None
    passages: int | None = None
    pages: int | None = Field(None, description="pages (PDF), slides or sheets, when the index records them")
    ocr_pages: int | None = Field(None, description="pages read by OCR, when the index records them")
    language: str | None = None
    indexed_version: str | None = Field(None, description="the current index version holding it")
    status: Status = Field(description="indexed; changed since indexed; pending (never indexed); "
                                       "skipped by the last build (see reason); removed (in the index, "
                                       "file gone: the next build drops it)")
    reason: str | None = None


class TrashEntry(BaseModel):
    id: str
    name: str = Field(description="where it was in the corpus folder")
    size: int
    deleted_at: datetime
    deleted_by: str
    in_index: bool = Field(description="the current index still holds it (no build since the delete)")


class CorpusListing(BaseModel):
    documents: list[DocumentRow]
    trash: list[TrashEntry]
    current_version: str | None
    built_at: datetime | None
    accepted: list[str] = Field(description="file suffixes an upload may have")
    max_file_mb: float


class BuildRecord(BaseModel):
    """What the last build that ran in the server skipped and why (the manifest has no room for
    it); written to DATA_DIR/last_build.json."""
    version: str
    finished_at: datetime
    skipped: dict[str, str] = Field(default_factory=dict)


def record_build(data_dir: Path, version: str, skipped: dict[str, str]) -> None:
    record = BuildRecord(version=version, finished_at=_now(), skipped=skipped)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".build-", dir=data_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(record.model_dump_json())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, data_dir / BUILD_RECORD)
    except OSError as exc:
        log.warning("cannot record the build summary in %s: %s", data_dir, exc.strerror or exc)


def read_build_record(data_dir: Path) -> BuildRecord | None:
    try:
        return BuildRecord.model_validate_json((data_dir / BUILD_RECORD).read_bytes())
    except (OSError, ValueError):
        return None


def _now() -> datetime:
    return datetime.now(UTC)


def _built_at(version: str, manifest: dict) -> datetime | None:
    """When a version was published, to the microsecond from its name (made after the build read
    the corpus), else from the manifest's `built_at` (to the second)."""
    m = re.match(r"v(\d{8}T\d{12})Z-", version)
    try:
        if m:
            return datetime.strptime(m.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        return datetime.fromisoformat(manifest.get("built_at", ""))
    except (TypeError, ValueError):
        return None


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, UTC)


@lru_cache(maxsize=4)
def _titles(folder: str, version: str) -> dict[str, tuple[str, str]]:
    """path → (title, language) of a version's documents (read once per version)."""
    out = {}
    try:
        with open(Path(folder) / "documents.jsonl", encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    row = json.loads(line)
                    out[row["path"]] = (row.get("title"), row.get("lang"))
    except (OSError, ValueError, KeyError):
        return {}
    return out


class Corpus:
    """The corpus folder as editors see it, with its trash under the data folder."""

    def __init__(self, corpus_dir: Path, data_dir: Path, index_dir: Path, max_bytes: int) -> None:
        self.corpus_dir = corpus_dir
        self.data_dir = data_dir
        self.index_dir = index_dir
        self.max_bytes = max_bytes

    @property
    def trash_dir(self) -> Path:
        return self.data_dir / TRASH_DIR

    # -- reading

    def _current(self) -> tuple[str | None, dict, datetime | None]:
        """(version, manifest documents by path, built_at) of the current index, if readable."""
        try:
            version = store.current_version(self.index_dir)
            if version is None:
                return None, {}, None
            manifest = store.read_manifest(self.index_dir / version)
        except JaxabotError:
            return None, {}, None
        by_path = {d.get("path"): dict(d, doc_id=doc_id)
                   for doc_id, d in (manifest.get("documents") or {}).items() if isinstance(d, dict)}
        return version, by_path, _built_at(version, manifest)

    def _files(self) -> dict[str, os.stat_result]:
        """Corpus files as the ingest layer walks them (no hidden files or folders, no README)."""
        out: dict[str, os.stat_result] = {}
        root = self.corpus_dir
        if not root.is_dir():
            return out
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fname in filenames:
                path = Path(dirpath) / fname
                rel = path.relative_to(root).as_posix()
                if fname.startswith(".") or rel.lower() in RESERVED_NAMES:
                    continue
                try:
                    out[unicodedata.normalize("NFC", rel)] = path.stat()
                except OSError:
                    continue
        return out

    def listing(self) -> CorpusListing:
        version, indexed, built = self._current()
        record = read_build_record(self.data_dir)
        titles = _titles(str(self.index_dir / version), version) if version else {}
        trash = self.trash(version, indexed, built)
        rows = []
        files = self._files()
        for name, st in sorted(files.items()):
            suffix = PurePosixPath(name).suffix.lower()
            row = DocumentRow(name=name, format=suffix.lstrip(".") or "?", size=st.st_size,
                              modified_at=_mtime(st), status="pending")
            entry = indexed.get(name)
            if entry is not None:
                row.title, row.language = titles.get(name, (None, None))
                row.passages = entry.get("passages")
                row.pages, row.ocr_pages = _count(entry.get("pages")), _count(entry.get("ocr_pages"))
                row.indexed_version = version
                changed = built is not None and _mtime(st) > built
                row.status = "changed" if changed else "indexed"
                if changed:
                    row.reason = "the file changed after the current version was built; rebuild"
            elif suffix not in SUFFIXES:
                row.status, row.reason = "skipped", f"unsupported file type {suffix or '(none)'}"
            elif record is not None and name in record.skipped and _mtime(st) <= record.finished_at:
                row.status, row.reason = "skipped", record.skipped[name]
            else:
                row.reason = "not in the index yet; rebuild"
            rows.append(row)
        trashed = {e.name for e in trash}
        for name, entry in sorted(indexed.items()):
            if name not in files and name not in trashed and isinstance(name, str):
                title, lang = titles.get(name, (None, None))
                rows.append(DocumentRow(name=name, title=title, language=lang, status="removed",
                                        format=PurePosixPath(name).suffix.lstrip("."),
                                        passages=entry.get("passages"), indexed_version=version,
                                        reason="the file is gone; the next build drops it"))
        return CorpusListing(documents=rows, trash=trash, current_version=version, built_at=built,
                             accepted=list(accepted_suffixes()), max_file_mb=self.max_bytes / 1e6)

    # -- changing

    def _existing(self, name: str) -> tuple[PurePosixPath, Path]:
        rel = relative_name(name)
        path = self.corpus_dir.joinpath(*rel.parts)
        try:
            parent = path.parent.resolve(strict=True)
        except OSError:
            raise DocumentNotFound(f"no corpus file {rel}") from None
        if not parent.is_relative_to(self.corpus_dir.resolve()):
            raise UploadRejected(f"{rel} is outside the corpus folder")
        if rel.as_posix().lower() in RESERVED_NAMES:
            raise UploadRejected(f"{rel} is the corpus folder's own instructions, not a document")
        if not path.is_file() and not path.is_symlink():
            raise DocumentNotFound(f"no corpus file {rel}")
        return rel, path

    def check_new(self, files: list[tuple[str, bytes]], replace: bool = False) -> list[tuple[str, bytes, bool]]:
        """(clean name, bytes, exists) of files to write, all checked before any is written: a
        taken name is DocumentExists unless `replace`."""
        if not files:
            raise UploadRejected("no file was sent")
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise UploadRejected(f"at most {MAX_FILES_PER_UPLOAD} files at once")
        out, seen = [], set()
        for raw, data in files:
            name = check_upload(raw, data, self.max_bytes)
            if name.lower() in seen:
                raise UploadRejected(f"{name} was sent twice")
            seen.add(name.lower())
            target = self.corpus_dir / name
            exists = target.exists() or target.is_symlink()
            if exists and not replace:
                raise DocumentExists(f"{name} already exists; replace it instead")
            if exists and (target.is_symlink() or not target.is_file()):
                raise UploadRejected(f"{name} is not a regular file; it cannot be replaced")
            out.append((name, data, exists))
        return out

    def add(self, files: list[tuple[str, bytes]], replace: bool = False) -> list[tuple[str, bool]]:
        """Write files into the corpus root, all checked first (none is written if one fails);
        (name, replaced) for each. A taken name is DocumentExists unless `replace`."""
        checked = self.check_new(files, replace)
        for name, data, exists in checked:
            write_atomic(self.corpus_dir, name, data, replace=exists)
        return [(name, exists) for name, _, exists in checked]

    def replace(self, name: str, data: bytes) -> str:
        """Replace an existing file's content (same name; its type checked as for an upload)."""
        rel, path = self._existing(name)
        check_content(rel.name, data, self.max_bytes)
        if path.is_symlink():
            raise UploadRejected(f"{rel} is a symbolic link; replace its target instead")
        write_atomic(path.parent, path.name, data, replace=True)
        return rel.as_posix()

    def remove(self, name: str, who: str) -> TrashEntry:
        """Move a corpus file into the trash (restorable until a build publishes without it)."""
        rel, path = self._existing(name)
        entry_id = _now().strftime("%Y%m%dT%H%M%S%fZ-") + secrets.token_hex(3)
        tmp = self.trash_dir / f".tmp-{entry_id}"
        size = path.lstat().st_size
        meta = {"name": rel.as_posix(), "size": size, "deleted_at": _now().isoformat(), "deleted_by": who}
        try:
            tmp.mkdir(parents=True)
            (tmp / TRASH_META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            _move(path, tmp / rel.name)
            os.replace(tmp, self.trash_dir / entry_id)
            store.fsync_dir(self.trash_dir)
            store.fsync_dir(path.parent)
        except OSError as exc:
            if (tmp / rel.name).exists() and not path.exists():
                _move(tmp / rel.name, path)  # put it back: the delete did not happen
            shutil.rmtree(tmp, ignore_errors=True)
            raise CorpusUnwritable(f"cannot move {rel} to the trash ({exc.strerror or exc}); "
                                   "nothing was changed") from None
        return TrashEntry(id=entry_id, name=rel.as_posix(), size=size, deleted_at=meta["deleted_at"],
                          deleted_by=who, in_index=True)

    def restore(self, entry_id: str) -> str:
        """Put a trashed file back where it was; DocumentExists if that name is taken again."""
        entry = self._entry(entry_id)
        rel = relative_name(entry["name"])
        folder = self.trash_dir / entry_id
        source = folder / rel.name
        target = self.corpus_dir.joinpath(*rel.parts)
        if target.exists() or target.is_symlink():
            raise DocumentExists(f"{rel} exists again; delete or rename it before restoring")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                _move(source, target)
            else:
                try:
                    os.link(source, target)
                except FileExistsError:
                    raise DocumentExists(f"{rel} exists again; delete or rename it before restoring") from None
                except OSError:  # another file system: copy atomically
                    write_atomic(target.parent, target.name, source.read_bytes(), replace=False)
            store.fsync_dir(target.parent)
            shutil.rmtree(folder)
        except OSError as exc:
            raise CorpusUnwritable(f"cannot restore {rel} ({exc.strerror or exc})") from None
        return rel.as_posix()

    def _entry(self, entry_id: str) -> dict:
        if not re.fullmatch(r"[0-9A-Za-z_-]{1,80}", entry_id or ""):
            raise DocumentNotFound("no such trash entry")
        try:
            meta = json.loads((self.trash_dir / entry_id / TRASH_META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise DocumentNotFound("no such trash entry") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
            raise DocumentNotFound("no such trash entry")
        return meta

    def trash(self, version: str | None = None, indexed: dict | None = None,
              built: datetime | None = None) -> list[TrashEntry]:
        """The trash, newest first, after purging the entries a later build no longer holds."""
        if indexed is None:
            version, indexed, built = self._current()
        self.purge_trash(indexed, built)
        out: list[TrashEntry] = []
        if not self.trash_dir.is_dir():
            return out
        for folder in sorted(self.trash_dir.iterdir(), reverse=True):
            if folder.name.startswith("."):
                continue
            try:
                meta = self._entry(folder.name)
                out.append(TrashEntry(id=folder.name, name=meta["name"], size=int(meta.get("size", 0)),
                                      deleted_at=meta["deleted_at"], deleted_by=str(meta.get("deleted_by", "")),
                                      in_index=meta["name"] in indexed))
            except (DocumentNotFound, ValueError, KeyError):
                continue
        return out

    def purge_trash(self, indexed: dict | None = None, built: datetime | None = None) -> list[str]:
        """Delete trash entries that a build published after their delete no longer holds."""
        if indexed is None:
            _, indexed, built = self._current()
        if built is None or not self.trash_dir.is_dir():
            return []
        purged = []
        for folder in self.trash_dir.iterdir():
            if folder.name.startswith("."):
                continue
            try:
                meta = self._entry(folder.name)
                deleted = datetime.fromisoformat(meta["deleted_at"])
            except (DocumentNotFound, ValueError, KeyError, TypeError):
                continue
            if built > deleted and meta["name"] not in indexed:
                shutil.rmtree(folder, ignore_errors=True)
                purged.append(meta["name"])
        return purged


def _move(source: Path, target: Path) -> None:
    """Rename, or copy and delete across file systems (the data folder may be elsewhere)."""
    try:
        os.rename(source, target)
    except OSError as exc:
        if exc.errno != 18:  # EXDEV
            raise
        shutil.copy2(source, target, follow_symlinks=False)
        with open(target, "rb") as f:
            os.fsync(f.fileno())
        source.unlink()

