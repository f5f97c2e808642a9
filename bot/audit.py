"""Who changed the corpus or the index, what and when: an append-only JSON Lines file,
`DATA_DIR/audit.jsonl`, one object per line (`at`, `who`, `action`, `target`, `detail`).

Lines are only ever appended, each with one `write` on a file opened with O_APPEND and then
fsynced, so concurrent writers (the server, the CLI) never interleave within a line. A line that
cannot be parsed (a torn write after a crash) is skipped when reading.
"""

import json
import logging
import os
import threading
from collections import deque
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

log = logging.getLogger(__name__)

FILENAME = "audit.jsonl"
MAX_FIELD_CHARS = 500
TAIL_BYTES = 1 << 20  # the newest entries are read from at most this much of the file's end


class AuditEntry(BaseModel):
    at: datetime
    who: str = ""
    action: str
    target: str | None = None
    detail: str | None = None


def _clip(value: str | None) -> str | None:
    return None if value is None else str(value)[:MAX_FIELD_CHARS]


class AuditLog:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILENAME
        self._lock = threading.Lock()

    def record(self, who: str, action: str, target: str | None = None, detail: str | None = None) -> AuditEntry:
        """Append one entry. A log that cannot be written is reported in the server log; the
        operation it describes has already happened and is not undone."""
        entry = AuditEntry(at=datetime.now(UTC), who=_clip(who) or "", action=action,
                           target=_clip(target), detail=_clip(detail))
        line = (json.dumps(entry.model_dump(mode="json"), ensure_ascii=False) + "\n").encode("utf-8")
        with self._lock:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    size = os.fstat(fd).st_size
                    if size and os.pread(fd, 1, size - 1) != b"\n":
                        line = b"\n" + line  # after a torn last line: start a new one
                    os.write(fd, line)
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as exc:
                log.error("cannot append to the audit log %s: %s (%s %s %s)", self.path,
                          exc.strerror or exc, who, action, target)
        return entry

    def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The newest `limit` entries, newest first."""
        try:
            with open(self.path, "rb") as f:
                size = f.seek(0, os.SEEK_END)
                f.seek(max(0, size - TAIL_BYTES))
                tail = f.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            log.warning("cannot read the audit log %s: %s", self.path, exc.strerror or exc)
            return []
        lines = tail.split(b"\n")
        if len(tail) >= TAIL_BYTES:
            lines = lines[1:]  # the first may be cut
        out: deque[AuditEntry] = deque(maxlen=limit)
        for raw in lines:
            if raw.strip():
                try:
                    out.append(AuditEntry.model_validate_json(raw))
                except ValidationError:
                    continue
        return list(reversed(out))
