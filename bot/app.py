"""The core assembled: database, clock, providers, service, timers and HTTP server.

`ConveneApp` knows no platform: the composition root (`adapters/main.py`)
builds the platforms and hands them in with `add_platform`. Everything the
app talks to from outside can be injected (the clock, the HTTP client, the
provider source), so tests build it the way production does.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.core import Core
from bot.http import HttpServer, make_http_app
from bot.lifecycle import Lifecycle
from bot.models import WorkspaceSettings
from bot.ports import Clock, Platform, ProviderSource, system_clock
from bot.providers import ProviderPool
from bot.providers.http import make_client
from bot.service import MeetingService
from bot.webhook_routes import add_webhook_routes
from storage.db import open_database
from storage.secrets import SecretBox

log = logging.getLogger(__name__)


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
        self.db = open_database(settings.db_path)
        self.client = client or make_client()
        self.core = Core(
            db=self.db,
            box=SecretBox(settings.secret_key),
            providers=providers or ProviderPool(settings, self.client, clock),
            clock=clock,
            defaults=WorkspaceSettings(provider=settings.provider),
        )
        self.lifecycle = Lifecycle(self.core, AsyncIOScheduler(timezone=UTC))
        self.service = MeetingService(self.core, self.lifecycle)
        self.http = HttpServer(make_http_app(), settings.http_host, settings.http_port)
        add_webhook_routes(self.http.app, settings, self.service.on_provider_event, clock)
        self.platforms: list[Platform] = []

    def add_platform(self, platform: Platform) -> None:
        self.platforms.append(platform)
        self.core.messengers[platform.name] = platform.messenger
        platform.add_routes(self.http.app)

    async def run(self) -> None:
        """Serve until a platform finishes (the console at end of input) or we are cancelled."""
        needs_http = any(p.name != "console" for p in self.platforms)
        try:
            await self.http.start()
        except OSError as exc:
            if needs_http:
                raise
            log.warning("HTTP server not started (%s); the console works without it", exc)
        await self.service.start()
        tasks = [asyncio.create_task(p.run(), name=p.name) for p in self.platforms]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # surface a platform's crash instead of hiding it
        finally:
            await self.close(tasks)

    async def close(self, tasks: list[asyncio.Task[None]] | None = None) -> None:
        for platform in self.platforms:
            await platform.stop()
        for task in tasks or []:
            task.cancel()
        self.lifecycle.timers.shutdown()
        await self.http.stop()
        await self.client.aclose()
        self.db.close()
