"""Readers' feedback on answers (thumbs up/down, an optional comment), kept in SQLite.

Not a pipeline stage: the web edge records feedback and `jaxabot feedback export` reads it. One
file, `feedback.sqlite3`, in the data folder (`JAXABOT_DATA_DIR`). WAL mode, so the export can
read while the server writes; the schema version is SQLite's `user_version`, and a database
written by a newer jaxabot is refused rather than misread.

Nothing is accepted that is not in the file the path names: every operation first compares the
path's device and inode with the file the connection has open, and reopens when the file was
removed or replaced (a reset, a restore with `mv`); a write is redone in the new file if that
happened while it ran. Each write is checkpointed into the database file at once when no reader
is in the way (the `-wal` file is then empty between writes, so a file moved into place does not
meet a stale log). Opening runs
`PRAGMA quick_check`: a damaged database is refused (FeedbackDamaged) rather than written to.
SQLite's errors become FeedbackError and its subclasses (locked, damaged, full).
"""

import json
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel

from bot.errors import FeedbackBusy, FeedbackDamaged, FeedbackError, FeedbackFull

log = logging.getLogger(__name__)
T = TypeVar("T")

SCHEMA_VERSION = 1
FILENAME = "feedback.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,
    index_version TEXT NOT NULL,
    language TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created_at);
