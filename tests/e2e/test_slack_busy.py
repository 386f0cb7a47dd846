"""A database held by another process: Slack still gets its acknowledgement, the user
a clear "busy" answer, and no room is made. Then, with the lock gone, all is normal."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from bot.ports import Room, RoomSpec
from tests.e2e.slack_rig import SlowProvider, running
from tests.fakes import StaticProviders


class CountingProvider(SlowProvider):
    """Remembers every room it made and every room it was asked to cancel."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[str] = []
        self.cancelled: list[str] = []

    async def create_room(self, spec: RoomSpec) -> Room:
        room = await super().create_room(spec)
        self.made.append(room.room_id)
        return room

    async def cancel_room(self, room_id: str) -> None:
        self.cancelled.append(room_id)


async def test_a_locked_database_answers_busy_and_makes_nothing(tmp_path: Path) -> None:
    provider = CountingProvider()
    async with running(tmp_path, providers=StaticProviders(jitsi=provider)) as rig:
        other = sqlite3.connect(tmp_path / "convene.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            results = await asyncio.gather(
                *(rig.command(f"/meet Standup {n} in 1h") for n in range(4))
            )
            answers = await rig.slack.wait_for_responses(4)
        finally:
            other.execute("ROLLBACK")
        assert [status for status, _ in results] == [200] * 4
        assert all("busy" in answer["text"] for answer in answers), answers
        assert rig.slack.calls_to("chat.postMessage") == []
        assert sorted(provider.made) == sorted(provider.cancelled)  # none left open

        status, _ = await rig.command("/meet Standup in 1h")
        assert status == 200
        await rig.slack.wait_for("chat.postMessage")
