"""The sweep and the horizon re-plan read only what is due, in pages, yielding between them,
on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from bot import lifecycle as lifecycle_module
from bot import series as series_module
from bot.messages import NoticeKind
from bot.models import Meeting, MeetingStatus
from storage import meetings as meeting_rows
from storage import series as series_rows
from storage.db import from_text, to_text
from storage.deliveries import Kind
from storage.engine import Store
from tests.fakes import Harness, make_harness
from tests.moments import BERLIN, next_monday_at


@pytest.fixture
async def h(store: Store) -> AsyncIterator[Harness]:
    """The usual harness, on each engine's store."""
    async with httpx.AsyncClient() as client:
        made = make_harness(client=client)
        await made.core.store.close()
        made.core.store = store  # before anything has used it
        yield made


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(lifecycle_module, "PAGE", 2)
    monkeypatch.setattr(series_module, "PAGE", 2)
    yield


async def book(h: Harness, text: str) -> Meeting:
    reply = await h.platform.run(text)
    assert reply.ok, reply.text
    meeting = await h.core.get_meeting(h.platform.cards[-1][1].meeting_id)
    assert meeting is not None
    return meeting


def reads_of_meetings(h: Harness, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full meeting read through the core from now on, by id."""
    seen: list[str] = []
    original = h.core.get_meeting

    async def spy(meeting_id: str) -> Meeting | None:
        seen.append(meeting_id)
        return await original(meeting_id)

    monkeypatch.setattr(h.core, "get_meeting", spy)
    return seen


async def test_every_due_event_across_pages_is_delivered_once(
    h: Harness, small_pages: None
) -> None:
    monday_9 = h.clock()
    booked = [await book(h, f"/meet Retro {i} at 10:00 for 30m remind 10m") for i in range(5)]
    h.clock.set(monday_9 + timedelta(minutes=50))
    await h.lifecycle.sweep()
    await h.lifecycle.sweep()
    reminders = [n.meeting_id for _, n, _ in h.platform.notices if n.kind is NoticeKind.REMINDER]
    assert sorted(reminders) == sorted(m.id for m in booked)
    h.clock.set(monday_9 + timedelta(hours=1, minutes=30))
    await h.lifecycle.sweep()
    for meeting in booked:
        ended = await h.core.get_meeting(meeting.id)
        assert ended is not None and ended.status is MeetingStatus.ENDED
    starts = [n for _, n, _ in h.platform.notices if n.kind is NoticeKind.STARTING]
    assert starts == []  # once a meeting is over its start notice is skipped, as ever


async def test_sweep_reads_in_full_only_the_meetings_that_are_due(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monday_9 = h.clock()
    for day in ("tomorrow", "wednesday", "thursday"):
        await book(h, f"/meet Later {day} at 10:00")
    soon = await book(h, "/meet Soon at 10:00 remind 10m")
    reads = reads_of_meetings(h, monkeypatch)
    await h.lifecycle.sweep()
    assert reads == []  # nothing due: no row is read, no host link is opened
    h.clock.set(monday_9 + timedelta(minutes=50))
    await h.lifecycle.sweep()
    assert set(reads) == {soon.id}


async def test_due_events_skip_delivered_closed_and_instant_ones(h: Harness) -> None:
    monday_9 = h.clock()
    meeting = await book(h, "/meet Retro at 10:00 for 30m remind 10m")
    instant = await book(h, "/meet now for 30m")
    later = monday_9 + timedelta(hours=2)

    async def due(kind: Kind) -> set[str]:
        return {mid for _, mid in await meeting_rows.due_events(h.core.store, kind.value, later)}

    assert await due(Kind.REMINDER) == {meeting.id} and await due(Kind.START) == {meeting.id}
    assert await due(Kind.END) == {meeting.id, instant.id}
    h.clock.set(monday_9 + timedelta(minutes=50))
    await h.lifecycle.sweep()
    assert await due(Kind.REMINDER) == set()  # delivered
    await h.platform.run(f"/meet cancel {meeting.id}")
    assert meeting.id not in await due(Kind.START) | await due(Kind.END)  # closed


async def test_a_moved_meeting_is_due_by_its_new_times(h: Harness) -> None:
    monday_9 = h.clock()
    meeting = await book(h, "/meet Retro at 10:00 for 30m remind 10m")
    moved = replace(
        meeting, start=meeting.start + timedelta(hours=3), end=meeting.end + timedelta(hours=3)
    )
    assert await meeting_rows.move_meeting(h.core.store, moved, h.core.box, (Kind.REMINDER.value,))
    [(remind_at, _)] = await meeting_rows.due_events(
        h.core.store, "reminder", monday_9 + timedelta(days=1)
    )
    assert remind_at == to_text(moved.start - timedelta(minutes=10))


async def test_horizon_replan_pages_and_yields_to_the_loop(
    h: Harness, small_pages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(5):
        await book(h, f"/meet Soon {i} in 5m for 30m")
    planned: list[str] = []
    monkeypatch.setattr(h.lifecycle.timers, "at", lambda job_id, *rest: planned.append(job_id))
    turns = 0

    async def other_work() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    task = asyncio.create_task(other_work())
    await asyncio.sleep(0)
    before = turns
    count = await h.lifecycle.plan_window()
    task.cancel()
    assert count == 5 and len(planned) == 5  # each one's start notice, nothing further away
    assert turns > before  # the loop ran other work between pages


async def test_series_sweep_reads_only_series_whose_opening_has_come(
    h: Harness, small_pages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    h.clock.set(next_monday_at(9, tz=BERLIN))  # before all three, in summer and in winter
    await h.platform.run("/meet tz Europe/Berlin")
    for hour in (11, 12, 13):
        reply = await h.platform.run(f"/meet Standup {hour} every weekday at {hour}:00 for 15m")
        assert reply.ok, reply.text
    reads: list[str] = []
    original = series_rows.get_series

    async def spy(store: Store, series_id: str) -> object:
        reads.append(series_id)
        return await original(store, series_id)

    monkeypatch.setattr(series_rows, "get_series", spy)
    await h.lifecycle.sweep()
    assert reads == []  # the next openings are stored and none has come
    opens = sorted(
        (await series_rows.next_opens(h.core.store)).items(), key=lambda item: item[1] or ""
    )
    first_id, first_open = opens[0]
    h.clock.set(from_text(first_open or ""))
    await h.lifecycle.sweep()
    assert reads == [first_id]
    assert [card.title for _, card in h.platform.cards][-1] == "Standup 11"
    assert (await series_rows.next_opens(h.core.store))[first_id] != first_open  # the next one
    reads.clear()
    await h.lifecycle.sweep()
    assert reads == []


async def test_a_longer_workspace_lead_opens_series_links_earlier(h: Harness) -> None:
    """Series open their link the workspace's reminder lead before each meeting; after an
    admin lengthens it, the next link comes at the new lead, not the old one."""
    reply = await h.platform.run("/meet Sync every day at 12:00 for 15m")
    assert reply.ok, reply.text
    await h.lifecycle.sweep()
    assert (await h.platform.run("/meet config reminder 30m", admin=True)).ok
    local = h.clock().astimezone(await h.service.zone_for(h.platform.caller()))
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    if noon - timedelta(minutes=30) <= local:
        noon += timedelta(days=1)
    h.clock.set(noon - timedelta(minutes=29))
    await h.lifecycle.sweep()
    assert [card.title for _, card in h.platform.cards] == ["Sync"]