"""

Rating = Literal["up", "down"]


class FeedbackRecord(BaseModel):
    id: str
    created_at: str
    updated_at: str
    rating: Rating
    comment: str
    question: str
    answer: str
    citations: list[dict]
    index_version: str
    language: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class FeedbackStore:
    """Thread-safe: one connection per store, serialised by a lock (writes are tiny).

    `busy_timeout`: seconds to wait for another connection's write lock (then FeedbackBusy).
    `max_rows`: records kept at most; `add` beyond it raises FeedbackFull (nothing is pruned)."""

    def __init__(self, data_dir: Path, *, busy_timeout: float = 10.0, max_rows: int | None = None) -> None:
        self.path = Path(data_dir) / FILENAME
        self.busy_timeout = busy_timeout
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._identity: tuple[int, int] | None = None
        self._open()

    def _open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, timeout=self.busy_timeout,
                                 isolation_level=None)  # transactions are explicit (BEGIN IMMEDIATE)
        except (OSError, sqlite3.Error) as exc:
            raise FeedbackError(f"cannot open the feedback database {self.path}: {exc}") from exc
        try:
            db.row_factory = sqlite3.Row
            identity = _identity(self.path)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise FeedbackError(f"{self.path} has schema version {version}; this jaxabot reads "
                                    f"up to {SCHEMA_VERSION} (upgrade jaxabot)")
            problem = db.execute("PRAGMA quick_check(1)").fetchone()[0]
            if problem != "ok":
                raise FeedbackDamaged(self._damaged(problem, opening=True))
            if version < SCHEMA_VERSION:
                db.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")
        except (FeedbackError, sqlite3.Error) as exc:
            db.close()
            if isinstance(exc, FeedbackError):
                raise
            raise self._cannot_open(exc) from exc
        self._db, self._identity = db, identity

    def _damaged(self, detail: str, opening: bool = False) -> str:
        detail = " ".join(str(detail).split())  # one line
        what = (f"cannot open the feedback database {self.path}: it is" if opening
                else f"the feedback database {self.path} is")
        return (f"{what} damaged ({detail}); move it away (a new one is started) and recover what "
                f"it holds with `sqlite3 FILE .recover`")

    def _cannot_open(self, exc: sqlite3.Error) -> FeedbackError:
        error = self._translate(exc)
        if isinstance(error, FeedbackDamaged):
            return FeedbackDamaged(self._damaged(str(exc), opening=True))
        if type(error) is FeedbackError:
            return FeedbackError(f"cannot open the feedback database {self.path}: {exc}")
        return error

    def _translate(self, exc: sqlite3.Error) -> FeedbackError:
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            return FeedbackBusy(f"the feedback database {self.path} is locked by another connection")
        if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")):
            return FeedbackDamaged(self._damaged(str(exc)))
        if name.startswith("SQLITE_FULL"):
            return FeedbackError(f"the disk holding the feedback database {self.path} is full")
        if name.startswith("SQLITE_READONLY"):
            return FeedbackError(f"the feedback database {self.path} is read-only ({exc})")
        return FeedbackError(f"the feedback database {self.path} cannot be used: {exc}")

    def _connection(self) -> sqlite3.Connection:
        """The open connection; reopened first when the path no longer names its file."""
        if self._db is not None and _identity(self.path) != self._identity:
            log.warning("%s was removed or replaced; reopening it", self.path)
            self._close()
        if self._db is None:
            self._open()
        assert self._db is not None  # _open sets it or raises
        return self._db

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _failed(self, exc: sqlite3.Error) -> FeedbackError:
        error = self._translate(exc)
        if isinstance(error, FeedbackDamaged):
            self._close()  # reopened (and checked again) by the next operation
        return error

    def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            db = self._connection()
            try:
                return work(db)
            except sqlite3.Error as exc:
                raise self._failed(exc) from exc

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` in one transaction, redone once if the file was replaced while it ran."""
        with self._lock:
            for _ in range(2):
                db = self._connection()
                try:
                    db.execute("BEGIN IMMEDIATE")
                    try:
                        result = work(db)
                        db.execute("COMMIT")
                    finally:
                        if db.in_transaction:
                            db.execute("ROLLBACK")
                    # Best effort, without waiting: an open reader leaves it to the next write.
                    db.execute("PRAGMA busy_timeout = 0")
                    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    db.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
                except sqlite3.Error as exc:
                    raise self._failed(exc) from exc
                if _identity(self.path) == self._identity:
                    return result
                log.warning("%s was replaced during a write; writing again into the new file", self.path)
            raise FeedbackError(f"the feedback database {self.path} keeps being replaced; nothing was stored")

    def close(self) -> None:
        with self._lock:
            self._close()

    def add(self, *, rating: Rating, question: str, answer: str, citations: list[dict],
            index_version: str, language: str = "", comment: str = "") -> FeedbackRecord:
        now = _now()
        record = FeedbackRecord(id=secrets.token_urlsafe(16), created_at=now, updated_at=now,
                                rating=rating, comment=comment, question=question, answer=answer,
                                citations=citations, index_version=index_version, language=language)

        def insert(db: sqlite3.Connection) -> None:
            if self.max_rows is not None and \
                    db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] >= self.max_rows:
                raise FeedbackFull(f"the feedback database {self.path} holds {self.max_rows} records, "
                                   f"the most allowed (JAXABOT_FEEDBACK_MAX_ROWS)")
            db.execute(
                "INSERT INTO feedback (id, created_at, updated_at, rating, comment, question, answer,"
                " citations, index_version, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, now, now, rating, comment, question, answer,
                 json.dumps(citations, ensure_ascii=False), index_version, language))

        self._write(insert)
        return record

    def update(self, record_id: str, *, rating: Rating | None = None,
               comment: str | None = None) -> FeedbackRecord | None:
        """Change the rating or the comment of a record; None when there is no such record."""
        def change(db: sqlite3.Connection) -> sqlite3.Row | None:
            row = db.execute("SELECT * FROM feedback WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return None
            db.execute("UPDATE feedback SET rating = ?, comment = ?, updated_at = ? WHERE id = ?",
                       (rating or row["rating"], row["comment"] if comment is None else comment,
                        _now(), record_id))
            return db.execute("SELECT * FROM feedback WHERE id = ?", (record_id,)).fetchone()

        row = self._write(change)
        return None if row is None else _record(row)

    def list(self, limit: int | None = None, offset: int = 0) -> list[FeedbackRecord]:
        """Newest first."""
        rows = self._read(lambda db: db.execute(
            "SELECT * FROM feedback ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            (-1 if limit is None else limit, offset)).fetchall())
        return [_record(r) for r in rows]

    def count(self) -> int:
        return self._read(lambda db: db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`; None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _record(row: sqlite3.Row) -> FeedbackRecord:
    values = dict(row)
    values["citations"] = json.loads(values["citations"])
    return FeedbackRecord(**values)
