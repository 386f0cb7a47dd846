"""The console platform: a working bot with no accounts at all.

Each line on standard input is a `/meet` command from the local user in a local
channel; replies, channel posts and scheduler notices are printed as they
happen. It reads standard input, so it can be scripted, and it finishes at the
end of input.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from aiohttp import web

from adapters.console import render
from bot.messages import Card, Notice, Private
from bot.models import Caller, Place
from bot.service import MeetingService
from bot.timefmt import zone_or_none

WORKSPACE = "local"
CHANNEL = "general"
USER = "you"
HANDLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def local_zone_name() -> str | None:
    """The machine's zone (TZ or /etc/localtime), used as the console user's default."""
    if zone_or_none(os.environ.get("TZ")):
        return os.environ["TZ"]
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        return None
    marker = "zoneinfo/"
    if marker not in target:
        return None
    name = target.split(marker, 1)[1]
    return "UTC" if name in ("Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal") else name


class ConsoleMessenger:
    """Prints what a channel or a person would see; times in the local user's zone
    (a terminal has no client to localize them), asked afresh as /meet tz may change it."""

    def __init__(self, out: TextIO, zone: Callable[[], Awaitable[ZoneInfo]]) -> None:
        self._out = out
        self._zone = zone

    def write(self, label: str, lines: list[str]) -> None:
        for line in lines:
            print(f"{label} {line}", file=self._out, flush=True)

    async def post_card(self, place: Place, card: Card) -> str | None:
        self.write(
            render.channel_label(place.channel_id), render.card_lines(card, await self._zone())
        )
        return card.meeting_id

    async def update_card(self, place: Place, message_ref: str, card: Card) -> None:
        lines = render.card_lines(card, await self._zone(), updated=True)
        self.write(render.channel_label(place.channel_id), lines)

    async def post_notice(self, place: Place, notice: Notice, thread_ref: str | None) -> None:
        self.write(render.channel_label(place.channel_id), [render.notice_line(notice)])

    async def send_private(self, place: Place, user_id: str, note: Private) -> None:
        self.write(render.private_label(user_id), [render.private_line(note)])

    async def send_direct(self, place: Place, user_id: str, note: Private) -> None:
        """A terminal has no direct messages: a private reminder prints as a private note."""
        await self.send_private(place, user_id, note)

    @staticmethod
    def is_user_id(user_id: str) -> bool:
        """A console person is a handle typed as @name: one word, never a phrase."""
        return HANDLE.fullmatch(user_id) is not None


class ConsolePlatform:
    name = "console"

    def __init__(
        self, service: MeetingService, stdin: TextIO | None = None, out: TextIO | None = None
    ) -> None:
        self.service = service
        self._in = stdin or sys.stdin
        self._out = out or sys.stdout
        self.caller = Caller(
            platform=self.name,
            workspace_id=WORKSPACE,
            channel_id=CHANNEL,
            user_id=USER,
            user_name=os.environ.get("USER", USER),
            is_admin=True,
            tz_hint=local_zone_name(),
        )
        self.messenger = ConsoleMessenger(self._out, lambda: service.zone_for(self.caller))
        self._stopped = asyncio.Event()

    def add_routes(self, app: web.Application) -> None:
        """The console needs no HTTP routes."""

    async def run(self) -> None:
        if self._in.isatty():
            print("convene console: type /meet help (Ctrl-D to quit).", file=sys.stderr, flush=True)
        loop = asyncio.get_running_loop()
        while not self._stopped.is_set():
            line = await loop.run_in_executor(None, self._in.readline)
            if not line:
                return
            await self.handle_line(line.strip())

    async def handle_line(self, line: str) -> None:
        if not line:
            return
        label = render.private_label(USER)
        if line.startswith("/") and not line.lower().startswith("/meet"):
            self.messenger.write(label, ["Sorry: only /meet commands work here; try /meet help"])
            return
        reply = await self.service.run_text(self.caller, line)
        self.messenger.write(label, render.reply_lines(reply))

    async def connected(self) -> bool:
        return True

    @property
    def surface(self) -> None:
        """A terminal has no native meeting view."""
        return None

    async def stop(self) -> None:
        self._stopped.set()
