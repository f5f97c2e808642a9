"""Rebuilding the index in a background thread, then switching the server to it; rolling back.

The build runs while questions are answered (it shares the engine's model). When it publishes a
new version the server reloads it (`on_published`, the index follower's refresh); `Engine.swap`
replaces the index in one assignment, so a request in flight finishes on the index it started
with and the next one sees the new one. If the build or the reload fails, the engine still holds
the old index and the status says why. A running build reports its progress (documents,
embedded rows, elapsed time) and can be cancelled; a cancelled build publishes nothing.

The rebuilder's lock guards only its in-memory state and is never held across file work: a
rollback verifies the old version's checksums (seconds on a large index) without it, so status,
rebuild and cancel never wait for one.

With JAXABOT_RAY_ADDRESS set, the embedding runs on that Ray cluster through the same path as
`jaxabot index --ray` (bot.store.distributed): its rows come back into the same progress, and a
failed cluster job fails the build, which publishes nothing and says why in the status.
"""

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bot.corpus import Corpus, record_build
from bot.embed.base import Embedder
from bot.engine import Engine
from bot.errors import BuildCancelled, BuildInProgress, JaxabotError
from bot.ingest.documents import ReadOptions
from bot.settings import Settings
from bot.store import versions as store
from bot.store.build import build_index
from bot.store.progress import BuildProgress
from bot.store.versions import build_lock
from web.schemas import BuildProgressBody, BuildStatus

log = logging.getLogger(__name__)


def embedding_for_builds(settings: Settings, embedder, ray_loader: Callable[[], Embedder] | None = None):
    """A context giving the model a build embeds with: the server's own, or with
    JAXABOT_RAY_ADDRESS the same Ray path as `jaxabot index --ray`, whose workers load the model
    with the server's settings (or `ray_loader`) and the backend the server's queries really use,
    so the vectors match them."""
    if not settings.ray_address:
        return _local_build(embedder)
    from bot.store.distributed import ray_embedder, settings_loader

    backend = getattr(embedder, "backend", None)
    load = ray_loader or settings_loader(settings, backend)
    return ray_embedder(settings.ray_address, embedder.name, load, actors=settings.ray_actors,
                        expect_backend=backend)


@contextmanager
def _local_build(embedder):
    """The server's own model for a build; afterwards the passage side's memory is given back
    (`release_passages`: a server answers with its question graph until the next build)."""
    try:
        yield embedder
    finally:
        release = getattr(embedder, "release_passages", None)
        if release is not None:
            release()


def note_build(settings: Settings, summary) -> None:
    """After a build: keep what it skipped and why for the admin page (the manifest has no room for
    it), and purge the trash of files the new version no longer holds."""
    record_build(settings.data_dir, summary.version, {sk.path: sk.reason for sk in summary.skipped})
    try:
        Corpus(settings.corpus_dir, settings.data_dir, settings.index_dir,
               int(settings.max_file_mb * 1_000_000)).purge_trash()
    except OSError as exc:
        log.warning("cannot purge the trash in %s: %s", settings.data_dir, exc.strerror or exc)


def _now() -> datetime:
    return datetime.now(UTC)


