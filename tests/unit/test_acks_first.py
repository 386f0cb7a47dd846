"""Work after an ack waits for the acks still queued behind it, but never forever."""

from __future__ import annotations

import asyncio

from adapters.slack.acks_first import AcksFirst


async def test_work_starts_only_once_no_request_awaits_its_ack() -> None:
    acks = AcksFirst(max_wait=60)  # far longer than the test: only the acks release it
    order: list[str] = []
    arrived, answer = asyncio.Event(), asyncio.Event()

    async def request() -> None:
        with acks.request():
            arrived.set()
            await answer.wait()
            order.append("acked")

    async def work() -> None:
        await arrived.wait()
        await acks.turn()
        order.append("work")

    waiting = asyncio.gather(request(), work())
    await arrived.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == []  # the work waits while a request is unacknowledged
    answer.set()
    await waiting
    assert order == ["acked", "work"]


async def test_a_steady_stream_of_requests_cannot_starve_the_work() -> None:
    acks = AcksFirst(max_wait=0)
    with acks.request():
        await acks.turn()  # returns although a request is still arriving
    assert acks.arriving == 0


async def test_with_nothing_arriving_work_starts_at_once() -> None:
    acks = AcksFirst(max_wait=60)
    await asyncio.wait_for(acks.turn(), 5)
