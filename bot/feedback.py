"""Readers' feedback on answers (thumbs up/down, an optional comment), kept in SQLite.

Not a pipeline stage: the web edge records feedback and `jaxabot feedback export` reads it. One
file, `feedback.sqlite3`, in the data folder (`JAXABOT_DATA_DIR`). WAL mode, so the export can
read while the server writes; the schema version is SQLite's `user_version`, and a database
written by a newer jaxabot is refused rather than misread.
"""

import json
import secrets
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from bot.errors import FeedbackError

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
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FeedbackStore:
    """Thread-safe: one connection per store, serialised by a lock (writes are tiny)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILENAME
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._db.close()
                raise FeedbackError(f"{self.path} has schema version {version}; this jaxabot reads "
                                    f"up to {SCHEMA_VERSION} (upgrade jaxabot)")
            with self._db:
                self._db.executescript(_SCHEMA)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise FeedbackError(f"cannot open the feedback database {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def add(self, *, rating: Rating, question: str, answer: str, citations: list[dict],
            index_version: str, language: str = "", comment: str = "") -> FeedbackRecord:
        now = _now()
        record = FeedbackRecord(id=secrets.token_urlsafe(16), created_at=now, updated_at=now,
                                rating=rating, comment=comment, question=question, answer=answer,
                                citations=citations, index_version=index_version, language=language)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO feedback (id, created_at, updated_at, rating, comment, question, answer,"
                " citations, index_version, language) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (record.id, now, now, rating, comment, question, answer,
                 json.dumps(citations, ensure_ascii=False), index_version, language))
        return record

    def update(self, record_id: str, *, rating: Rating | None = None,
               comment: str | None = None) -> FeedbackRecord | None:
        """Change the rating or the comment of a record; None when there is no such record."""
        with self._lock, self._db:
            row = self._db.execute("SELECT * FROM feedback WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return None
            self._db.execute("UPDATE feedback SET rating = ?, comment = ?, updated_at = ? WHERE id = ?",
                             (rating or row["rating"], row["comment"] if comment is None else comment,
                              _now(), record_id))
            row = self._db.execute("SELECT * FROM feedback WHERE id = ?", (record_id,)).fetchone()
        return _record(row)

    def list(self, limit: int | None = None, offset: int = 0) -> list[FeedbackRecord]:
        """Newest first."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM feedback ORDER BY created_at DESC, rowid DESC "
                                    "LIMIT ? OFFSET ?", (-1 if limit is None else limit, offset)).fetchall()
        return [_record(r) for r in rows]

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]


def _record(row: sqlite3.Row) -> FeedbackRecord:
    values = dict(row)
    values["citations"] = json.loads(values["citations"])
    return FeedbackRecord(**values)
