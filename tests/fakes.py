"""Test doubles for convene's own ports (never for Slack, Discord or a provider's API).

`FakePlatform` is a platform that records what the service sends, like errbot's
TestBot: `await platform.run("/meet Standup in 5m")` returns the private reply,
and `platform.cards`, `platform.notices`, `platform.privates` hold the rest.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.core import Core
from bot.lifecycle import Lifecycle
from bot.messages import Card, Notice, Private, Reply
from bot.models import Caller, Place, WorkspaceSettings
from bot.ports import (
    Capabilities,
    DeliveryError,
    Person,
    Provider,
    ProviderSource,
    Room,
    RoomSpec,
)
from bot.providers import ProviderPool
from bot.service import MeetingService
from storage import meetings as meeting_rows
from storage.engine import SqliteStore, open_store
from storage.secrets import SecretBox
from tests.moments import next_monday_at

TEST_KEY = "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="


class Sleeps(list[float]):
    """Stands in for asyncio.sleep: records the delays instead of waiting."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@dataclass
class FakePlatform:
    service: MeetingService | None = None
    name: str = "fake"
    cards: list[tuple[str, Card]] = field(default_factory=list)
    updates: list[tuple[str, str, Card]] = field(default_factory=list)
    notices: list[tuple[str, Notice, str | None]] = field(default_factory=list)
    privates: list[tuple[str, Private]] = field(default_factory=list)
    directs: list[tuple[str, Private]] = field(default_factory=list)  # direct messages
    fail_next: list[DeliveryError] = field(default_factory=list)

    @property
    def messenger(self) -> FakePlatform:
        return self

    def caller(self, user: str = "ana", *, admin: bool = False, channel: str = "team") -> Caller:
        return Caller(self.name, "w1", channel, user, user_name=user.title(), is_admin=admin)

    async def run(
        self, text: str, user: str = "ana", *, admin: bool = False, channel: str = "team"
    ) -> Reply:
        assert self.service is not None
        return await self.service.run_text(self.caller(user, admin=admin, channel=channel), text)

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    async def post_card(self, place: Place, card: Card) -> str | None:
        self._maybe_fail()
        self.cards.append((place.channel_id, card))
        return f"msg-{len(self.cards)}"

    async def update_card(self, place: Place, message_ref: str, card: Card) -> None:
        self._maybe_fail()
        self.updates.append((place.channel_id, message_ref, card))

    async def post_notice(self, place: Place, notice: Notice, thread_ref: str | None) -> None:
        self._maybe_fail()
        self.notices.append((place.channel_id, notice, thread_ref))

    async def send_private(self, place: Place, user_id: str, note: Private) -> None:
        self._maybe_fail()
        self.privates.append((user_id, note))

    async def send_direct(self, place: Place, user_id: str, note: Private) -> None:
        self._maybe_fail()
        self.directs.append((user_id, note))

    @staticmethod
    def is_user_id(user_id: str) -> bool:
        """The fake platform's users are lower-case handles ("ana", "raj"); a display
        name a provider reports ("Lee (guest)", "Raj Kumar") is not one."""
        return re.fullmatch(r"[a-z0-9_]{1,40}", user_id) is not None

    def public_text(self) -> str:
        """Everything anyone in a channel could read, for leak checks."""
        parts = [repr(card) for _, card in self.cards]
        parts += [repr(card) for _, _, card in self.updates]
        parts += [repr(notice) for _, notice, _ in self.notices]
        return "\n".join(parts)


class StubProvider:
    """A Provider that gives every meeting its own room and succeeds quietly.
    Subclasses make failures happen where a test needs them."""

    name = "jitsi"
    label = "Jitsi"
    capabilities = Capabilities()

    async def create_room(self, spec: RoomSpec) -> Room:
        return Room(room_id=spec.meeting_id, join_url=f"https://video.example/{spec.meeting_id}")

    async def end_room(self, room_id: str) -> None:
        return None

    async def cancel_room(self, room_id: str) -> None:
        return None

    async def check(self) -> None:
        return None

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        return None  # everyone shares the join link


class StaticProviders:
    """A ProviderSource over given provider objects, for failure cases."""

    def __init__(self, **providers: Provider) -> None:
        self._providers = providers

    def get(self, name: str) -> Provider:
        return self._providers[name]

    def missing(self, name: str) -> list[str]:
        return [] if name in self._providers else [f"{name.upper()}_API_KEY"]


async def host_link_of(core: Core, meeting_id: str) -> str:
    """The stored host link of a meeting, opened (meetings read back carry none)."""
    host = await meeting_rows.host_link(core.store, meeting_id, core.box)
    assert host, f"meeting {meeting_id} has no stored host link"
    return host


def sqlite_of(core: Core) -> sqlite3.Connection:
    """The SQLite connection under a harness's store, for tests of SQLite's own limits."""
    assert isinstance(core.store, SqliteStore)
    return core.store.conn


@dataclass
class Harness:
    service: MeetingService
    lifecycle: Lifecycle
    platform: FakePlatform
    clock: FakeClock
    core: Core


def make_harness(
    db_path: str | None = None,
    *,
    clock: FakeClock | None = None,
    settings: Settings | None = None,
    providers: ProviderSource | None = None,
    client: httpx.AsyncClient | None = None,
    secret_key: str | None = TEST_KEY,
    scheduler: AsyncIOScheduler | None = None,
    provider: str = "jitsi",
) -> Harness:
    """A service on a real database (in memory unless `db_path`) with a fake clock."""
    clock = clock or FakeClock(next_monday_at(9))
    settings = settings or Settings()
    core = Core(
        store=open_store(db_path),
        box=SecretBox(secret_key),
        providers=providers or ProviderPool(settings, client or httpx.AsyncClient(), clock),
        clock=clock,
        defaults=WorkspaceSettings(provider=provider),
    )
    lifecycle = Lifecycle(core, scheduler)
    service = MeetingService(core, lifecycle)
    platform = FakePlatform(service)
    core.messengers[platform.name] = platform
    return Harness(service, lifecycle, platform, clock, core)


@asynccontextmanager
async def harness(db_path: str | None = None, **kwargs: object) -> AsyncIterator[Harness]:
    async with httpx.AsyncClient() as client:
        h = make_harness(db_path, client=client, **kwargs)  # type: ignore[arg-type]
        try:
            yield h
        finally:
            await h.core.store.close()
