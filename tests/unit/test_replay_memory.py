"""A signed request is acted on once, whichever replica sees it, and its key is
forgotten once its signature could no longer be accepted anyway."""

from __future__ import annotations

from pathlib import Path

from tests.fakes import FakeClock, harness
from tests.moments import next_monday_at


async def test_two_processes_on_one_database_see_a_request_once(tmp_path: Path) -> None:
    clock = FakeClock(next_monday_at(9))
    path = str(tmp_path / "convene.db")
    async with harness(path, clock=clock) as one, harness(path, clock=clock) as two:
        assert await one.service.first_time("slack-signature:1:v0=ab")
        assert not await two.service.first_time("slack-signature:1:v0=ab")
        assert await two.service.first_time("slack-signature:2:v0=ab")


async def test_keys_are_forgotten_after_the_window(tmp_path: Path) -> None:
    clock = FakeClock(next_monday_at(9))
    async with harness(str(tmp_path / "convene.db"), clock=clock) as h:
        assert await h.service.first_time("k")
        clock.advance(minutes=9)
        await h.lifecycle.sweep()
        assert not await h.service.first_time("k")
        clock.advance(minutes=2)  # eleven minutes after it was first seen
        await h.lifecycle.sweep()
        assert await h.service.first_time("k")
