"""Embedding on a Ray cluster (`jaxabot index --ray ADDRESS`), imported only when a build asks for it.

Reading, cleaning, splitting, BM25 and publishing stay in `bot.store.build` on the driver; only the
texts that the incremental build decided to embed (new and changed documents) travel to the
cluster. There they run as one Ray Data `map_batches` stage over an actor pool: each actor loads
the model once, through the same `load_embedder` a local build uses, and embeds batch after batch.
The driver gathers the vectors back in order, so `build_index` publishes exactly what a local
build would (same format, manifest, checksums, atomic publish).

Fault handling is Ray's: a worker process that dies is restarted and its batch retried
(`max_restarts` / `max_task_retries`); an error raised by the model fails the Ray job, which
becomes a BuildError here, and `build_index` then publishes nothing.

Layout choices measured on a 2-CPU node (docs/scaling.md):
- the texts are split into several blocks per actor: a single input block gives one actor all
  the work;
- actors ask for a fraction of a CPU (ACTOR_CPUS), so the pool never starves Ray Data's own tasks;
- texts are sorted by length before batching, as sentence-transformers does within one call, so
  a batch pads to similar lengths and a Ray build does the same arithmetic as a local one.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import re
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from bot.embed.base import Embedder
from bot.errors import BuildError, JaxabotError

log = logging.getLogger(__name__)

LOCAL = "local"
# Texts per actor call: enough for the model's own batches of 32 to stay full, small enough for
# steady progress and a cheap retry when a worker dies.
BATCH_TEXTS = 256
# Blocks per actor at least, so every actor gets work even on a small build.
BLOCKS_PER_ACTOR = 4
# CPU reservation per actor: fractional, so N actors on N CPUs leave room for Ray Data's tasks.
ACTOR_CPUS = 0.8
# A worker that dies is restarted and its batch re-run this many times before the build fails.
RETRIES = 3
# The in-process cluster's shared-memory object store; vectors of 100k texts are ~150 MB.
LOCAL_OBJECT_STORE_BYTES = 512 * 1024 * 1024

# (texts done, texts total, texts per second since the first batch came back)
RowsFn = Callable[[int, int, float | None], None]
Loader = Callable[[], Embedder]


def embedder_loader(model: str, cache_dir: Path, threads: int | None, backend: str) -> Loader:
    """What each actor calls once to get its embedder: the local build's own load function, with
    the driver's model settings bound in (the actor reads no settings or environment of its own,
    so every worker embeds with the driver's model, backend and threads). Actors embed passages
    only, so they never make the int8 query graph."""
    from bot.embed.embedder import load_embedder
    return functools.partial(load_embedder, model, cache_dir, threads, backend, query_int8=False)


def settings_loader(settings, backend: str | None = None) -> Loader:
    """`embedder_loader` from the settings object: one thread per actor unless `torch_threads`
    says otherwise (the cluster runs one actor per CPU), and the settings' embed backend unless
    the caller names the one it really uses (a server whose ONNX export fell back to torch)."""
    return embedder_loader(settings.model, settings.model_cache_dir, settings.torch_threads or 1,
                           backend or settings.embed_backend)


@contextmanager
def ray_session(address: str, num_cpus: int | None = None) -> Iterator[None]:
    """Connect to the cluster at `address` (`local` starts an in-process one on 127.0.0.1) and
    disconnect afterwards. A session that was already open (a caller's) is used and left open."""
    try:
        import ray
    except ImportError:
        raise BuildError("building on Ray needs the cluster extra: pip install 'jaxabot[cluster]'") from None

    if ray.is_initialized():
        yield
        return
    try:
        if address == LOCAL:
            ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                     object_store_memory=LOCAL_OBJECT_STORE_BYTES, log_to_driver=False,
                     configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    except Exception as exc:  # ray raises ConnectionError, RuntimeError, ValueError...
        raise BuildError(f"cannot connect to the Ray cluster at {address!r}: {exc}") from None
    try:
        _quiet_ray_data()
        yield
    finally:
        ray.shutdown()


def _quiet_ray_data() -> None:
    from ray.data import DataContext

    ctx = DataContext.get_current()
    # The CLI prints its own one-line progress (rows embedded / total, rate).
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False


def cluster_cpus() -> int:
    import ray
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class _EmbedActor:
    """One per worker process: the model is loaded once and reused for every batch."""

    def __init__(self, load: Loader) -> None:
        self.embedder = load()
        # The backend this worker really embeds with (ONNX falls back to torch when a model
        # cannot be exported), so the driver can check every worker used the same one.
        self.backend = str(getattr(self.embedder, "backend", "") or "unknown")

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        t = time.perf_counter()
        vectors = self.embedder.encode_passages(batch["text"].tolist())
        n = len(vectors)
        # Which worker did the batch and how long the model took: per-worker throughput.
        return {"row": batch["row"], "vector": np.asarray(vectors, dtype=np.float32),
                "worker": np.full(n, os.getpid()), "encode_s": np.full(n, (time.perf_counter() - t) / max(n, 1)),
                "backend": np.full(n, self.backend)}


def _probe_dim(load: Loader) -> int:
    return int(load().dim)


def plan_blocks(n: int, actors: int) -> tuple[int, int]:
    """(blocks, batch size) for n texts over `actors` actors."""
    blocks = max(min(n, actors * BLOCKS_PER_ACTOR), math.ceil(n / BATCH_TEXTS), 1)
    return blocks, max(1, math.ceil(n / blocks))


class RayEmbedder:
    """The `Embedder` interface with passages embedded on the cluster; `build_index` takes it in
    place of a local embedder. Call inside `ray_session`."""

    def __init__(self, name: str, load: Loader, *, actors: int | None = None,
                 on_rows: RowsFn | None = None, expect_backend: str | None = None) -> None:
        self.name = name
        self._load = load
        self._actors = actors
        # A server's queries are embedded by its own model: vectors from another backend would
        # not match them exactly, so such a build fails instead of publishing.
        self.expect_backend = expect_backend
        self._dim: int | None = None
        self.on_rows = on_rows
        self.last_run: dict = {}
        # Cluster jobs started. Each starts an actor pool (a model load per worker), so a build
        # must hand all its texts over in one call, never in chunks.
        self.runs = 0

    @property
    def dim(self) -> int:
        if self._dim is None:
            # Build needs the dimension before anything is embedded (to check the previous
            # version against it): ask one worker, so the driver never loads the model.
            import ray
            try:
                self._dim = ray.get(ray.remote(num_cpus=ACTOR_CPUS)(_probe_dim).remote(self._load))
            except Exception as exc:
                raise BuildError(f"the Ray workers cannot load the model {self.name!r}: "
                                 f"{_cause(exc)}") from None
        return self._dim

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        raise BuildError("a Ray embedder embeds passages for builds; queries are embedded locally")

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            return self._run(texts)
        except JaxabotError:  # BuildError, or BuildCancelled from a progress callback
            raise
        except Exception as exc:
            raise BuildError(f"the distributed embedding failed, nothing was published: "
                             f"{_cause(exc)}") from None

    def _run(self, texts: list[str]) -> np.ndarray:
        import ray.data

        self.runs += 1
        n = len(texts)
        actors = self._actors or cluster_cpus()
        blocks, batch = plan_blocks(n, actors)
        order = sorted(range(n), key=lambda i: len(texts[i]))
        t0 = time.perf_counter()
        ds = ray.data.from_items([{"row": i, "text": texts[i]} for i in order],
                                 override_num_blocks=blocks)
        with warnings.catch_warnings():
            # Ray 2.60 has no named parameter for actor restarts yet (the generic remote args it
            # deprecates are the only way); its default is to retry a dying worker forever, which
            # would hang a build on a batch that always kills its worker.
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*")
            embedded = ds.map_batches(_EmbedActor, fn_constructor_args=(self._load,), batch_size=batch,
                                batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=actors),
                                num_cpus=ACTOR_CPUS, max_restarts=RETRIES, max_task_retries=RETRIES)
        out: np.ndarray | None = None
        done, first = 0, None
        workers: dict[int, list[float]] = {}  # pid -> [texts, encode seconds]
        backends: set[str] = set()
        for part in embedded.iter_batches(batch_size=None, batch_format="numpy"):
            vectors = part["vector"]
            backends.update(str(b) for b in np.unique(part["backend"]))
            self._check_backends(backends)
            for pid in np.unique(part["worker"]):
                mine = part["worker"] == pid
                w = workers.setdefault(int(pid), [0, 0.0])
                w[0] += int(mine.sum())
                w[1] += float(part["encode_s"][mine].sum())
            if out is None:
                out = np.empty((n, vectors.shape[1]), dtype=np.float32)
                first = time.perf_counter()
            out[part["row"]] = vectors
            done += len(vectors)
            if self.on_rows is not None:
                now = time.perf_counter()
                rate = done / (now - t0) if now > t0 else None
                self.on_rows(done, n, rate)
        if out is None or done != n:
            raise BuildError(f"the cluster returned {done} of {n} vectors; nothing was published")
        self._dim = out.shape[1]
        self.last_run = {"texts": n, "actors": actors, "blocks": blocks, "batch": batch,
                         "backend": next(iter(backends)),
                         "seconds": time.perf_counter() - t0,
                         "first_batch_s": (first or t0) - t0,
                         "workers": {pid: {"texts": n_, "encode_s": s_} for pid, (n_, s_) in workers.items()}}
        return out

    def _check_backends(self, backends: set[str]) -> None:
        if len(backends) > 1:
            raise BuildError(f"the Ray workers embedded with different backends ({', '.join(sorted(backends))}); "
                             "nothing was published")
        if self.expect_backend and backends and backends != {self.expect_backend}:
            raise BuildError(f"the Ray workers embedded with {next(iter(backends))}, but queries are embedded "
                             f"with {self.expect_backend}; nothing was published")


@contextmanager
def ray_embedder(address: str, name: str, load: Loader, *, actors: int | None = None,
                 expect_backend: str | None = None) -> Iterator[RayEmbedder]:
    """A RayEmbedder inside its own session: what a server's rebuild uses."""
    with ray_session(address):
        yield RayEmbedder(name, load, actors=actors, expect_backend=expect_backend)


def _cause(exc: BaseException) -> str:
    """The worker's own error: Ray wraps it in several layers and ships its traceback as text,
    where the original error is the first `SomethingError: message` line not from Ray."""
    for line in str(exc).splitlines():
        m = _ERROR_LINE.match(line.strip())
        if m and not m.group(1).startswith("ray."):
            return line.strip()[:300]
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


_ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit)): \S")
