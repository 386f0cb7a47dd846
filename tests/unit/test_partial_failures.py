"""A step that fails after the room exists leaves no orphan room and tells the truth.

The database is made to fail for real: another connection holds SQLite's write
lock, or the database file is capped so the disk is "full". The provider is the
loopback Whereby emulator, whose open rooms are what a leak would leave behind.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from bot.models import MeetingStatus
from bot.providers.webhooks import ProviderEvent
from storage import meetings as meeting_rows
from tests.emulators.base import serve
from tests.emulators.whereby import WherebyEmulator
from tests.fakes import FakeClock, Harness, harness, sqlite_of
from tests.moments import next_monday_at

KEY = "whereby-test-key"


@asynccontextmanager
async def on_whereby(db_path: str | None) -> AsyncIterator[tuple[Harness, WherebyEmulator]]:
    emulator = WherebyEmulator(api_key=KEY)
    async with serve(emulator.app) as url:
        settings = Settings(whereby_api_key=KEY, whereby_api_url=f"{url}/v1")
        async with harness(
            db_path, settings=settings, provider="whereby", clock=FakeClock(next_monday_at(9))
        ) as h:
            yield h, emulator


@pytest.fixture
async def whereby(tmp_path: Path) -> AsyncIterator[tuple[Harness, WherebyEmulator]]:
    async with on_whereby(str(tmp_path / "convene.db")) as made:
        yield made


def open_rooms(emulator: WherebyEmulator) -> int:
    return len(emulator.meetings)


async def test_a_locked_database_closes_the_new_room_and_says_busy(
    whereby: tuple[Harness, WherebyEmulator], tmp_path: Path
) -> None:
    h, emulator = whereby
    other = sqlite3.connect(tmp_path / "convene.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        reply = await h.platform.run("/meet Design review in 1h")
    finally:
        other.execute("ROLLBACK")
    assert not reply.ok and "busy" in reply.text and "nothing was saved" in reply.text
    assert h.platform.cards == [] and open_rooms(emulator) == 0
    again = await h.platform.run("/meet Design review in 1h")
    assert again.ok and open_rooms(emulator) == 1


async def test_a_full_disk_closes_the_new_room_and_says_full() -> None:
    """Meetings are made until the database has no page left: the first that cannot
    be saved, and every one after it, leaves no room behind."""
    async with on_whereby(None) as (h, emulator):  # in memory: no WAL to absorb writes
        pages = sqlite_of(h.core).execute("PRAGMA page_count").fetchone()[0]
        sqlite_of(h.core).execute(f"PRAGMA max_page_count = {pages + 2}")
        replies = [await h.platform.run(f"/meet Standup {n} in 1h") for n in range(120)]
        refused = [r.text for r in replies if not r.ok]
        assert refused and all("database is full" in text for text in refused), refused[:3]
        assert open_rooms(emulator) == len(h.platform.cards) == len(replies) - len(refused)


async def test_a_failed_card_keeps_the_meeting_and_gives_the_link_privately(
    whereby: tuple[Harness, WherebyEmulator],
) -> None:
    from bot.ports import DeliveryError

    h, emulator = whereby
    h.platform.fail_next.append(DeliveryError("the bot is not in this channel"))
    reply = await h.platform.run("/meet Retro in 1h")
    assert reply.ok and "could not be posted" in reply.text
    assert [note.link_label for note in reply.private] == ["Join", "Host link"]
    assert reply.private[0].link and reply.private[0].link.startswith("https://")
    assert open_rooms(emulator) == 1  # kept: the meeting exists and will close on time


async def test_an_early_session_end_does_not_end_the_meeting(h: Harness) -> None:
    """Someone tries the link three hours early and leaves: the meeting stays booked."""
    reply = await h.platform.run("/meet Planning in 3h")
    assert reply.ok, reply.text
    meeting = await meeting_rows.get_meeting(h.core.store, h.platform.cards[-1][1].meeting_id)
    assert meeting is not None
    await h.service.on_provider_event(ProviderEvent("jitsi", "ended", meeting.room_id, None, "e1"))
    kept = await h.core.get_meeting(meeting.id)
    assert kept is not None and kept.status is MeetingStatus.SCHEDULED
    h.clock.set(meeting.start + timedelta(minutes=10))
    await h.service.on_provider_event(ProviderEvent("jitsi", "ended", meeting.room_id, None, "e2"))
    ended = await h.core.get_meeting(meeting.id)
    assert ended is not None and ended.status is MeetingStatus.ENDED


async def test_a_busy_database_delays_a_reminder_but_never_loses_it(
    h: Harness, tmp_path: Path
) -> None:
    path = tmp_path / "busy.db"
    async with harness(str(path), clock=FakeClock(next_monday_at(9))) as busy:
        assert (await busy.platform.run("/meet Sync in 20m remind 10m")).ok
        busy.clock.advance(minutes=10)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            await busy.lifecycle.sweep()  # cannot claim: nothing sent, nothing lost
        finally:
            other.execute("ROLLBACK")
        assert [n.kind.value for _, n, _ in busy.platform.notices] == []
        await busy.lifecycle.sweep()
        assert [n.kind.value for _, n, _ in busy.platform.notices] == ["reminder"]
