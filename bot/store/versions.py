"""The index on disk: one folder per build under `index/`, plain files plus `manifest.json`.

    index/
      CURRENT                 name of the live version (replaced atomically)
      HISTORY                 JSON: the versions made live, oldest first, and those rolled back
      .lock                   held by the one build allowed at a time
      v20261125T105512Z-3f9a/ manifest.json, documents.jsonl, passages.jsonl,
                              passage_vectors.npy, sentence_vectors.npy, dense.faiss, bm25/

A build writes into a hidden temporary folder, fsyncs it, renames it into place and only then
points CURRENT at it, so a reader sees the old version or the new one, never half of one.

HISTORY is what rollback and pruning go by: rollback returns to the version that was live before
the current one (not the newest-named other folder) and records the current one as rejected, so
a second rollback goes further back instead of restoring it; pruning keeps the current version
and the `keep_previous` versions live before it, and deletes the rest (rejected ones first of all).
"""

import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Set
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bot.errors import BuildError, BuildInProgress, IndexCorrupt, IndexMismatch, IndexMissing, NothingToRollBack

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
POINTER = "CURRENT"
HISTORY = "HISTORY"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"
_VERSION_NAME = re.compile(r"v[0-9A-Za-z_-]{1,100}")


def new_version_name() -> str:
    return datetime.now(UTC).strftime("v%Y%m%dT%H%M%S%fZ-") + secrets.token_hex(2)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


@contextmanager
def build_lock(index_dir: Path):
    """One build at a time, across processes. A second one is refused rather than queued so a
    user never waits on a lock without knowing why."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BuildError(f"cannot write to the index folder {index_dir}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgress(f"another build is running on {index_dir}; try again when it ends") from None
        yield
    finally:
        os.close(fd)


def write_jsonl(path: Path, rows) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def publish(index_dir: Path, write_files, manifest: dict, keep_previous: int) -> str:
    """Write a new version with `write_files(folder)`, then make it current. Call under build_lock."""
    name = new_version_name()
    tmp = index_dir / f"{TMP_PREFIX}{name}"
    try:
        tmp.mkdir(parents=True)
        write_files(tmp)
        manifest = dict(manifest, format_version=FORMAT_VERSION, version=name,
                        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                        files={p.relative_to(tmp).as_posix(): _sha256(p) for p in _files(tmp)},
                        sizes={p.relative_to(tmp).as_posix(): p.stat().st_size for p in _files(tmp)})
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        for p in _files(tmp) + [tmp / MANIFEST]:
            with open(p, "rb") as f:
                os.fsync(f.fileno())
        for d in sorted({p.parent for p in _files(tmp)} | {tmp}, key=lambda x: -len(x.parts)):
            fsync_dir(d)
        final = index_dir / name
        history = read_history(index_dir)  # before the new folder exists: it is not history yet
        os.replace(tmp, final)
        fsync_dir(index_dir)
        set_current(index_dir, name)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BuildError(f"cannot write the new index in {index_dir}: {exc.strerror or exc}; "
                         "the current index is untouched") from None
    # Published: a HISTORY that cannot be written only costs rollback precision (it is then
    # derived from version names), never the build.
    if name not in history.live:
        history.live.append(name)
    try:
        write_history(index_dir, history)
    except OSError as exc:
        log.warning("cannot record %s in %s: %s", name, index_dir / HISTORY, exc.strerror or exc)
    prune(index_dir, keep_previous)
    return name


def set_current(index_dir: Path, name: str) -> None:
    tmp = index_dir / f"{TMP_PREFIX}{POINTER}-{secrets.token_hex(4)}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / POINTER)
    fsync_dir(index_dir)


def current_version(index_dir: Path) -> str | None:
    """The version CURRENT names; None without CURRENT; IndexCorrupt when it is unreadable or
    does not name a version (garbage bytes, a path, an empty file)."""
    try:
        raw = (index_dir / POINTER).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorrupt(f"cannot read {index_dir / POINTER}: {exc.strerror or exc}") from None
    try:
        name = raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        name = ""
    if not _VERSION_NAME.fullmatch(name):
        raise IndexCorrupt(f"{index_dir / POINTER} does not name a version")
    return name


def versions(index_dir: Path) -> list[str]:
    if not index_dir.is_dir():
        return []
    return sorted(p.name for p in index_dir.iterdir()
                  if p.is_dir() and p.name.startswith("v") and (p / MANIFEST).exists())


def prune(index_dir: Path, keep_previous: int) -> None:
    """Drop leftovers of killed builds, and every version but the current one and the
    `keep_previous` versions that were live before it (by HISTORY, not by name)."""
    for p in index_dir.iterdir():
        if p.name.startswith(TMP_PREFIX):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    try:
        current = current_version(index_dir)
    except IndexCorrupt:
        return  # without a readable CURRENT nothing is known to be unused: delete nothing
    if current is None:
        return
    history = read_history(index_dir)
    on_disk = set(versions(index_dir))
    earlier = [v for v in reversed(history.live) if v != current and v in on_disk
               and v not in history.rejected]
    keep = {current, *earlier[: max(0, keep_previous)]}
    for name in sorted(on_disk - keep):
        shutil.rmtree(index_dir / name, ignore_errors=True)
    if history.trim(on_disk & keep | {current}):
        try:
            write_history(index_dir, history)
        except OSError as exc:
            log.warning("cannot update %s: %s", index_dir / HISTORY, exc.strerror or exc)


@dataclass
class History:
    live: list[str]  # versions in the order they were made current; the last is current
    rejected: list[str]  # versions rolled back (or found damaged): never made current again

    def trim(self, existing: set[str]) -> bool:
        """Forget versions that no longer exist; True if anything changed."""
        live = [v for v in self.live if v in existing]
        rejected = [v for v in self.rejected if v in existing]
        changed = (live, rejected) != (self.live, self.rejected)
        self.live, self.rejected = live, rejected
        return changed


def read_history(index_dir: Path) -> History:
    """HISTORY, or (for an index written before it existed, or a damaged one) the versions up to
    the current one in name order, which is build order."""
    try:
        data = json.loads((index_dir / HISTORY).read_text(encoding="utf-8"))
        live, rejected = data["live"], data.get("rejected", [])
        if all(isinstance(v, str) for v in live + rejected):
            return History(list(live), list(rejected))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        current = current_version(index_dir)
    except IndexCorrupt:
        current = None
    names = versions(index_dir)
    if current is not None:
        names = [v for v in names if v <= current]
    return History(names, [])


def write_history(index_dir: Path, history: History) -> None:
    tmp = index_dir / f"{TMP_PREFIX}{HISTORY}-{secrets.token_hex(4)}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"live": history.live, "rejected": history.rejected}, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / HISTORY)
    fsync_dir(index_dir)


def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"{folder / MANIFEST} is missing") from None
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{folder / MANIFEST} is unreadable: {exc}") from None
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"{folder / MANIFEST} is not a JSON object")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(f"index {folder.name} has format {manifest.get('format_version')}, this "
                            f"jaxabot reads format {FORMAT_VERSION}; rebuild with `jaxabot index`")
    return manifest


def verify_sizes(folder: Path, manifest: dict) -> None:
    """Every file listed is present with its recorded size: cheap (one stat each), catches a
    truncated or missing file before anything is read from it."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"{folder / MANIFEST} lists no files")
    sizes = manifest.get("sizes") or {}
    for rel in files:
        path = folder / rel
        try:
            size = path.stat().st_size
        except OSError:
            raise IndexCorrupt(f"index file {path} is missing; rebuild with `jaxabot index`") from None
        if rel in sizes and sizes[rel] != size:
            raise IndexCorrupt(f"index file {path} has {size} bytes, {sizes[rel]} were written "
                               "(truncated or changed); rebuild with `jaxabot index`")


