"""Discord scheduled events: the real discord.py client, logged in to the loopback
Discord, driven through convene's DiscordEvents surface. What a member would see:
the event in the guild's list, its times and link, its status as the meeting runs,
and who pressed "Interested"; an admin told once when Manage Events is missing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from adapters.discord.events import DiscordEvents
from tests.e2e.discord_harness import require_spec, validate_sent
from tests.e2e.surfaces import HOST_SECRET, NOW, MemoryState, discord_client, meeting, moved
from tests.emulators.discord import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    GUILD_ID,
    SCHEDULED,
    DiscordEmulator,
)
from tests.fakes import FakeClock

PUBLIC_URL = "https://convene.example"
ANA, RAJ = 1700000000000000001, 1700000000000000002


class Admins:
    """convene's private-note seam for an admin, recorded."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []

    async def __call__(self, guild_id: str, sentence: str) -> None:
        self.told.append((guild_id, sentence))


@pytest.fixture
def clock(emu: DiscordEmulator) -> FakeClock:
    """One clock for convene and the emulator's idea of "now" (past starts are refused)."""
    made = FakeClock(NOW)
    emu.clock = made
    return made


@pytest.fixture
def admins() -> Admins:
    return Admins()


@pytest.fixture
async def events(
    emu: DiscordEmulator, clock: FakeClock, admins: Admins
) -> AsyncIterator[DiscordEvents]:
    async with discord_client(emu) as client:
        yield DiscordEvents(
            client, MemoryState(), public_url=PUBLIC_URL, notify_admin=admins, clock=clock
        )


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def event_writes(emu: DiscordEmulator) -> list[str]:
    return [
        f"{r.method} {r.path}"
        for r in emu.requests
        if "scheduled-events" in r.path and r.method != "GET"
    ]


def everything_sent(emu: DiscordEmulator) -> str:
    return json.dumps([r.body.decode() for r in emu.requests])


async def test_a_planned_meeting_is_one_external_event_with_its_times_and_join_link(
    emu: DiscordEmulator, events: DiscordEvents
) -> None:
    review = meeting(title="Design review")
    await events.planned(review)
    await events.planned(review)  # the card posted again after a retry: still one event

    [event] = emu.events_in(GUILD_ID)
    assert event["name"] == "Design review"
    assert event["entity_type"] == 3 and event["privacy_level"] == 2
    assert event["entity_metadata"] == {"location": review.join_url}
    assert when(event["scheduled_start_time"]) == review.start
    assert when(event["scheduled_end_time"]) == review.end
    assert "Design review" in event["description"]
    assert f"<@{review.organizer_id}>" in event["description"]
    assert event["status"] == SCHEDULED
    assert len(emu.calls("POST", "scheduled-events")) == 1
    assert HOST_SECRET not in everything_sent(emu)


async def test_moving_and_renaming_edit_the_event(
    emu: DiscordEmulator, events: DiscordEvents
) -> None:
    review = meeting()
    await events.planned(review)
    later = moved(
        review,
        timedelta(days=1),
        title="Design review (moved)",
        join_url="https://meet.example/new",
    )
    await events.changed(later)

    [event] = emu.events_in(GUILD_ID)
    assert event["name"] == "Design review (moved)"
    assert when(event["scheduled_start_time"]) == later.start
    assert when(event["scheduled_end_time"]) == later.end
    assert event["entity_metadata"]["location"] == "https://meet.example/new"


async def test_the_event_is_active_while_the_meeting_runs_and_completed_after(
    emu: DiscordEmulator, events: DiscordEvents, clock: FakeClock
) -> None:
    review = meeting()
    await events.planned(review)
    clock.set(review.start)
    await events.started(review)
    assert [e["status"] for e in emu.events_in(GUILD_ID)] == [ACTIVE]
    await events.changed(moved(review, timedelta(minutes=15), title="Review, running long"))
    [event] = emu.events_in(GUILD_ID)
    assert event["name"] == "Review, running long"
    assert when(event["scheduled_start_time"]) == review.start  # a live event keeps its start
    assert when(event["scheduled_end_time"]) == review.end + timedelta(minutes=15)
    clock.set(review.end)
    await events.ended(review)
    assert [e["status"] for e in emu.events_in(GUILD_ID)] == [COMPLETED]
    writes = len(event_writes(emu))
    await events.ended(review)  # the expiry after /meet end: nothing left to do
    await events.cancelled(review)
    assert len(event_writes(emu)) == writes


