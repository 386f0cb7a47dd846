"""Recurring series: right local minute all year, once per occurrence, fresh rooms."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.messages import NoticeKind
from bot.models import MeetingStatus
from bot.ports import Room, RoomSpec
from bot.providers.errors import Unavailable
from tests.fakes import FakeClock, Harness, StaticProviders, StubProvider, harness
from tests.moments import BERLIN, at, next_clock_change, next_monday_at, next_weekday


def series_id(reply_text: str) -> str:
    return reply_text.split("(id ")[1].split(")")[0]


async def make_series(h: Harness, text: str, zone: str = "Europe/Berlin") -> str:
    await h.platform.run(f"/meet tz {zone}")
    reply = await h.platform.run(text)
    assert reply.ok, reply.text
    return series_id(reply.text)


def expected_weekday_starts(
    first: date, days: int, zone: str, hour: int, minute: int
) -> list[datetime]:
    """Independently: every Monday–Friday of `days` days from `first` at hh:mm local, as UTC."""
    tz = ZoneInfo(zone)
    day, starts = first, []
    while day < first + timedelta(days=days):
        if day.weekday() < 5:
            starts.append(
                datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz).astimezone(UTC)
            )
        day += timedelta(days=1)
    return starts


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
async def test_weekday_series_fires_at_the_right_local_minute_for_a_year(zone: str) -> None:
    monday_9 = next_monday_at(9)
    clock = FakeClock(monday_9)
    async with harness(clock=clock) as h:
        await make_series(h, "/meet Standup every weekday at 9:30 for 15m", zone)
        # a year from the day after the reference: both DST changes and a new year's day
        expected = expected_weekday_starts(monday_9.date() + timedelta(days=1), 366, zone, 9, 30)
        offsets = {start.astimezone(ZoneInfo(zone)).utcoffset() for start in expected}
        assert len(offsets) == 2  # the simulated year really crosses summer and winter time
        for start in expected:
            for moment in (start - timedelta(minutes=11), start - timedelta(minutes=10), start,
                           start + timedelta(minutes=15)):  # fmt: skip
                clock.set(moment)
                await h.lifecycle.sweep()
        cards = [card for _, card in h.platform.cards]
        assert [card.start for card in cards] == expected
        local_times = {card.start.astimezone(ZoneInfo(zone)).strftime("%H:%M") for card in cards}
        assert local_times == {"09:30"}
        assert len({card.join_url for card in cards}) == len(cards)  # a fresh room each time
        hosts = [note for _, note in h.platform.privates if note.link]
        assert len(hosts) == len(cards)  # the host link privately, each time
        public = h.platform.public_text()
        assert all(note.link not in public for note in hosts)


async def test_missing_and_repeated_local_times_fire_once_each() -> None:
    spring = next_clock_change(BERLIN, forward=True)  # a Sunday: 02:00 CET jumps to 03:00 CEST
    fall = next_clock_change(BERLIN, forward=False, after=spring)  # 03:00 CEST back to 02:00 CET
    day = timedelta(days=1)
    clock = FakeClock(at(spring - day, 0, 0))
    async with harness(clock=clock) as h:
        await make_series(h, "/meet Night shift every day at 2:30 for 15m")
        for _ in range(2 * 24 * 60 // 5):  # five-minute ticks across the spring-forward night
            clock.advance(minutes=5)
            await h.lifecycle.sweep()
        starts = [card.start for _, card in h.platform.cards]
        assert starts == [
            at(spring - day, 1, 30),  # 02:30 CET
            at(spring, 1, 0),  # 02:30 does not exist: 03:00 CEST
        ]
        h.platform.cards.clear()
        clock.set(at(fall - day, 0, 0))
        for _ in range(2 * 24 * 60 // 5):  # across the fall-back night
            clock.advance(minutes=5)
            await h.lifecycle.sweep()
        starts = [card.start for _, card in h.platform.cards]
        assert starts == [
            at(fall - day, 0, 30),  # 02:30 CEST
            at(fall, 0, 30),  # the first 02:30 only
        ]


async def test_reply_previews_the_next_three_occurrences(h: Harness) -> None:
    monday = h.clock().astimezone(BERLIN).date()
    # the harness clock is a Monday 09:00 UTC = 10:00 or 11:00 Berlin, so Monday is past
    assert monday.weekday() == 0 and h.clock().astimezone(BERLIN).hour >= 10
    wed, fri, next_mon = (monday + timedelta(days=n) for n in (2, 4, 7))
    await h.platform.run("/meet tz Europe/Berlin")
    reply = await h.platform.run("/meet Standup every mon,wed,fri at 10:00")
    assert (
        f"Next: Wed {wed.day} {wed:%b} 10:00; Fri {fri.day} {fri:%b} 10:00; "
        f"Mon {next_mon.day} {next_mon:%b} 10:00"
    ) in reply.text
    listing = await h.platform.run("/meet list")
    [item] = listing.items
    assert item.is_series and item.next_occurrences[0] == f"Wed {wed.day} {wed:%b} 10:00"


async def test_restart_and_second_process_never_post_twice(db_file: str) -> None:
    monday = next_weekday(0, BERLIN)
    clock = FakeClock(at(monday, 7, 0, BERLIN))
    async with harness(db_file, clock=clock) as first:
        await make_series(first, "/meet Standup every weekday at 9:30 for 15m")
        clock.set(at(monday, 9, 20, BERLIN))  # 09:20 Berlin: opening time
        await first.lifecycle.sweep()
        assert len(first.platform.cards) == 1
    async with harness(db_file, clock=clock) as again, harness(db_file, clock=clock) as other:
        await asyncio.gather(again.lifecycle.sweep(), other.lifecycle.sweep())
        assert again.platform.cards == [] and other.platform.cards == []
        clock.set(at(monday + timedelta(days=1), 9, 20, BERLIN))
        await asyncio.gather(again.lifecycle.sweep(), other.lifecycle.sweep())
        assert len(again.platform.cards) + len(other.platform.cards) == 1


async def test_missed_while_down_is_posted_late_if_still_running_else_skipped(db_file: str) -> None:
    monday = next_weekday(0, BERLIN)
    clock = FakeClock(at(monday, 7, 0, BERLIN))
    async with harness(db_file, clock=clock) as first:
        await make_series(first, "/meet Standup every weekday at 9:30 for 15m")
    clock.set(at(monday, 9, 40, BERLIN))  # 09:40: running, 5 minutes left
    async with harness(db_file, clock=clock) as second:
        await second.lifecycle.sweep()
        assert len(second.platform.cards) == 1
        assert NoticeKind.STARTING in [n.kind for _, n, _ in second.platform.notices]
    clock.set(at(monday + timedelta(days=1), 9, 50, BERLIN))  # 09:50: Tuesday's is over
    async with harness(db_file, clock=clock) as third:
        await third.lifecycle.sweep()
        assert third.platform.cards == []


async def test_skip_pause_resume_cancel(h: Harness) -> None:
    monday = h.clock().astimezone(BERLIN).date()  # 09:30 Berlin has passed today
    sid = await make_series(h, "/meet Standup every day at 9:30 for 15m")
    tuesday = monday + timedelta(days=1)
    skipped = await h.platform.run(f"/meet skip {sid} {tuesday:%Y-%m-%d}")
    assert skipped.ok, skipped.text
    posted = []
    for offset in range(1, 7):  # Tuesday to Sunday
        h.clock.set(at(monday + timedelta(days=offset), 9, 20, BERLIN))
        if offset == 2:
            assert (await h.platform.run(f"/meet pause {sid}")).ok
        if offset == 4:
            assert (await h.platform.run(f"/meet resume {sid}")).ok
        if offset == 5:
            assert (await h.platform.run(f"/meet cancel {sid}")).ok
        before = len(h.platform.cards)
        await h.lifecycle.sweep()
        if len(h.platform.cards) > before:
            posted.append(offset)
    assert posted == [4]  # only Friday: Tuesday skipped, Wed-Thu paused, cancelled on Saturday


async def test_only_owner_or_admin_manage_a_series(h: Harness) -> None:
    sid = await make_series(h, "/meet Standup every weekday at 9:30")
    refused = await h.platform.run(f"/meet pause {sid}", user="raj")
    assert not refused.ok and "Only the owner" in refused.text
    assert (await h.platform.run(f"/meet pause {sid}", user="boss", admin=True)).ok


class Flaky(StubProvider):
    """Rooms after `failures` Unavailable answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures

    async def create_room(self, spec: RoomSpec) -> Room:
        if self.failures:
            self.failures -= 1
            raise Unavailable("Jitsi")
        return await super().create_room(spec)