def verify(folder: Path, manifest: dict) -> None:
    """Every file listed is present with its recorded size and checksum."""
    verify_sizes(folder, manifest)
    files = manifest["files"]
    for rel, digest in files.items():
        path = folder / rel
        if not path.is_file():
            raise IndexCorrupt(f"index file {path} is missing; rebuild with `jaxabot index`")
        if _sha256(path) != digest:
            raise IndexCorrupt(f"index file {path} is damaged (checksum mismatch); "
                               "rebuild with `jaxabot index`")


def check_compatible(manifest: dict, folder: Path, model: str | None, chunker: int | None) -> None:
    built_model = manifest.get("model", {}).get("id")
    if model is not None and built_model != model:
        raise IndexMismatch(f"index {folder.name} was built with model {built_model!r}, but the "
                            f"configured model is {model!r}; rebuild with `jaxabot index`")
    if chunker is not None and manifest.get("chunker_version") != chunker:
        raise IndexMismatch(f"index {folder.name} was built with chunker "
                            f"{manifest.get('chunker_version')}, this jaxabot uses {chunker}; "
                            "rebuild with `jaxabot index`")


def open_current(index_dir: Path, model: str | None = None, chunker: int | None = None,
                 check: bool = True) -> tuple[Path, dict]:
    name = current_version(index_dir)
    if name is None:
        raise IndexMissing(f"no index in {index_dir}; build one with `jaxabot index`")
    folder = index_dir / name
    if not folder.is_dir():
        raise IndexCorrupt(f"{index_dir / POINTER} names {name}, which does not exist; "
                           "rebuild with `jaxabot index`")
    return folder, open_version(folder, model, chunker, check)


