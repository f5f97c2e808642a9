"""What the running server holds: the engine (model + current index), its loading state, the
bounded queue of CPU-bound work and the background rebuilder. One instance per app, created in
the lifespan and kept on `app.state.runtime`.

Loading happens in a thread so the server answers `/api/health` ("loading") at once instead of
refusing connections while the model starts.
"""

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from bot.embed.base import Embedder
from bot.embed.batching import QueryBatcher
from bot.embed.embedder import load_embedder
from bot.engine import Engine, Models
from bot.errors import FittedFileError, IndexMissing, JaxabotError
from bot.ingest.documents import ReadOptions
from bot.settings import Settings, cpu_count
from bot.store.build import build_index
from bot.store.index import SearchIndex, load_index, load_servable
from bot.store.progress import BuildProgress
from bot.text.analyser import Tokenizer
from web.exceptions import NotReady
from web.server.follow import IndexFollower
from web.server.rebuild import Rebuilder, embedding_for_builds, note_build
from web.server.workqueue import QuestionQueue

if TYPE_CHECKING:  # watchfiles is imported only with `serve --watch`
    from web.server.watch import CorpusWatcher

log = logging.getLogger(__name__)

Status = Literal["ok", "degraded", "no_index", "loading", "error"]


class Runtime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Sized to the cores: more parallel embeddings than cores only adds latency to each.
        # Questions go through the bounded queue (`questions.run`); `limiter` is its thread pool.
        self.questions = QuestionQueue(settings.workers, settings.queue_limit)
        self.limiter = self.questions.threads
        self.engine: Engine | None = None
        self.loaded = threading.Event()
        self.load_error: str | None = None
        self.index_problem: str | None = None
        self.rebuilder: Rebuilder | None = None
        self.follower: IndexFollower | None = None
        self.watcher: CorpusWatcher | None = None  # with `serve --watch`
        self.batcher: QueryBatcher | None = None  # query micro-batching (settings.embed_batch)
        # Told (succeeded, seconds) after every build this server runs (metrics).
        self.build_listeners: list[Callable[[bool, float], None]] = []
        # The first build's progress while the server starts without an index (health shows it).
        self.first_build: BuildProgress | None = None

    def load(self, embedder: Embedder | None, tokenizer: Tokenizer | None, models: Models | None = None) -> None:
        """Load the fitted models, the embedding model and the current index (runs in a thread;
        never raises). A fitted file that does not match the code stops the start (health says
        which and why)."""
        try:
            models = models or Models.load()
            embedder = self._batched(self._open_model(embedder))
            tokenizer = tokenizer or Tokenizer()
            index, problem = self._open_index(embedder, tokenizer)
            self._start(Engine(embedder, tokenizer, index, models=models), problem)
        except FittedFileError as exc:
            # The message names a file shipped with the code and what differs: no secret.
            log.error("cannot start: %s", exc)
            self.load_error = str(exc)
        except JaxabotError as exc:
            # Health is public: the detail (paths, library messages) goes to the log only.
            log.error("cannot start: %s", exc)
            self.load_error = "the embedding model could not be loaded; see the server log"
        except Exception:  # the server must report the failure, not die silently
            log.exception("unexpected error while loading the model and index")
            self.load_error = "unexpected error while loading; see the server log"
        finally:
            self.loaded.set()

    def _open_model(self, embedder: Embedder | None) -> Embedder:
        """The embedding model (unless one is given), with the cores shared among the model calls
        that run at once; the sizes then follow the precision questions are embedded in."""
        s = self.settings
        # Model calls at once: the batcher's runners, or else one per worker.
        calls = s.embed_calls if s.embed_batch > 1 else s.workers
        threads = s.torch_threads or max(1, cpu_count() // max(1, calls))
        embedder = embedder or load_embedder(s.model, s.model_cache_dir, threads, s.embed_backend, s.query_int8)
        self._resize_for(getattr(embedder, "query_precision", None) == "int8")
        return embedder

    def _resize_for(self, int8: bool) -> None:
        s = self.settings
        if int8 == s.expects_int8_questions:
            return
        # The sizes were chosen for questions in the other precision (the int8 graph could not be
        # made or loaded): unset ones follow the precision the model really has. Nothing is queued
        # yet (questions wait for the engine), so the queue is resized.
        sized = s.sized_for(int8)
        if (sized.workers, sized.embed_batch) != (s.workers, s.embed_batch):
            log.warning("questions are embedded in %s: serving with %d workers and batches of up to "
                        "%d questions", "int8" if int8 else "fp32", sized.workers, sized.embed_batch)
            self.questions.resize(sized.workers)
            self.settings = sized

    def _batched(self, embedder: Embedder) -> Embedder:
        """The model behind the query micro-batcher when questions are batched."""
        s = self.settings
        if s.embed_batch <= 1:
            return embedder
        # One call per core unless set (JAXABOT_EMBED_CALLS): matches the one thread per call
        # the model was opened with under int8's sizes too, after a resize.
        self.batcher = QueryBatcher(embedder, s.embed_batch, s.embed_batch_wait_ms / 1000, s.embed_calls)
        return self.batcher

    def _open_index(self, embedder: Embedder, tokenizer: Tokenizer) -> tuple[SearchIndex | None, str | None]:
        """(index or None, why the served version is not the current one or None)."""
        s = self.settings
        try:
            # The current version, or the newest intact one if it is damaged (degraded).
            return load_servable(s.index_dir, model=embedder.name)
        except IndexMissing:
            return (self._first_build(embedder, tokenizer) if s.build_if_missing else None), None
        except JaxabotError as exc:
            # No intact version: nothing is served; a rebuild (or a CLI build, which the
            # follower picks up) can replace it.
            log.error("not serving the index in %s: %s", s.index_dir, exc)
            self.index_problem = ("the index on disk is damaged or was built for another "
                                  "model; rebuild it (details in the server log)")
            return None, None

    def _start(self, engine: Engine, problem: str | None) -> None:
        """Serve `engine` and start the background tasks: following the index folder, rebuilds,
        and watching the corpus under `serve --watch`."""
        s = self.settings
        self.follower = IndexFollower(engine, s.index_dir, s.follow_interval)
        self.follower.adopt(problem)
        self.rebuilder = Rebuilder(engine, s, on_published=self.follower.refresh, on_finish=self.build_finished)
        self.engine = engine
        self.follower.start()
        if s.watch:
            from web.server.watch import CorpusWatcher
            self.watcher = CorpusWatcher(s.corpus_dir, self.rebuilder, s.watch_debounce_ms)
            self.watcher.start()

    def _first_build(self, embedder: Embedder, tokenizer: Tokenizer) -> SearchIndex | None:
        """Build the first index with the model just loaded; None (no_index) if that fails."""
        s = self.settings
        start = time.perf_counter()
        try:
            # With JAXABOT_RAY_ADDRESS the first build embeds on the cluster too, as rebuilds do.
            with embedding_for_builds(s, embedder) as build_embedder:
                summary = build_index(s.corpus_dir, s.index_dir, build_embedder, tokenizer,
                                      max_bytes=int(s.max_file_mb * 1_000_000), keep_previous=s.keep_previous,
                                      read_options=ReadOptions.from_settings(s), progress=self._note_first_build)
            self.build_finished(True, time.perf_counter() - start)
        except JaxabotError as exc:
            self.build_finished(False, time.perf_counter() - start)
            log.error("cannot build the first index: %s", exc)
            self.index_problem = "no index could be built from the corpus; see the server log"
            return None
        except Exception:  # a corpus problem, not the model's: say so, keep serving
            log.exception("unexpected error while building the first index")
            self.index_problem = "no index could be built from the corpus; see the server log"
            return None
        for skipped in summary.skipped:
            log.warning("skipped %s: %s", skipped.path, skipped.reason)
        note_build(s, summary)
        log.info("built the first index: %s (%d documents, %d passages; embedded %s)", summary.version,
                 summary.documents, summary.passages, f"on ray {s.ray_address}" if s.ray_address else "here")
        return load_index(s.index_dir, model=embedder.name)

    def _note_first_build(self, progress: BuildProgress) -> None:
        self.first_build = BuildProgress(**{k: v for k, v in vars(progress).items()})

    def build_finished(self, ok: bool, seconds: float) -> None:
        for listener in self.build_listeners:
            listener(ok, seconds)

    @property
    def status(self) -> Status:
        if not self.loaded.is_set():
            return "loading"
        if self.engine is None:
            return "error"
        if self.engine.index is None:
            return "no_index"
        return "degraded" if self.degraded else "ok"

    @property
    def degraded(self) -> str | None:
        """Why the served version is not the current one (or not intact on disk), or why corpus
        changes are not being indexed under `serve --watch` (its folder is missing), if so."""
        follower, watcher = self.follower, self.watcher
        problems = [follower.degraded if follower is not None else None,
                    watcher.problem if watcher is not None else None]
        return "; ".join(p for p in problems if p) or None

    def close(self) -> None:
        """Stop the background threads (follower, watcher, query batcher); a running build
        finishes on its own."""
        for part in (self.watcher, self.follower):
            if part is not None:
                part.stop()
        if self.batcher is not None:
            self.batcher.close()

    def _not_ready(self) -> NotReady:
        if not self.loaded.is_set():
            return NotReady("the model and index are still loading; try again in a few seconds")
        return NotReady("the server could not load its model; see the server log")

    def ready_engine(self) -> Engine:
        """The engine if it can answer; otherwise the reason as an exception (→ 503)."""
        engine = self.loaded_engine()
        if engine.index is None:
            raise IndexMissing("no index is loaded; build one with `jaxabot index` or "
                               "POST /api/index/rebuild")
        return engine

    def loaded_engine(self) -> Engine:
        """The engine even without an index (a rebuild can create the first one)."""
        engine = self.engine
        if engine is None:
            raise self._not_ready()
        return engine

    def loaded_rebuilder(self) -> Rebuilder:
        """The rebuilder, once the engine is loaded (NotReady before)."""
        rebuilder = self.rebuilder
        if self.engine is None or rebuilder is None:
            raise self._not_ready()
        return rebuilder
