"""Micro-batching of query embeddings: the questions being answered at the same moment share one
model call.

A server computes several questions at once (web.server.workqueue), each in its own thread, and each
embeds its query (one or two short texts) on its way. One model call for 8 queries costs less CPU
than 8 calls for one (fewer, larger matrix products and one dispatch instead of eight;
docs/embedding.md, "Micro-batching fp32 questions"), so `QueryBatcher` gathers them: a calling
thread puts its texts on a queue and waits; a runner thread takes everything waiting (at most
`max_texts` texts, optionally after waiting `wait_s` for more), embeds it in one call and hands each
caller its own rows. While a call runs, the next questions gather, so batches grow with the load and
a lone question is not delayed (`wait_s` = 0).

`runners` model calls may run at once (each a thread of its own). Passages (index builds) are not
batched here: they come in large batches already and go to the wrapped embedder directly.

A caller whose future is cancelled before its batch starts is left out of the batch; a failing
call fails every caller in that batch with the same exception; closing fails whatever waits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future

import numpy as np

from bot.embed.base import Embedder
from bot.errors import ModelError


class _Job:
    __slots__ = ("texts", "future")

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.future: Future = Future()


class QueryBatcher:
    """An `Embedder` whose `encode_queries` calls, from many threads, are merged into batches."""

    def __init__(self, embedder: Embedder, max_texts: int = 16, wait_s: float = 0.0, runners: int = 1) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dim = embedder.dim
        self.backend = getattr(embedder, "backend", None)
        self.max_texts = max(1, max_texts)
        self.wait_s = max(0.0, wait_s)
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._closed = False
        # Counters for tests and metrics: model calls made and texts embedded through them.
        self.calls = 0
        self.texts = 0
        self._runners = [threading.Thread(target=self._run, name=f"query-batcher-{i}", daemon=True)
                         for i in range(max(1, runners))]
        for t in self._runners:
            t.start()

    # -- the Embedder protocol ---------------------------------------------------------------
    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.submit(texts).result()

    def encode_passages(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self.embedder.encode_passages(texts, show_progress)

    def release_passages(self) -> None:
        release = getattr(self.embedder, "release_passages", None)
        if release is not None:
            release()

    # -- batching ----------------------------------------------------------------------------
    def submit(self, texts: list[str]) -> Future:
        """A future of the query vectors of `texts` (rows in the same order)."""
        job = _Job(list(texts))
        if not job.texts:
            job.future.set_result(np.zeros((0, self.dim), dtype=np.float32))
            return job.future
        with self._cond:
            if self._closed:
                raise ModelError("the embedding model has been shut down")
            self._jobs.append(job)
            self._cond.notify()
        return job.future

    def close(self) -> None:
        """Stop the runners; questions still waiting fail with ModelError (→ 503)."""
        with self._cond:
            self._closed = True
            left = list(self._jobs)
            self._jobs.clear()
            self._cond.notify_all()
        for job in left:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(ModelError("the embedding model has been shut down"))
        for t in self._runners:
            if t is not threading.current_thread():
                t.join(timeout=5)

    def _take(self) -> list[_Job] | None:
        """The next batch (None once closed): waiting jobs in arrival order, up to `max_texts`
        texts (a single larger job goes alone)."""
        with self._cond:
            while not self._jobs and not self._closed:
                self._cond.wait()
            if self._closed:
                return None
            if self.wait_s:
                deadline = time.monotonic() + self.wait_s
                while sum(len(j.texts) for j in self._jobs) < self.max_texts and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            batch: list[_Job] = []
            n = 0
            while self._jobs and (not batch or n + len(self._jobs[0].texts) <= self.max_texts):
                job = self._jobs.popleft()
                batch.append(job)
                n += len(job.texts)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            # Cancelled callers are dropped here; the rest can no longer be cancelled.
            batch = [j for j in batch if j.future.set_running_or_notify_cancel()]
            if not batch:
                continue
            texts = [t for j in batch for t in j.texts]
            try:
                vecs = self.embedder.encode_queries(texts)
            except BaseException as exc:  # every caller gets the model's own error
                for j in batch:
                    j.future.set_exception(exc)
                continue
            with self._cond:
                self.calls += 1
                self.texts += len(texts)
            start = 0
            for j in batch:
                j.future.set_result(vecs[start:start + len(j.texts)])
                start += len(j.texts)