def open_version(folder: Path, model: str | None = None, chunker: int | None = None,
                 check: bool = True) -> dict:
    """The manifest of a version that is complete (sizes always, checksums if `check`) and
    compatible with the model and chunker; IndexCorrupt / IndexMismatch otherwise."""
    manifest = read_manifest(folder)
    check_compatible(manifest, folder, model, chunker)
    if check:
        verify(folder, manifest)
    else:
        verify_sizes(folder, manifest)
    return manifest


def fallback_order(index_dir: Path, exclude: Set[str] = frozenset()) -> list[str]:
    """Versions to serve when the current one cannot be, best first: those live most recently
    (HISTORY), then any other by name (newest first); never a rejected one."""
    history = read_history(index_dir)
    on_disk = versions(index_dir)
    order = [v for v in reversed(history.live) if v in on_disk]
    order += [v for v in reversed(on_disk) if v not in order]
    return [v for v in order if v not in history.rejected and v not in exclude]


@dataclass
class StoredArrays:
    """What an incremental build reuses from the previous version."""
    manifest: dict
    passages: list[dict]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    documents: list[dict] = field(default_factory=list)  # documents.jsonl: kept when a file cannot be read
    boxes: np.ndarray | None = None  # boxes.npy, when the version has one


def load_arrays(folder: Path, manifest: dict) -> StoredArrays:
    boxes = folder / "boxes.npy"
    return StoredArrays(
        manifest=manifest,
        passages=read_jsonl(folder / "passages.jsonl"),
        passage_vectors=np.load(folder / "passage_vectors.npy", allow_pickle=False),
        sentence_vectors=np.load(folder / "sentence_vectors.npy", allow_pickle=False),
        documents=read_jsonl(folder / "documents.jsonl"),
        boxes=np.load(boxes, allow_pickle=False) if boxes.is_file() else None,
    )


# A rollback whose CURRENT / HISTORY changed while it verified (a build or another rollback
# finished meanwhile) chooses again, this many times at most.
ROLLBACK_ATTEMPTS = 3


def _pointer_state(index_dir: Path) -> tuple:
    """What a rollback's choice depends on: CURRENT and HISTORY as bytes, the versions on disk."""
    def raw(name: str) -> bytes | None:
        try:
            return (index_dir / name).read_bytes()
        except FileNotFoundError:
            return None
    return raw(POINTER), raw(HISTORY), tuple(versions(index_dir))


def rollback(index_dir: Path, verify_version: Callable[[Path, dict], None] = verify) -> str:
    """Make the version that was live before the current one current again, and record the
    current one as rejected (a second rollback goes further back, never to it). A previous
    version that fails verification is skipped (and rejected) on the way.

    Verifying checksums takes seconds on a large version, so it runs without the build lock: the
    lock is taken only to switch, once CURRENT, HISTORY and the versions on disk are seen to be
    what the choice was made on (otherwise the choice is made again). `verify_version(folder,
    manifest)` raises IndexCorrupt / IndexMismatch for a version that cannot be served."""
    for _ in range(ROLLBACK_ATTEMPTS):
        state = _pointer_state(index_dir)
        history = read_history(index_dir)
        try:
            current = current_version(index_dir)
        except IndexCorrupt:
            current = None  # garbage CURRENT: roll back to the last version recorded live
        live = list(history.live)
        rejected = list(history.rejected)
        if current is not None:
            if current in live:
                live = live[: live.index(current)]
            if current not in rejected:
                rejected.append(current)
        on_disk = set(state[2])
        chosen = None
        while live:
            name = live[-1]
            if name in on_disk and name not in rejected:
                folder = index_dir / name
                try:
                    verify_version(folder, read_manifest(folder))
                except (IndexCorrupt, IndexMismatch):
                    rejected.append(name)
                else:
                    chosen = name
                    break
            live.pop()
        with build_lock(index_dir):
            if _pointer_state(index_dir) != state:
                log.info("the index changed while a rollback verified %s; choosing again", index_dir)
                continue
            if chosen is None:
                raise NothingToRollBack(f"no intact earlier version in {index_dir} to roll back to "
                                        "(see HISTORY); nothing was changed")
            set_current(index_dir, chosen)
            write_history(index_dir, History(live, rejected))
            return chosen
    raise BuildInProgress(f"the index in {index_dir} kept changing during the rollback (builds or "
                          "other rollbacks); nothing was changed; try again")