async def test_cancelling_cancels_the_event_and_an_early_end_does_too(
    emu: DiscordEmulator, events: DiscordEvents
) -> None:
    review, standup = meeting("abc234"), meeting("def567", title="Standup")
    await events.planned(review)
    await events.planned(standup)
    await events.cancelled(review)
    await events.ended(standup)  # /meet end before it began: Discord completes only live ones
    assert sorted(e["status"] for e in emu.events_in(GUILD_ID)) == [CANCELED, CANCELED]


async def test_an_instant_meeting_gets_an_event_that_is_live_at_once(
    emu: DiscordEmulator, events: DiscordEvents
) -> None:
    now = meeting(starts_in=timedelta(0), instant=True)
    await events.planned(now)
    await events.started(now)
    [event] = emu.events_in(GUILD_ID)
    assert event["status"] == ACTIVE
    assert when(event["scheduled_end_time"]) == now.end

    other = meeting("def567", starts_in=timedelta(0), instant=True)
    await events.started(other)  # started without planned: created and live all the same
    assert [e["status"] for e in emu.events_in(GUILD_ID)] == [ACTIVE, ACTIVE]


async def test_a_long_link_shows_the_short_address_and_without_one_no_event(
    emu: DiscordEmulator, clock: FakeClock, admins: Admins, caplog: pytest.LogCaptureFixture
) -> None:
    long_link = "https://meet.example/convene-abc234?jwt=" + "g" * 110
    assert len(long_link) == 150
    async with discord_client(emu) as client:
        with_url = DiscordEvents(
            client, MemoryState(), public_url=PUBLIC_URL, notify_admin=admins, clock=clock
        )
        await with_url.planned(meeting("abc234", join_url=long_link))
        without = DiscordEvents(
            client, MemoryState(), public_url=None, notify_admin=admins, clock=clock
        )
        await without.planned(meeting("def567", join_url=long_link))
        await without.planned(meeting("ghj892", join_url=long_link))

    [event] = emu.events_in(GUILD_ID)
    assert event["entity_metadata"]["location"] == f"{PUBLIC_URL}/r/abc234"
    assert len(emu.calls("POST", "scheduled-events")) == 1
    assert sum("CONVENE_PUBLIC_URL" in r.message for r in caplog.records) == 1
    assert "g" * 110 not in caplog.text


async def test_people_who_pressed_interested_are_read_back(
    emu: DiscordEmulator, events: DiscordEvents
) -> None:
    review = meeting()
    assert await events.interested(review) == []  # no event yet
    await events.planned(review)
    [event] = emu.events_in(GUILD_ID)
    emu.add_interested(event["id"], ANA, "ana")
    emu.add_interested(event["id"], RAJ, "raj")
    assert sorted(await events.interested(review)) == [str(ANA), str(RAJ)]


async def test_without_manage_events_an_admin_hears_once_and_nothing_more_is_tried(
    emu: DiscordEmulator, events: DiscordEvents, admins: Admins
) -> None:
    emu.manage_events = False
    await events.planned(meeting("abc234"))
    await events.planned(meeting("def567"))
    await events.started(meeting("def567"))
    assert len(emu.calls("POST", "scheduled-events")) == 1
    assert emu.events_in(GUILD_ID) == []
    [(guild, sentence)] = admins.told
    assert guild == str(GUILD_ID) and "Manage Events" in sentence

    emu.manage_events = True  # an admin grants it and turns events on again
    await events.allow_again(str(GUILD_ID))
    await events.planned(meeting("ghj892"))
    assert len(emu.events_in(GUILD_ID)) == 1 and len(admins.told) == 1


async def test_discord_failures_never_reach_the_lifecycle(
    emu: DiscordEmulator, events: DiscordEvents, caplog: pytest.LogCaptureFixture
) -> None:
    review = meeting()
    emu.fail(400, path_contains="scheduled-events", body={"message": "Nope", "code": 50035})
    await events.planned(review)  # refused: logged, not raised
    assert emu.events_in(GUILD_ID) == []
    await events.planned(review)  # the next try works
    [event] = emu.events_in(GUILD_ID)
    del emu.events[event["id"]]  # someone deleted it in Discord
    await events.started(review)
    await events.ended(review)
    assert any("HTTP 400" in r.getMessage() for r in caplog.records)


async def test_event_bodies_match_discords_openapi_description(
    emu: DiscordEmulator, events: DiscordEvents, clock: FakeClock
) -> None:
    require_spec()
    review = meeting()
    await events.planned(review)
    await events.changed(moved(review, timedelta(hours=1), title="Renamed"))
    clock.set(review.start + timedelta(hours=1))
    await events.started(review)
    await events.ended(review)
    await events.planned(meeting("def567"))
    await events.cancelled(meeting("def567"))
    assert len(event_writes(emu)) == 6
    assert validate_sent(emu) >= 6