async def test_provider_trouble_is_retried_then_reported_never_silent() -> None:
    monday = next_weekday(0, BERLIN)
    tuesday = monday + timedelta(days=1)
    clock = FakeClock(at(monday, 7, 0, BERLIN))
    flaky = Flaky(failures=2)
    async with harness(clock=clock, providers=StaticProviders(jitsi=flaky)) as h:
        await make_series(h, "/meet Standup every weekday at 9:30 for 15m")
        clock.set(at(monday, 9, 20, BERLIN))
        for _ in range(8):  # sweeps every 30 s: back off 15 s, then 30 s
            await h.lifecycle.sweep()
            clock.advance(seconds=30)
        assert len(h.platform.cards) == 1
        flaky.failures = 1000
        clock.set(at(tuesday, 9, 20, BERLIN))
        while clock() <= at(tuesday, 9, 31, BERLIN):
            await h.lifecycle.sweep()
            clock.advance(seconds=30)
        failures = [n for _, n, _ in h.platform.notices if n.kind is NoticeKind.FAILURE]
        assert len(failures) == 1 and "Jitsi" in failures[0].text
        assert len(h.platform.cards) == 1


async def test_cancelling_a_series_cancels_its_opened_but_unstarted_occurrence(h: Harness) -> None:
    tuesday = h.clock().astimezone(BERLIN).date() + timedelta(days=1)
    sid = await make_series(h, "/meet Standup every day at 10:30 for 15m")
    h.clock.set(at(tuesday, 10, 20, BERLIN))  # opening time, ten minutes before the start
    await h.lifecycle.sweep()
    meeting_id = h.platform.cards[0][1].meeting_id
    await h.platform.run(f"/meet cancel {sid}")
    meeting = await h.core.get_meeting(meeting_id)
    assert meeting is not None and meeting.status is MeetingStatus.CANCELLED


