"""Keeping a running server on the published index version.

`CURRENT` is the one source of truth: a build or rollback made by the CLI, another server or a
replica sharing the folder moves it, and every server follows within `follow_interval` seconds
(reading a file of a few bytes and one stat per file of the served version, each time). When the
current version cannot be used (damaged, missing, garbage CURRENT) the newest intact version is
served and the reason is reported as `degraded` in health and status, and logged, until CURRENT
names a usable version again.
"""

import logging
import threading
from pathlib import Path

from bot.engine import Engine
from bot.errors import IndexCorrupt, IndexMissing, JaxabotError
from bot.store import versions as store
from bot.store.index import load_servable

log = logging.getLogger(__name__)


class IndexFollower:
    def __init__(self, engine: Engine, index_dir: Path, interval: float) -> None:
        self.engine = engine
        self.index_dir = index_dir
        self.interval = interval
        self.degraded: str | None = None
        self._seen: str | None = None  # CURRENT's content when last acted on
        self._damaged: set[tuple[str, bool]] = set()  # (version, folder gone) already acted on
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _pointer(self) -> str | None:
        try:
            return (self.index_dir / store.POINTER).read_text(encoding="utf-8", errors="replace").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"<unreadable: {exc.strerror}>"

    def adopt(self, problem: str | None) -> None:
        """Record the state of an index just loaded by someone else (the first load)."""
        with self._lock:
            self._seen = self._pointer()
            self._set_degraded(problem)

    def refresh(self) -> bool:
        """Load what CURRENT names (or the newest intact version) and swap it in if it differs
        from the one served. Never raises; False if nothing could be loaded (the engine keeps
        the index it has in memory)."""
        with self._lock:
            self._seen = self._pointer()
            served = self.engine.index
            try:
                index, problem = load_servable(self.index_dir, model=self.engine.embedder.name)
            except JaxabotError as exc:
                if served is None:
                    if not isinstance(exc, IndexMissing):
                        log.error("no usable index in %s: %s", self.index_dir, exc)
                    return False
                log.error("no intact index version on disk (%s); still serving %s from memory",
                          exc, served.version)
                self._set_degraded(f"no intact index version on disk; still serving {served.version} "
                                   "from memory")
                return False
            except Exception:  # the follower thread must survive anything
                log.exception("unexpected error while reloading the index")
                return False
            if (problem and served is not None and served.version == self._seen
                    and (self.index_dir / served.version).is_dir()):
                # The version CURRENT names is the one in memory, loaded before its files were
                # damaged: it is still the right one to serve, from memory.
                self._set_degraded(f"the files of the current version ({served.version}) changed on "
                                   "disk; serving it from memory; rebuild or roll back")
                return True
            if served is None or served.version != index.version:
                self.engine.swap(index)
                log.info("now serving index version %s (was %s)", index.version,
                         served.version if served else "none")
            self._set_degraded(problem)
            return True

    def _set_degraded(self, problem: str | None) -> None:
        if problem != self.degraded:
            if problem:
                log.error("index degraded: %s", problem)
            elif self.degraded:
                log.info("index no longer degraded")
        self.degraded = problem

    def _served_changed(self) -> bool:
        """The served version's folder is gone or one of its files changed size (each reported
        once per version, so a lasting problem is not reloaded on every poll)."""
        index = self.engine.index
        if index is None:
            return False
        folder = self.index_dir / index.version
        if not folder.is_dir():
            problem = "gone"
        else:
            try:
                store.verify_sizes(folder, index.manifest)
                return False
            except IndexCorrupt as exc:
                problem = str(exc)
        if (index.version, problem == "gone") in self._damaged:
            return False
        self._damaged.add((index.version, problem == "gone"))
        log.error("files of the served version %s changed on disk: %s", index.version, problem)
        return True

    def poll_once(self) -> None:
        if self._pointer() != self._seen or self._served_changed():
            self.refresh()

    def start(self) -> None:
        if self.interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="jaxabot-follow", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except Exception:  # keep following whatever happens once
                log.exception("index follower error")

    def stop(self) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout=5)
