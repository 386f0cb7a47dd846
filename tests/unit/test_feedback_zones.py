"""Feedback shows every time in the reader's own zone, never a bare UTC clock time."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.messages import NoticeKind
from tests.fakes import Harness
from tests.moments import at


async def end_a_meeting(h: Harness) -> str:
    reply = await h.platform.run("/meet Retro in 10m for 30m with <@raj>")
    assert reply.ok, reply.text
    h.clock.advance(minutes=40)
    await h.lifecycle.sweep()
    return h.platform.cards[-1][1].meeting_id


async def test_each_reader_sees_the_window_in_their_own_zone(h: Harness) -> None:
    await h.platform.run("/meet tz Asia/Tokyo", user="raj")
    await h.platform.run("/meet tz America/New_York")
    meeting_id = await end_a_meeting(h)
    closes = h.clock() + timedelta(hours=24)

    raj = await h.platform.run(f"/meet rate {meeting_id} 4", user="raj")
    tokyo = closes.astimezone(await h.service.zone_for(h.platform.caller("raj")))
    assert f"until {tokyo:%a} {tokyo.day} {tokyo:%b} {tokyo:%H:%M} Asia/Tokyo" in raj.text

    ana = await h.platform.run(f"/meet rate {meeting_id} 5")
    new_york = closes.astimezone(await h.service.zone_for(h.platform.caller("ana")))
    assert f"{new_york:%H:%M} America/New_York" in ana.text

    prompt = [n for _, n, _ in h.platform.notices if n.kind is NoticeKind.FEEDBACK]
    assert len(prompt) == 1 and "UTC" not in prompt[0].text
    assert "open for 24 hours" in prompt[0].text


async def test_the_closed_window_is_told_in_the_reader_zone(h: Harness) -> None:
    await h.platform.run("/meet tz Europe/Berlin", user="raj")
    meeting_id = await end_a_meeting(h)
    h.clock.advance(hours=25)
    late = await h.platform.run(f"/meet rate {meeting_id} 3", user="raj")
    assert not late.ok and "closed on" in late.text and "Europe/Berlin" in late.text
    assert "UTC" not in late.text


async def test_a_series_trend_is_dated_in_the_organizer_zone(h: Harness) -> None:
    """The organizer's summary arrives by the sweep; 00:30 in Auckland is the previous
    day in UTC, so the dates show whose zone they were written in."""
    zone = ZoneInfo("Pacific/Auckland")
    await h.platform.run("/meet tz Pacific/Auckland")
    reply = await h.platform.run("/meet Standup every day at 0:30 for 15m")
    assert reply.ok, reply.text
    first_day = h.clock().astimezone(zone).date() + timedelta(days=1)
    for offset in range(2):
        start = at(first_day + timedelta(days=offset), 0, 30, zone)
        h.clock.set(start - timedelta(minutes=1))
        await h.lifecycle.sweep()  # opens the occurrence
        meeting_id = h.platform.cards[-1][1].meeting_id
        h.clock.set(start + timedelta(minutes=16))
        await h.lifecycle.sweep()  # ends it and asks for feedback
        assert (await h.platform.run(f"/meet rate {meeting_id} {offset + 3}")).ok
    h.clock.advance(hours=25)
    await h.lifecycle.sweep()
    summaries = [n.text for user, n in h.platform.privates if n.text.startswith("Feedback for")]
    assert len(summaries) == 2, summaries
    first_end = (at(first_day, 0, 45, zone)).astimezone(zone)
    assert f"{first_end:%a} {first_end.day} {first_end:%b} 3.0" in summaries[-1]