class Rebuilder:
    def __init__(self, engine: Engine, settings: Settings,
                 on_published: Callable[[], object] | None = None,
                 on_finish: Callable[[bool, float], None] | None = None,
                 verify_version: Callable[[Path, dict], None] = store.verify) -> None:
        self.engine = engine
        self.settings = settings
        self._on_published = on_published or (lambda: engine.reload(settings.index_dir))
        self.on_finish = on_finish  # (succeeded, seconds): the metrics hook
        # How a rollback checks the version it returns to (tests pass a slow one).
        self.verify_version = verify_version
        self._lock = threading.Lock()
        self._status = BuildStatus(state="idle")
        self._progress: BuildProgress | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        # With JAXABOT_RAY_ADDRESS: what each Ray worker calls to load its model (default: the
        # settings' model with this server's backend; tests put a fake here).
        self.ray_loader: Callable[[], Embedder] | None = None

    def status(self) -> BuildStatus:
        with self._lock:
            status = self._status.model_copy()
            progress = self._progress
        if progress is not None:
            status.progress = BuildProgressBody(**progress.as_dict())
        status.embedding_on = f"ray {self.settings.ray_address}" if self.settings.ray_address else "local"
        index = self.engine.index
        status.index_version = index.version if index is not None else None
        try:
            status.current_version = store.current_version(self.settings.index_dir)
        except JaxabotError:
            status.current_version = None
        return status

    @property
    def running(self) -> bool:
        return self._status.state == "running"

    def start(self) -> BuildStatus:
        """Start a build; BuildInProgress if one is already running in this server."""
        if self.running:
            raise BuildInProgress("a rebuild is already running; see GET /api/index/status")
        # A build by another process (`jaxabot index`) holds the lock: say so now (409) rather
        # than accepting and failing in the background. (File work: not under self._lock.)
        with build_lock(self.settings.index_dir):
            pass
        with self._lock:
            if self._status.state == "running":
                raise BuildInProgress("a rebuild is already running; see GET /api/index/status")
            self._status = BuildStatus(state="running", started_at=_now(),
                                       last_build=self._status.last_build)
            self._progress = BuildProgress()
            self._cancel = threading.Event()
            self._thread = threading.Thread(target=self._run, name="jaxabot-rebuild", daemon=True)
            self._thread.start()
        return self.status()

    def cancel(self) -> BuildStatus:
        """Ask the running build to stop (it ends within one batch); BuildInProgress-free no-op
        when nothing runs."""
        with self._lock:
            if self._status.state == "running":
                self._cancel.set()
        return self.status()

    def rollback(self) -> str:
        """Make the previous live version current (see `versions.rollback`) and serve it."""
        with self._lock:
            if self._status.state == "running":
                raise BuildInProgress("a rebuild is running; cancel it or wait before rolling back")
        # Without the lock: the verification takes seconds. A build started meanwhile holds the
        # build lock, so the switch is refused (BuildInProgress) rather than mixed with it.
        name = store.rollback(self.settings.index_dir, self.verify_version)
        log.info("rolled back to %s", name)
        self._on_published()
        return name

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _record(self, progress: BuildProgress) -> None:
        with self._lock:
            self._progress = BuildProgress(**{k: v for k, v in vars(progress).items()})

    def _run(self) -> None:
        s = self.settings
        try:
            with embedding_for_builds(s, self.engine.embedder, self.ray_loader) as embedder:
                summary = build_index(s.corpus_dir, s.index_dir, embedder, self.engine.tokenizer,
                                      max_bytes=int(s.max_file_mb * 1_000_000), keep_previous=s.keep_previous,
                                      progress=self._record, cancel=self._cancel,
                                      read_options=ReadOptions.from_settings(s))
            current = self.engine.index
            if current is None or current.version != summary.version:
                self._on_published()
            log.info("rebuild done: %s (%d documents, %d passages)", summary.version,
                     summary.documents, summary.passages)
            note_build(s, summary)
            self._finish(BuildStatus(state="idle", last_build=summary))
        except BuildCancelled as exc:
            log.warning("rebuild cancelled")
            self._finish(BuildStatus(state="cancelled", error=str(exc)))
        except JaxabotError as exc:
            log.error("rebuild failed: %s", exc)
            self._finish(BuildStatus(state="failed", error=str(exc)))
        except Exception:  # a thread's exception would vanish; report it instead
            log.exception("rebuild failed unexpectedly")
            self._finish(BuildStatus(state="failed", error="unexpected error; see the server log"))

    def _finish(self, result: BuildStatus) -> None:
        with self._lock:
            result.started_at = self._status.started_at
            result.finished_at = _now()
            if result.last_build is None:
                result.last_build = self._status.last_build
            self._status = result
        if self.on_finish is not None and result.started_at is not None:
            self.on_finish(result.state == "idle", (result.finished_at - result.started_at).total_seconds())
