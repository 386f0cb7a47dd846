"""Helpers for the native-surface tests (no tests here): convene's own state seam kept
in memory, meetings made from the suite's moments, and a bare discord.py client logged
in to the loopback Discord (the surfaces need a client, not the whole app)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta

import discord

from adapters.discord.platform import point_at
from bot.models import Meeting, MeetingStatus
from tests.emulators.discord import CHANNEL_ID, GUILD_ID, DiscordEmulator
from tests.moments import next_monday_at

NOW = next_monday_at(9)
HOST_SECRET = "host-secret-key"


class MemoryState:
    """convene's surface state (a key/value seam of its own), in a dict."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    async def get(self, key: str) -> str | None:
        return self.values.get(key)

    async def put(self, key: str, value: str) -> None:
        self.values[key] = value


def meeting(
    meeting_id: str = "abc234",
    *,
    platform: str = "discord",
    workspace: str = str(GUILD_ID),
    channel: str = str(CHANNEL_ID),
    organizer: str = "1500000000000000002",
    title: str = "Design review",
    starts_in: timedelta = timedelta(hours=2),
    length: timedelta = timedelta(minutes=45),
    join_url: str | None = None,
    instant: bool = False,
    message_ref: str | None = None,
) -> Meeting:
    start = NOW + starts_in
    return Meeting(
        id=meeting_id,
        platform=platform,
        workspace_id=workspace,
        channel_id=channel,
        organizer_id=organizer,
        title=title,
        start=start,
        end=start + length,
        provider="jitsi",
        room_id=f"room-{meeting_id}",
        join_url=join_url or f"https://meet.example/convene-{meeting_id}",
        status=MeetingStatus.ACTIVE if instant else MeetingStatus.SCHEDULED,
        remind=timedelta(minutes=10),
        instant=instant,
        host_url=f"https://meet.example/convene-{meeting_id}?jwt={HOST_SECRET}",
        message_ref=message_ref,
    )


def moved(original: Meeting, by: timedelta, **changes: object) -> Meeting:
    return replace(original, start=original.start + by, end=original.end + by, **changes)  # type: ignore[arg-type]


@asynccontextmanager
async def discord_client(emu: DiscordEmulator) -> AsyncIterator[discord.Client]:
    """A plain discord.py Client, logged in and READY against `emu` (guilds intent only)."""
    point_at(emu.api_url, emu.gateway_url)
    intents = discord.Intents.none()
    intents.guilds = True
    client = discord.Client(
        intents=intents, allowed_mentions=discord.AllowedMentions.none(), guild_ready_timeout=0.05
    )
    task = asyncio.create_task(client.start("test-token"))
    try:
        for _ in range(1000):
            if client.is_ready() or task.done():
                break
            await asyncio.sleep(0.01)
        if task.done():
            task.result()
        assert client.is_ready(), "the client never became ready"
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, 10)
