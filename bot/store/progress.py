"""What a running build reports as it goes, and how it is asked to stop.

`build_index` calls `progress(BuildProgress)` at each stage and after each batch of documents or
embedded rows; the CLI draws a bar from it, the server shows it in `/api/index/status`. A
`threading.Event` passed as `cancel` is checked at the same points: a set event ends the build
with `BuildCancelled` before anything is published.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from bot.errors import BuildCancelled

STAGES = ("reading", "splitting", "embedding", "indexing", "writing", "done")


@dataclass
class BuildProgress:
    stage: str = "reading"
    documents_done: int = 0
    documents_total: int = 0
    # Texts (passages + sentences) to embed in this build, and how many are done. A distributed
    # or accelerated embedder fills the same fields through the same callback.
    rows_done: int = 0
    rows_total: int = 0
    rows_per_second: float | None = None
    elapsed_seconds: float = 0.0
    started: float = field(default_factory=time.monotonic, repr=False)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("started")
        return out


ProgressFn = Callable[[BuildProgress], None]


class Reporter:
    """Keeps one BuildProgress up to date, reports it and honours cancellation."""

    def __init__(self, progress: ProgressFn | None, cancel: threading.Event | None) -> None:
        self.state = BuildProgress()
        self._progress = progress
        self._cancel = cancel
        self._rows_started: float | None = None

    def check(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise BuildCancelled("the build was cancelled; the current index is untouched")

    def finish(self) -> None:
        """The build is published (or had nothing to do): report `done`; too late to cancel."""
        self.state.stage = "done"
        self.state.elapsed_seconds = round(time.monotonic() - self.state.started, 3)
        if self._progress is not None:
            self._progress(self.state)

    def update(self, **changes) -> None:
        self.check()
        s = self.state
        for key, value in changes.items():
            setattr(s, key, value)
        now = time.monotonic()
        s.elapsed_seconds = round(now - s.started, 3)
        if "rows_done" in changes:
            if self._rows_started is None:
                self._rows_started = now
            elif s.rows_done and now > self._rows_started:
                s.rows_per_second = round(s.rows_done / (now - self._rows_started), 1)
        if self._progress is not None:
            self._progress(s)