# ---- the rules teams use: every N weeks, monthly, until, count ------------------------------

DAY = timedelta(days=1)
WEEK = timedelta(days=7)


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def first_weekdays_of_months(weekday: int, after: date, count: int) -> list[date]:
    """Independently: the first `weekday` of each month, from the first after `after`."""
    found: list[date] = []
    month = after.replace(day=1)
    while len(found) < count:
        first = month + timedelta(days=(weekday - month.weekday()) % 7)
        if first > after:
            found.append(first)
        month = (month + 32 * DAY).replace(day=1)
    return found


async def sweep_days(h: Harness, first: date, days: int, times: list[tuple[int, int]]) -> None:
    for n in range(days):
        for hour, minute in times:
            h.clock.set(at(first + n * DAY, hour, minute, BERLIN))
            await h.lifecycle.sweep()


async def test_every_other_week_is_a_series_opening_on_the_right_tuesdays() -> None:
    monday = next_weekday(0, BERLIN)
    clock = FakeClock(at(monday, 8, 0, BERLIN))
    async with harness(clock=clock) as h:
        await h.platform.run("/meet tz Europe/Berlin")
        reply = await h.platform.run("/meet Sync every other week on tue at 10:00")
        assert reply.ok and "(id " in reply.text, reply.text
        tuesdays = [monday + DAY + 2 * n * WEEK for n in range(4)]
        assert "“Sync” every other Tuesday at 10:00 Europe/Berlin" in reply.text
        assert "Next: " + "; ".join(f"{day_text(d)} 10:00" for d in tuesdays[:3]) in reply.text
        listing = await h.platform.run("/meet list")
        assert [item.is_series for item in listing.items] == [True]  # a series, no meeting
        await sweep_days(h, monday, 8 * 7, [(9, 50), (10, 0), (10, 31)])
        assert [card.start for _, card in h.platform.cards] == [
            at(d, 10, 0, BERLIN) for d in tuesdays
        ]
        assert {card.title for _, card in h.platform.cards} == {"Sync"}


