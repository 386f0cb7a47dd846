"""Reminders, start notices and expiry: on time, once, across restarts and DST."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.messages import NoticeKind
from bot.models import Meeting, MeetingStatus
from bot.ports import DeliveryError, system_clock
from bot.requests import CreateMeeting
from tests.fakes import FakeClock, Harness, harness
from tests.moments import BERLIN, at, next_clock_change, next_monday_at


def kinds(h: Harness) -> list[NoticeKind]:
    return [notice.kind for _, notice, _ in h.platform.notices]


async def schedule(h: Harness, text: str = "/meet Retro at 10:00 for 30m remind 10m") -> Meeting:
    reply = await h.platform.run(text)
    assert reply.ok, reply.text
    meeting = await h.core.get_meeting(h.platform.cards[-1][1].meeting_id)
    assert meeting is not None
    return meeting


async def test_reminder_fires_once_at_its_minute_with_the_join_link(h: Harness) -> None:
    monday_9 = h.clock()
    meeting = await schedule(h)
    assert meeting.start == monday_9 + timedelta(hours=1)
    h.clock.set(monday_9 + timedelta(minutes=49, seconds=59))
    await h.lifecycle.sweep()
    assert kinds(h) == []
    h.clock.set(monday_9 + timedelta(minutes=50))
    await h.lifecycle.sweep()
    await h.lifecycle.sweep()
    await h.lifecycle.fire("reminder", meeting.id)  # a timer racing the sweep
    assert kinds(h) == [NoticeKind.REMINDER]
    _, notice, thread = h.platform.notices[0]
    assert notice.join_url == meeting.join_url
    assert "starts in 10 minutes" in notice.text and "late" not in notice.text
    assert thread == "msg-1"  # threaded under the card


async def test_start_notice_then_expiry_closes_room_and_card(h: Harness) -> None:
    ended: list[str] = []

    async def on_ended(meeting: Meeting) -> None:
        ended.append(meeting.id)

    h.lifecycle.ended_hooks.append(on_ended)
    monday_9 = h.clock()
    meeting = await schedule(h)
    h.clock.set(monday_9 + timedelta(hours=1))
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.STARTING]  # a reminder after the start is pointless
    assert (await h.core.get_meeting(meeting.id)).status is MeetingStatus.ACTIVE  # type: ignore[union-attr]
    h.clock.set(monday_9 + timedelta(hours=1, minutes=30))
    await h.lifecycle.sweep()
    await h.lifecycle.sweep()
    assert kinds(h)[-2:] == [NoticeKind.ENDED, NoticeKind.FEEDBACK]  # then the feedback prompt
    [(_, _, card)] = h.platform.updates
    assert card.join_url is None and card.status == "ended"
    assert ended == [meeting.id]


async def test_cancelled_meeting_never_reminds(h: Harness) -> None:
    monday_9 = h.clock()
    meeting = await schedule(h)
    await h.platform.run(f"/meet cancel {meeting.id}")
    h.clock.set(monday_9 + timedelta(hours=2))
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.ENDED]  # only the "was cancelled" line


async def test_restart_in_the_middle_loses_nothing_and_repeats_nothing(db_file: str) -> None:
    monday_9 = next_monday_at(9)
    clock = FakeClock(monday_9)
    async with harness(db_file, clock=clock) as first:
        meeting = await schedule(first)
        clock.set(monday_9 + timedelta(minutes=50))
        await first.lifecycle.sweep()
        assert kinds(first) == [NoticeKind.REMINDER]
    # the process dies; a new one starts after the meeting began
    clock.set(monday_9 + timedelta(hours=1, seconds=30))
    async with harness(db_file, clock=clock) as second:
        await second.lifecycle.sweep()
        assert kinds(second) == [NoticeKind.STARTING]
    clock.set(monday_9 + timedelta(hours=1, minutes=45))  # down across the end
    async with harness(db_file, clock=clock) as third:
        await third.lifecycle.sweep()
        assert kinds(third) == [NoticeKind.ENDED, NoticeKind.FEEDBACK]
        assert (await third.core.get_meeting(meeting.id)).status is MeetingStatus.ENDED  # type: ignore[union-attr]


async def test_reminder_missed_while_down_is_late_only_if_not_started(db_file: str) -> None:
    monday_9 = next_monday_at(9)
    clock = FakeClock(monday_9)
    async with harness(db_file, clock=clock) as first:
        await schedule(first, "/meet Early at 10:00 for 2h remind 10m")
        await schedule(first, "/meet Late at 11:00 remind 10m")
    clock.set(monday_9 + timedelta(hours=1, minutes=55))
    async with harness(db_file, clock=clock) as second:
        await second.lifecycle.sweep()
        texts = [(n.title, n.kind, n.text) for _, n, _ in second.platform.notices]
    reminders = [t for t in texts if t[1] is NoticeKind.REMINDER]
    assert reminders == [("Late", NoticeKind.REMINDER, reminders[0][2])]
    assert "late" in reminders[0][2] and "starts in 5 minutes" in reminders[0][2]
    assert ("Early", NoticeKind.STARTING, "started a little while ago") in texts


async def test_two_processes_on_one_database_send_each_reminder_once(db_file: str) -> None:
    monday_9 = next_monday_at(9)
    clock = FakeClock(monday_9)
    async with harness(db_file, clock=clock) as one, harness(db_file, clock=clock) as two:
        await schedule(one)
        clock.set(monday_9 + timedelta(minutes=50))
        await asyncio.gather(one.lifecycle.sweep(), two.lifecycle.sweep())
        await asyncio.gather(two.lifecycle.sweep(), one.lifecycle.sweep())
        assert len(one.platform.notices) + len(two.platform.notices) == 1


async def test_reminder_lands_at_the_right_minute_across_dst_end() -> None:
    # Saturday 12:00 Berlin (CEST, UTC+2) before the next fall-back Sunday (then UTC+1).
    sunday = next_clock_change(BERLIN, forward=False)
    saturday_noon = at(sunday - timedelta(days=1), 12, 0, BERLIN)
    assert saturday_noon.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    clock = FakeClock(saturday_noon)
    async with harness(clock=clock) as h:
        await h.platform.run("/meet tz Europe/Berlin")
        meeting = await schedule(h, "/meet Brunch tomorrow 9:00 remind 10m")
        assert meeting.start == at(sunday, 8, 0)  # 09:00 CET, UTC+1 after the change
        clock.set(at(sunday, 7, 49))
        await h.lifecycle.sweep()
        assert kinds(h) == []
        clock.set(at(sunday, 7, 50))  # 08:50 local, after the change
        await h.lifecycle.sweep()
        assert kinds(h) == [NoticeKind.REMINDER]


async def test_passing_delivery_failure_is_retried_permanent_one_stops(h: Harness) -> None:
    monday_9 = h.clock()
    meeting = await schedule(h)
    h.clock.set(monday_9 + timedelta(minutes=50))
    h.platform.fail_next.append(DeliveryError("rate limited"))
    await h.lifecycle.sweep()
    assert kinds(h) == []
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.REMINDER]
    h.platform.fail_next.append(DeliveryError("channel deleted", permanent=True))
    h.clock.set(monday_9 + timedelta(hours=1))
    await h.lifecycle.sweep()
    assert (await h.core.get_meeting(meeting.id)).status is MeetingStatus.CANCELLED  # type: ignore[union-attr]
    h.clock.set(monday_9 + timedelta(hours=1, minutes=30))
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.REMINDER]


async def test_apscheduler_timer_fires_without_a_sweep() -> None:
    """The real AsyncIOScheduler, real clock: a reminder due in a moment arrives."""
    scheduler = AsyncIOScheduler(timezone=UTC)
    async with harness(clock=system_clock, scheduler=scheduler) as h:  # type: ignore[arg-type]
        await h.lifecycle.start()
        now = system_clock()
        request = CreateMeeting(
            title="Soon",
            start=now + timedelta(seconds=1.5),
            duration=timedelta(minutes=5),
            remind=timedelta(seconds=1),
        )
        reply = await h.service.handle(h.platform.caller(), request)
        assert reply.ok, reply.text
        for _ in range(100):
            if NoticeKind.STARTING in kinds(h):
                break
            await asyncio.sleep(0.05)
        scheduler.shutdown(wait=False)
        assert kinds(h)[:2] == [NoticeKind.REMINDER, NoticeKind.STARTING]


async def test_meeting_created_inside_its_reminder_window_gets_no_late_reminder(h: Harness) -> None:
    await schedule(h, "/meet Soon in 5m remind 10m")
    await h.lifecycle.sweep()
    h.clock.advance(minutes=5)
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.STARTING]


async def test_far_meetings_get_timers_only_when_they_come_near() -> None:
    """Timers exist for the next minutes only; far events are planned as they approach."""
    scheduler = AsyncIOScheduler(timezone=UTC)  # never started: we only read its jobs
    async with harness(scheduler=scheduler) as h:
        near = await schedule(h, "/meet Near in 20m remind 15m")
        far = await schedule(h, "/meet Far tomorrow 10:00")
        jobs = {job.id for job in scheduler.get_jobs()}
        assert f"reminder:{near.id}" in jobs and not any(far.id in job for job in jobs)
        h.clock.set(far.start - timedelta(minutes=11))  # reminder due in 1, start in 11
        await h.lifecycle.plan_window()
        assert f"reminder:{far.id}" in {job.id for job in scheduler.get_jobs()}
        h.clock.set(far.start - timedelta(minutes=9))
        await h.lifecycle.plan_window()
        jobs = {job.id for job in scheduler.get_jobs()}
        assert {f"reminder:{far.id}", f"start:{far.id}"} <= jobs
