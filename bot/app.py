"""The core assembled: database, clock, providers, service, timers and HTTP server.

`ConveneApp` knows no platform: the composition root (`adapters/main.py`)
builds the platforms and hands them in with `add_platform`. Everything the
app talks to from outside can be injected (the clock, the HTTP client, the
provider source), so tests build it the way production does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import UTC

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.calendar_routes import add_calendar_routes
from bot.config import Settings
from bot.core import Core
from bot.http import HttpServer, make_http_app
from bot.lifecycle import Lifecycle
from bot.models import WorkspaceSettings
from bot.ops_routes import Readiness, add_ops_routes
from bot.ports import Clock, Platform, ProviderSource, system_clock
from bot.providers import ProviderPool
from bot.providers.http import make_client
from bot.redirect_route import add_redirect_route
from bot.service import MeetingService
from bot.webhook_routes import add_webhook_routes
from storage.engine import open_store
from storage.secrets import SecretBox

log = logging.getLogger(__name__)

DRAIN_SECONDS = 7.0  # SIGTERM to exit stays within 10 s (systemd, Kubernetes defaults)
# /readyz answers 503 at least this long before the port closes, so a load balancer
# polling it (deploy/Caddyfile: every 2 s) stops sending here first.
DRAIN_GRACE = 2.0


class ConveneApp:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = system_clock,
        client: httpx.AsyncClient | None = None,
        providers: ProviderSource | None = None,
    ) -> None:
        """`client` is the providers' shared HTTP pool (closed with the app);
        `providers` replaces the pool built from settings (tests, other sources)."""
        self.settings = settings
        self.store = open_store(settings.db_path)
        self.client = client or make_client()
        self.core = Core(
            store=self.store,
            box=SecretBox(settings.secret_key),
            providers=providers or ProviderPool(settings, self.client, clock),
            clock=clock,
            defaults=WorkspaceSettings(provider=settings.provider),
            public_url=settings.public_url,
            secret_key=settings.secret_key,
        )
        self.lifecycle = Lifecycle(self.core, AsyncIOScheduler(timezone=UTC))
        self.service = MeetingService(self.core, self.lifecycle)
        self.http = HttpServer(make_http_app(), settings.http_host, settings.http_port)
        add_webhook_routes(self.http.app, settings, self.service.on_provider_event, clock)
        self.readiness = Readiness(
            {"database": self._database_answers, "migrations": self._migrations_current}
        )
        add_ops_routes(self.http.app, self.readiness)
        add_redirect_route(self.http.app, self._join_link)
        if settings.secret_key:  # calendar links are signed with it; without, none are offered
            calendars = self.service.calendars
            add_calendar_routes(
                self.http.app,
                secret=settings.secret_key,
                clock=clock,
                meeting_file=calendars.meeting_file,
                feed_file=calendars.feed_file,
            )
        self.platforms: list[Platform] = []

    def add_platform(self, platform: Platform) -> None:
        self.platforms.append(platform)
        self.core.messengers[platform.name] = platform.messenger
        if platform.surface is not None:
            self.core.surfaces[platform.name] = platform.surface
        self.readiness.add(platform.name, platform.connected)
        platform.add_routes(self.http.app)

    async def _join_link(self, meeting_id: str) -> str | None:
        """Where /r/<id> sends people: an open meeting's join link, never a host link."""
        meeting = await self.core.get_meeting(meeting_id)
        return meeting.join_url if meeting is not None and meeting.status.is_open else None

    async def _database_answers(self) -> bool:
        return bool(await self.store.value("SELECT 1") == 1)

    async def _migrations_current(self) -> bool:
        return not await self.store.pending_migrations()

    async def run(self) -> None:
        """Serve until a platform finishes (the console at end of input), SIGTERM or
        SIGINT arrives (then drain: see `drain`), or we are cancelled."""
        needs_http = any(p.name != "console" for p in self.platforms)
        await self.store.open()
        try:
            await self.http.start()
        except OSError as exc:
            if needs_http:
                raise
            log.warning("HTTP server not started (%s); the console works without it", exc)
        await self.service.start()
        if isinstance(self.core.providers, ProviderPool):  # register API-managed webhooks
            await self.core.providers.open(self.settings.public_url)
        tasks = [asyncio.create_task(p.run(), name=p.name) for p in self.platforms]
        stop = asyncio.Event()
        _on_signals(stop.set)
        stopping = asyncio.create_task(stop.wait(), name="signals")
        try:
            done, _ = await asyncio.wait([*tasks, stopping], return_when=asyncio.FIRST_COMPLETED)
            if stopping in done:
                await self.drain()
            for task in done - {stopping}:
                task.result()  # surface a platform's crash instead of hiding it
        finally:
            stopping.cancel()
            await self.close(tasks)

    async def drain(self) -> None:
        """Stop taking new work and finish what is running, within DRAIN_SECONDS:
        readiness turns false (the load balancer stops sending), no timer or sweep
        starts a delivery, commands and sends in flight complete, and any claim
        still held is given back so another replica takes it at once."""
        log.info("shutting down: finishing work in flight")
        began = asyncio.get_running_loop().time()
        self.readiness.drain()
        self.lifecycle.timers.pause()  # running sends finish; shutdown would cancel them
        if not await self.core.inflight.drained(DRAIN_SECONDS):
            log.warning("shutting down with work still running; its claims are released")
        await self.core.claims.settled(0.5)  # timers queued for a send slot leave quietly
        await asyncio.sleep(max(0.0, DRAIN_GRACE - (asyncio.get_running_loop().time() - began)))
        released = await self.core.claims.release_all()
        if released:
            log.info("released %d unfinished claims", released)

    async def close(self, tasks: list[asyncio.Task[None]] | None = None) -> None:
        await self.core.card_edits.aclose()  # pending card redraws, while platforms still talk
        for platform in self.platforms:
            await platform.stop()
        for task in tasks or []:
            task.cancel()
        self.lifecycle.timers.shutdown()
        if isinstance(self.core.providers, ProviderPool):
            await self.core.providers.close()
        await self.http.stop()
        await self.client.aclose()
        await self.store.close()


def _on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM (and Ctrl-C) ask for a graceful stop; where signals cannot be
    installed (not the main thread, Windows) the default behaviour stays."""
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(number, stop)