async def test_monthly_rules_are_series_with_their_dates_previewed(h: Harness) -> None:
    await h.platform.run("/meet tz Europe/Berlin")
    today = h.clock().astimezone(BERLIN).date()
    townhall = await h.platform.run("/meet Townhall every first monday at 17:00")
    assert townhall.ok, townhall.text
    assert "every first Monday of the month at 17:00 Europe/Berlin" in townhall.text
    mondays = first_weekdays_of_months(0, today - DAY, 3)  # today's 17:00 is still ahead
    assert "Next: " + "; ".join(f"{day_text(d)} 17:00" for d in mondays) in townhall.text
    offsite = await h.platform.run("/meet Offsite every month on the 1st at 10:00")
    assert offsite.ok and "already passed" not in offsite.text, offsite.text
    firsts = [(today.replace(day=1) + n * 32 * DAY).replace(day=1) for n in range(1, 4)]
    assert "Next: " + "; ".join(f"{day_text(d)} 10:00" for d in firsts) in offsite.text
    late = await h.platform.run("/meet Close every month on the 31st at 16:00")
    assert "(the last day in shorter months)" in late.text


async def test_a_counted_series_ends_stops_posting_and_says_so(h: Harness) -> None:
    await h.platform.run("/meet tz Europe/Berlin")
    monday = h.clock().astimezone(BERLIN).date()  # 09:00 has passed today
    reply = await h.platform.run("/meet Retro every day at 9:00 for 2 times")
    assert reply.ok and "2 times, 2 left" in reply.text, reply.text
    await sweep_days(h, monday + DAY, 4, [(8, 50), (9, 0)])
    starts = [card.start for _, card in h.platform.cards]
    assert starts == [at(monday + DAY, 9, 0, BERLIN), at(monday + 2 * DAY, 9, 0, BERLIN)]
    [item] = (await h.platform.run("/meet list")).items
    assert item.status == "ended" and item.next_occurrences == ()
    assert "2 times, none left (ended)" in item.local_when


async def test_until_shows_in_the_listing_and_a_past_end_is_refused(h: Harness) -> None:
    await h.platform.run("/meet tz Europe/Berlin")
    today = h.clock().astimezone(BERLIN).date()
    end = today + 3 * WEEK
    created = await h.platform.run(f"/meet Sync every weekday at 9:30 until {end.isoformat()}")
    assert created.ok, created.text
    [item] = (await h.platform.run("/meet list")).items
    year = f" {end.year}" if end.year != today.year else ""
    assert f"until {end.day} {end:%b}{year}" in item.local_when and item.status == "active"
    past = await h.platform.run(f"/meet Old every weekday at 9:30 until {today - DAY}")
    assert not past.ok and "before the first one" in past.text
    assert len((await h.platform.run("/meet list")).items) == 1  # nothing was saved


async def test_skip_works_for_a_monthly_rule(h: Harness) -> None:
    await h.platform.run("/meet tz Europe/Berlin")
    today = h.clock().astimezone(BERLIN).date()
    sid = await make_series(h, "/meet Townhall every last friday at 16:00")
    wrong = await h.platform.run(f"/meet skip {sid} {today + DAY}")
    assert not wrong.ok and "no meeting on" in wrong.text
    reply = await h.platform.run(f"/meet skip {sid}")
    assert reply.ok, reply.text
    [item] = (await h.platform.run("/meet list")).items
    skipped = reply.text.split("Skipping “Townhall” on ")[1].split(";")[0]
    assert skipped not in item.next_occurrences[0]
    assert all(entry.startswith("Fri") for entry in item.next_occurrences)


async def test_refused_rules_create_nothing(h: Harness) -> None:
    for text in ("/meet Sync every fortnightly at 9:00", "/meet Sync every 2nd tue at 10:00"):
        reply = await h.platform.run(text)
        assert not reply.ok and " Try: " in reply.text
    assert (await h.platform.run("/meet list")).items == ()
    assert h.platform.cards == []
