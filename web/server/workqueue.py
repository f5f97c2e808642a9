"""The bounded queue in front of the CPU workers (answering and searching embed text on the CPU).

At most `workers` questions are computed at once, each in a worker thread; at most `limit` more
wait for a worker. Beyond that a question is refused at once with `Overloaded` (503 with a
Retry-After estimated from the measured time per question) instead of queueing without limit.

A client that disconnects while its question waits leaves the queue at once, and the connection
is checked again just before the CPU work starts: work for clients that have gone is not done
(a burst of abandoned requests would otherwise delay the next real question by a minute or more). A
caller cancelled while it waits (an MCP client's `notifications/cancelled`) leaves it too.

Every route that computes an answer or a search goes through `run`: /api/ask, /api/search, the
chat form, /v1/chat/completions and the MCP tools (over HTTP with the request's own `receive`,
over stdio with `never_disconnects`). One instance per app, on `app.state.question_queue`; its
counters (`waiting`, `running`, `rejected`, `abandoned`, `completed`) are read by health checks
and metrics.
"""

import math
import time
from collections.abc import Callable
from typing import TypeVar

import anyio
from anyio import to_thread
from starlette.types import Message, Receive

from web.exceptions import ClientGone, Overloaded

T = TypeVar("T")

# Weight of the newest question in the running mean of seconds per question (Retry-After).
_SMOOTHING = 0.2
MAX_RETRY_AFTER_S = 60


class QuestionQueue:
    def __init__(self, workers: int, limit: int) -> None:
        self.workers = max(1, workers)
        self.limit = max(0, limit)
        # Who may compute now (FIFO among waiters) ...
        self._slots = anyio.CapacityLimiter(self.workers)
        # ... and the threads they compute in (kept apart from anyio's default thread pool, which
        # Starlette also uses for file responses and sync dependencies).
        self.threads = anyio.CapacityLimiter(self.workers)
        self.waiting = 0
        self.running = 0
        self.rejected = 0
        self.abandoned = 0
        self.completed = 0
        self.mean_seconds: float | None = None

    def resize(self, workers: int) -> None:
        """Compute up to `workers` questions at once; only while none waits (the server resizes
        before it starts answering: anyio wakes waiters from the event loop's thread only)."""
        self.workers = max(1, workers)
        self._slots.total_tokens = self.workers
        self.threads.total_tokens = self.workers

    def retry_after(self) -> int:
        """Seconds until the questions ahead are likely done (at least 1)."""
        per_question = self.mean_seconds if self.mean_seconds is not None else 1.0
        ahead = self.waiting + self.running
        return max(1, min(MAX_RETRY_AFTER_S, math.ceil(ahead * per_question / self.workers)))

    def snapshot(self) -> dict:
        return {"workers": self.workers, "limit": self.limit, "waiting": self.waiting,
                "running": self.running, "rejected": self.rejected, "abandoned": self.abandoned,
                "completed": self.completed}

    async def run(self, fn: Callable[[], T], receive: Receive) -> T:
        """`fn()` in a worker thread once a worker is free. `receive` is the request's ASGI
        receive (its body already read), used to notice that the client has gone."""
        if self._slots.available_tokens < 1 and self.waiting >= self.limit:
            self.rejected += 1
            raise Overloaded(self.retry_after())
        self.waiting += 1
        try:
            acquired = await self._acquire_unless_gone(receive)
        except anyio.get_cancelled_exc_class():
            self.abandoned += 1  # the caller gave up while waiting
            raise
        finally:
            self.waiting -= 1
        if not acquired:
            self.abandoned += 1
            raise ClientGone
        try:
            if await _gone_now(receive):
                self.abandoned += 1
                raise ClientGone
            self.running += 1
            started = time.perf_counter()
            try:
                return await to_thread.run_sync(fn, limiter=self.threads)
            finally:
                self.running -= 1
                self.completed += 1
                self._measured(time.perf_counter() - started)
        finally:
            self._slots.release()

    async def _acquire_unless_gone(self, receive: Receive) -> bool:
        """Wait for a worker; False (without one) if the client disconnects first."""
        acquired = False
        try:
            async with anyio.create_task_group() as tg:
                async def watch() -> None:
                    await _disconnected(receive)
                    tg.cancel_scope.cancel()

                tg.start_soon(watch)
                await self._slots.acquire()
                acquired = True
                tg.cancel_scope.cancel()
        except BaseException:
            if acquired:  # cancelled from outside just after getting a worker: give it back
                self._slots.release()
            raise
        return acquired

    def _measured(self, seconds: float) -> None:
        previous = self.mean_seconds
        self.mean_seconds = seconds if previous is None else previous + _SMOOTHING * (seconds - previous)


async def never_disconnects() -> dict:
    """The `receive` of a caller that has no connection to watch (MCP over stdio: the process
    ends with its client, and a cancelled call is cancelled as a task)."""
    await anyio.sleep_forever()
    return {}


async def _disconnected(receive: Receive) -> None:
    """Return once the client has disconnected (the body has been read: nothing else comes)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def _gone_now(receive: Receive) -> bool:
    """Has the client disconnected? Answers at once, without waiting for news."""
    message: Message = {}
    with anyio.CancelScope() as scope:
        scope.cancel()
        message = await receive()
    return message.get("type") == "http.disconnect"
