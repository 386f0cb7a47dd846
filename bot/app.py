"""Wiring: build every part from Settings, run them on one loop, shut down cleanly.

`convene run` starts every platform whose credentials are present; with none,
the console. Platform adapters are imported only when used.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from datetime import UTC
from typing import TextIO

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.config import Settings
from bot.core import Core
from bot.http import HttpServer, make_http_app
from bot.lifecycle import Lifecycle
from bot.models import WorkspaceSettings
from bot.ports import Clock, Platform, system_clock
from bot.providers import ProviderPool
from bot.providers.http import make_client
from bot.service import MeetingService
from bot.webhook_routes import add_webhook_routes
from storage.db import open_database
from storage.secrets import SecretBox

log = logging.getLogger(__name__)


class ConveneApp:
    def __init__(self, settings: Settings, clock: Clock = system_clock) -> None:
        self.settings = settings
        self.db = open_database(settings.db_path)
        self.client = make_client()
        self.core = Core(
            db=self.db,
            box=SecretBox(settings.secret_key),
            providers=ProviderPool(settings, self.client),
            clock=clock,
            defaults=WorkspaceSettings(provider=settings.provider),
        )
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.lifecycle = Lifecycle(self.core, self.scheduler)
        self.service = MeetingService(self.core, self.lifecycle)
        self.http = HttpServer(make_http_app(), settings.http_host, settings.http_port)
        add_webhook_routes(self.http.app, settings, self.service.on_provider_event)
        self.platforms: list[Platform] = []

    def add_platform(self, platform: Platform) -> None:
        self.platforms.append(platform)
        self.core.messengers[platform.name] = platform.messenger
        platform.add_routes(self.http.app)

    def add_configured_platforms(self, stdin: TextIO | None = None) -> None:
        """Slack and Discord when their credentials are set; otherwise the console."""
        for enabled, module in (
            (self.settings.slack_enabled, "adapters.slack.platform"),
            (self.settings.discord_enabled, "adapters.discord.platform"),
        ):
            if enabled:
                self.add_platform(
                    importlib.import_module(module).build(self.settings, self.service)
                )
        if not self.platforms:
            from adapters.console.platform import ConsolePlatform

            self.add_platform(ConsolePlatform(self.service, stdin=stdin))

    async def run(self) -> None:
        """Serve until a platform finishes (the console at end of input) or we are cancelled."""
        needs_http = any(p.name != "console" for p in self.platforms)
        try:
            await self.http.start()
        except OSError as exc:
            if needs_http:
                raise
            log.warning("HTTP server not started (%s); the console works without it", exc)
        self.service.start()
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
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await self.http.stop()
        await self.client.aclose()
        self.db.close()
