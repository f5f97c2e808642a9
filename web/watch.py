"""`jaxabot serve --watch`: rebuild when `corpus/` changes.

watchfiles (inotify on Linux) groups changes until the folder has been quiet for
`watch_debounce_ms`, so saving ten files is one rebuild. The rebuild is the same as
`POST /api/index/rebuild` (incremental, swapped in without a restart). A change made while a
build runs is not lost: another build starts as soon as that one ends.
"""

import logging
import threading
from pathlib import Path

from bot.errors import BuildInProgress, JaxabotError
from web.rebuild import Rebuilder

log = logging.getLogger(__name__)

# How often the watch loop wakes without changes, to start a build that had to wait.
RETRY_MS = 500


class CorpusWatcher:
    def __init__(self, corpus_dir: Path, rebuilder: Rebuilder, debounce_ms: int) -> None:
        self.corpus_dir = corpus_dir
        self.rebuilder = rebuilder
        self.debounce_ms = debounce_ms
        self.pending = False
        self.builds_started = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="jaxabot-watch", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        from watchfiles import watch

        log.info("watching %s for changes", self.corpus_dir)
        try:
            for changes in watch(self.corpus_dir, debounce=self.debounce_ms, stop_event=self._stop,
                                 rust_timeout=RETRY_MS, yield_on_timeout=True, raise_interrupt=False):
                if changes:
                    log.info("corpus changed (%d files): rebuilding", len(changes))
                    self.pending = True
                if self.pending:
                    self._try_build()
        except Exception:  # noqa: BLE001 - a dead watcher must say so in the log
            log.exception("the corpus watcher stopped")

    def _try_build(self) -> None:
        if self.rebuilder.running:
            return  # try again when it ends (next wake-up)
        try:
            self.rebuilder.start()
        except BuildInProgress:
            return  # another process is building; try again later
        except JaxabotError as exc:
            log.error("cannot start a rebuild: %s", exc)
        self.pending = False
        self.builds_started += 1

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
