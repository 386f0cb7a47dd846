"""Timers follow convene's clock, not the machine's, and never run off the event loop."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.messages import NoticeKind
from bot.ports import system_clock
from bot.requests import CreateMeeting
from bot.timers import Timers
from tests.fakes import FakeClock, Harness, harness
from tests.moments import next_monday_at


def kinds(h: Harness) -> list[NoticeKind]:
    return [notice.kind for _, notice, _ in h.platform.notices]


async def schedule_in(h: Harness, delta: timedelta) -> str:
    request = CreateMeeting(title="Soon", start=h.clock() + delta, remind=timedelta(minutes=2))
    reply = await h.service.handle(h.platform.caller(), request)
    assert reply.ok, reply.text
    return h.platform.cards[-1][1].meeting_id


@pytest.mark.parametrize("skew", [timedelta(days=-8), timedelta(days=400)])
async def test_a_real_scheduler_waits_by_the_injected_clock(skew: timedelta) -> None:
    """The injected clock is days away from the machine's: a meeting in 5 minutes by
    convene's clock must not start just because the machine's clock says so."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) + skew)
    scheduler = AsyncIOScheduler(timezone=UTC)
    async with harness(clock=clock, scheduler=scheduler) as h:
        await h.lifecycle.start()
        try:
            meeting_id = await schedule_in(h, timedelta(minutes=5))
            await asyncio.sleep(0.5)
            assert kinds(h) == []
            pending = set(h.lifecycle.timers.pending())
            assert {f"reminder:{meeting_id}", f"start:{meeting_id}"} <= pending
        finally:
            h.lifecycle.timers.shutdown()


async def test_a_timer_that_fires_early_plans_itself_again() -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)  # not started: we only read its jobs
    async with harness(clock=FakeClock(next_monday_at(9)), scheduler=scheduler) as early:
        meeting_id = await schedule_in(early, timedelta(minutes=5))
        scheduler.remove_all_jobs()
        await early.lifecycle.fire("start", meeting_id)
        assert kinds(early) == []
        assert f"start:{meeting_id}" in early.lifecycle.timers.pending()
        early.clock.advance(minutes=5)
        await early.lifecycle.fire("start", meeting_id)
        assert kinds(early) == [NoticeKind.STARTING]


def test_a_plain_function_is_refused_as_a_job() -> None:
    """APScheduler would run it in a worker thread, away from the loop's database."""
    timers = Timers(AsyncIOScheduler(timezone=UTC), system_clock)

    def blocking() -> None:
        return None

    with pytest.raises(TypeError, match="off the event loop"):
        timers.every("plain", timedelta(minutes=5), blocking)  # type: ignore[arg-type]


async def test_the_horizon_re_plan_runs_on_the_loop_and_plans_what_came_near(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every five minutes the horizon job gives newly near events their timers."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    scheduler = AsyncIOScheduler(timezone=UTC)
    async with harness(clock=clock, scheduler=scheduler) as h:
        await h.lifecycle.start()
        try:
            meeting_id = await schedule_in(h, timedelta(minutes=25))
            assert f"reminder:{meeting_id}" not in h.lifecycle.timers.pending()
            clock.advance(minutes=14)  # the reminder is now 9 minutes away
            caplog.set_level(logging.ERROR)
            horizon = scheduler.get_job("horizon")
            assert horizon is not None
            horizon.modify(next_run_time=datetime.now(UTC))
            for _ in range(50):
                await asyncio.sleep(0.02)
                if f"reminder:{meeting_id}" in h.lifecycle.timers.pending():
                    break
            assert f"reminder:{meeting_id}" in h.lifecycle.timers.pending()
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        finally:
            h.lifecycle.timers.shutdown()
