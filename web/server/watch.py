"""`jaxabot serve --watch`: rebuild when `corpus/` changes.

A rebuild starts once the corpus has been quiet for `watch_debounce_ms`: every change seen
(watchfiles: inotify on Linux) starts the wait again, and so does a changed file whose size or
modification time is no longer what it was when its change was seen. A file still being written
therefore waits, and a burst of saves is one rebuild. The rebuild is the same as
`POST /api/index/rebuild` (incremental, swapped in without a restart). A change made while a
build runs is not lost: another build follows once that one has ended and the corpus is quiet.

The watch follows the path, not the folder first found there: when `corpus/` is replaced (a
folder renamed over it, or deleted and restored) the watch moves to the new folder and a rebuild
follows. While the folder is missing nothing is built; health reports `degraded` with the reason
and the log says so, until it is back.
"""

import logging
import os
import threading
import time
from pathlib import Path

from bot.errors import BuildInProgress, JaxabotError
from web.server.rebuild import Rebuilder

log = logging.getLogger(__name__)

# How often the watch loop wakes without changes: the quiet-time clock, the check of the folder's
# identity and the start of a build that had to wait.
TICK_MS = 100
MISSING = ("the watched corpus folder is missing; changes are not indexed until it is back "
           "(see the server log)")
STOPPED = "the corpus watcher stopped; changes are not indexed (see the server log)"

Identity = tuple[int, int]  # (st_dev, st_ino) of the folder at the path
FileState = tuple[int, int] | None  # (size, mtime_ns); None when the file is gone


def _identity(path: Path) -> Identity | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _file_state(path: str) -> FileState:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns)


def _all_files(folder: Path) -> dict[str, FileState]:
    found = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            found[path] = _file_state(path)
    return found


class CorpusWatcher:
    def __init__(self, corpus_dir: Path, rebuilder: Rebuilder, debounce_ms: int,
                 tick_ms: int = TICK_MS) -> None:
        self.corpus_dir = corpus_dir
        self.rebuilder = rebuilder
        self.debounce_s = max(0, debounce_ms) / 1000
        self.tick_ms = tick_ms
        self.pending = False
        self.builds_started = 0
        self.problem: str | None = None  # why changes are not being indexed (public: no paths)
        self._last_change = 0.0  # time.monotonic() of the last change seen
        self._changed: dict[str, FileState] = {}  # changed files since the last build started
        self._roots = {os.path.abspath(corpus_dir), os.path.realpath(corpus_dir)}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="jaxabot-watch", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        try:
            first = True
            while not self._stop.is_set():
                identity = _identity(self.corpus_dir)
                if identity is None:
                    self._set_missing(True)
                    first = False
                    self._stop.wait(self.tick_ms / 1000)
                    continue
                self._set_missing(False)
                if first:
                    log.info("watching %s for changes", self.corpus_dir)
                else:
                    # Replaced, re-created or back: whatever is in it now is a change.
                    log.warning("watching the corpus folder %s again (replaced or re-created); a "
                                "rebuild follows", self.corpus_dir)
                    self._changes(_all_files(self.corpus_dir))
                first = False
                self._watch(identity)
        except Exception:  # a dead watcher must say so, in the log and in health
            log.exception("the corpus watcher stopped")
            self.problem = STOPPED

    def _watch(self, identity: Identity) -> None:
        """Watch the folder with this identity until it is replaced or gone, or until stop()."""
        from watchfiles import watch

        try:
            for changes in watch(self.corpus_dir, debounce=self.tick_ms, stop_event=self._stop,
                                 rust_timeout=self.tick_ms, yield_on_timeout=True, raise_interrupt=False):
                if changes:
                    self._changes({path: _file_state(path) for _, path in changes})
                if _identity(self.corpus_dir) != identity or any(path in self._roots for _, path in changes):
                    return  # replaced, removed (or removed and re-created): watch again
                self._maybe_build()
        except FileNotFoundError:
            return  # gone before or while the watch was armed: the loop notices it

    def _changes(self, files: dict[str, FileState]) -> None:
        self._changed.update(files)
        self._last_change = time.monotonic()
        self.pending = True

    def _maybe_build(self) -> None:
        """Start a build once the corpus has been quiet for the debounce time and every changed
        file still has the size and mtime it had when its change was seen."""
        if not self.pending or time.monotonic() - self._last_change < self.debounce_s:
            return
        now = {path: _file_state(path) for path in self._changed}
        if now != self._changed:
            self._changes(now)  # still being written: wait for quiet again
            return
        if self.rebuilder.running:
            return  # after it ends (a later tick)
        try:
            self.rebuilder.start()
        except BuildInProgress:
            return  # another process is building; try again later
        except JaxabotError as exc:
            log.error("cannot start a rebuild: %s", exc)
        else:
            log.info("corpus quiet for %g s after changes to %d files: rebuilding", self.debounce_s,
                     len(self._changed))
            self.builds_started += 1
        self.pending = False
        self._changed = {}

    def _set_missing(self, missing: bool) -> None:
        if missing and self.problem != MISSING:
            log.error("the watched corpus folder %s is missing: changes are not indexed until it is "
                      "back", self.corpus_dir)
            self.problem = MISSING
        elif not missing and self.problem == MISSING:
            log.warning("the corpus folder %s is back", self.corpus_dir)
            self.problem = None

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
