"""Helpers for the calendar-presence tests (no tests here): the whole of convene with
Discord enabled against the loopback Discord, a Slack emulator that reports its
token's scopes as Slack does, and readers for calendar files and cards.

`discord_app(...)` starts ConveneApp as `convene run` does (real aiohttp server on
port 0, the real discord.py client, a database under tmp_path) and yields a
DiscordRig whose clock is the app's own and the emulator's idea of "now".
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from icalendar import Calendar, Event

from adapters.discord.platform import DiscordPlatform
from bot.app import ConveneApp
from bot.config import Settings
from tests.e2e.discord_harness import validate_sent
from tests.e2e.slack_rig import SlowProvider
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.emulators.discord import GUILD_ID, DiscordEmulator, Sent
from tests.fakes import TEST_KEY, FakeClock, StaticProviders

PUBLIC_URL = "https://convene.example"
HOST_MARK = "secret-host-key"  # in every host link SlowProvider makes, and in no join link


def providers() -> StaticProviders:
    """Rooms whose join and host links differ visibly (the host link carries a key)."""
    return StaticProviders(jitsi=SlowProvider())


@dataclass
class DiscordRig:
    app: ConveneApp
    emu: DiscordEmulator
    clock: FakeClock
    session: aiohttp.ClientSession
    base: str

    async def sweep(self) -> None:
        """What the app's timers do when the clock reaches a meeting's start or end."""
        await self.app.lifecycle.sweep()


@asynccontextmanager
async def discord_app(
    tmp_path: Path, start: datetime, **overrides: Any
) -> AsyncIterator[DiscordRig]:
    discord = DiscordEmulator()
    async with serve(discord.app) as url, aiohttp.ClientSession() as session:
        discord.base_url = url
        clock = FakeClock(start)
        discord.clock = clock  # Discord refuses event starts in its past
        settings = Settings(
            **{
                "db_path": str(tmp_path / "convene.db"),
                "http_port": 0,
                "secret_key": TEST_KEY,
                "public_url": PUBLIC_URL,
                "discord_token": "test-token",
                "discord_api_url": discord.api_url,
                "discord_gateway_url": discord.gateway_url,
                "discord_guild_ids": (GUILD_ID,),
                **overrides,
            }
        )
        app = ConveneApp(settings, clock=clock, providers=providers())
        platform = DiscordPlatform(settings, app.service, guild_ready_timeout=0.05)
        app.add_platform(platform)  # as adapters.main.build_app does
        task = asyncio.create_task(app.run())
        try:
            for _ in range(1000):
                if task.done() or (app.http.port and platform.client.is_ready()):
                    break
                await asyncio.sleep(0.01)
            if task.done():
                task.result()
            assert platform.client.is_ready(), "the Discord client never became ready"
            yield DiscordRig(app, discord, clock, session, f"http://127.0.0.1:{app.http.port}")
        finally:
            await platform.stop()
            await asyncio.wait_for(task, 10)
        assert not discord.violations, discord.violations
        validate_sent(discord)  # every body with a schema, against Discord's OpenAPI


class ScopedSlack(emu.SlackEmulator):
    """The loopback Slack, answering `auth.test` with the `x-oauth-scopes` header Slack
    sends on every Web API answer to a bot token (what `convene check` reads)."""

    async def web_api(self, request: web.Request) -> web.Response:
        response = await super().web_api(request)
        if request.match_info["method"] == "auth.test":
            response.headers["x-oauth-scopes"] = ",".join(sorted(self.scopes))
        return response


# -- reading what a person would see ---------------------------------------------------


def discord_card_links(card: Sent) -> dict[str, str]:
    """The link buttons on a Discord card, by label."""
    return {
        button["label"]: button["url"]
        for row in card.body.get("components", [])
        for button in row.get("components", [])
        if button.get("url")
    }


def slack_card_links(blocks: Any) -> dict[str, str]:
    """The link buttons on a Slack card, by their text."""
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return {
        element["text"]["text"]: element["url"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("url")
    }


def meeting_id_of(card: Sent) -> str:
    return str(card.body["embeds"][0]["footer"]["text"].split()[-1])


def parsed(body: bytes) -> list[Event]:
    """The events of an .ics file, as a calendar app reads them."""
    return [c for c in Calendar.from_ical(body).walk("VEVENT") if isinstance(c, Event)]


def forged(url: str) -> str:
    """The same link with one character of its token changed."""
    head, _, tail = url.rpartition("/")
    token = tail.removesuffix(".ics")
    middle = len(token) // 2
    swapped = "A" if token[middle] != "A" else "B"
    return f"{head}/{token[:middle]}{swapped}{token[middle + 1 :]}.ics"


async def fetch(session: aiohttp.ClientSession, base: str, url: str) -> tuple[int, bytes]:
    """GET a link convene handed out, over the app's real HTTP port (the public URL
    stands in front of it in production)."""
    path = url.replace("webcal://", "https://").removeprefix(PUBLIC_URL)
    async with session.get(base + path) as response:
        return response.status, await response.read()
