"""The question queue's own arithmetic (the behaviour under load is tested on a real server in
test_connections.py)."""

import anyio
import pytest

from web.exceptions import ClientGone, Overloaded
from web.server.workqueue import MAX_RETRY_AFTER_S, QuestionQueue


def test_retry_after_follows_the_measured_time_per_question():
    q = QuestionQueue(workers=2, limit=10)
    q.waiting, q.running = 1, 0
    assert q.retry_after() == 1  # nothing measured yet: at least a second
    q._measured(2.0)
    q.waiting, q.running = 3, 2
    assert q.retry_after() == 5  # 5 questions ahead × 2 s / 2 workers
    q.waiting = 10_000
    assert q.retry_after() == MAX_RETRY_AFTER_S


async def _never() -> dict:
    await anyio.sleep_forever()


async def _gone() -> dict:
    return {"type": "http.disconnect"}


def test_full_queue_refuses_and_a_gone_client_is_not_computed():
    calls = []

    async def main():
        q = QuestionQueue(workers=1, limit=0)
        assert await q.run(lambda: calls.append("first") or 1, _never) == 1
        with pytest.raises(ClientGone):
            await q.run(lambda: calls.append("gone"), _gone)
        async with anyio.create_task_group() as tg:
            started = anyio.Event()
            release = anyio.Event()

            async def hold():
                await q.run(lambda: anyio.from_thread.run(_block, started, release), _never)

            tg.start_soon(hold)
            await started.wait()
            with pytest.raises(Overloaded):
                await q.run(lambda: calls.append("refused"), _never)
            release.set()
        assert (q.rejected, q.abandoned, q.completed) == (1, 1, 2)

    anyio.run(main)
    assert calls == ["first"]


async def _block(started: anyio.Event, release: anyio.Event) -> None:
    started.set()
    await release.wait()


def test_a_caller_cancelled_while_waiting_leaves_the_queue_and_counts_as_abandoned():
    """How a cancelled MCP call leaves (stdio has no connection to watch): nothing is computed for
    it and no worker is lost."""
    from web.server.workqueue import never_disconnects
    calls = []

    async def main():
        q = QuestionQueue(workers=1, limit=5)
        async with anyio.create_task_group() as tg:
            started, release = anyio.Event(), anyio.Event()

            async def hold():
                await q.run(lambda: anyio.from_thread.run(_block, started, release), never_disconnects)

            tg.start_soon(hold)
            await started.wait()
            with anyio.move_on_after(0.05):  # waits behind `hold`, then is cancelled
                await q.run(lambda: calls.append("cancelled"), never_disconnects)
            assert (q.waiting, q.abandoned) == (0, 1)
            release.set()
        assert await q.run(lambda: calls.append("next") or 2, never_disconnects) == 2

    anyio.run(main)
    assert calls == ["next"]
