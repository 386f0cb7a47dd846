"""The Discord platform: discord.py's Client on convene's loop, the `/meet` tree,
persistent buttons and command sync.

Endpoints. discord.py builds every REST URL (including interaction callbacks
and followup webhooks) from the class attribute `discord.http.Route.BASE`, and
the plain (unsharded) Client connects to the class attribute
`DiscordWebSocket.DEFAULT_GATEWAY` without asking `GET /gateway/bot` (only
AutoShardedClient asks). Neither has a per-client option, so `run()` sets both
from DISCORD_API_URL and DISCORD_GATEWAY_URL before connecting. They are
process-wide; convene runs one Discord client per process, so nothing is
restored. After READY, resumes go to the `resume_gateway_url` the gateway sent.

Command sync. With DISCORD_GUILD_IDS the commands are copied to those guilds
and synced there at every start (guild syncs show up instantly). Otherwise the
global commands are uploaded only when the tree's hash differs from the one
stored after the last upload: global writes are slow to spread and rate-limited.
"""

from __future__ import annotations

import hashlib
import json
import logging
from functools import partial
from typing import Any

import discord
import yarl
from aiohttp import web
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.commands import MeetGroup, on_tree_error
from adapters.discord.context import PLATFORM, Interaction
from adapters.discord.events import DiscordEvents
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.views import PERSISTENT_ITEMS, answer_modal_submit
from bot.config import Settings
from bot.service import MeetingService

log = logging.getLogger(__name__)
HASH_KEY = "global_commands_hash"


def point_at(api_url: str, gateway_url: str) -> None:
    """Aim discord.py at DISCORD_API_URL / DISCORD_GATEWAY_URL (process-wide)."""
    Route.BASE = api_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def tree_hash(tree: app_commands.CommandTree[discord.Client]) -> str:
    """A stable digest of the global command payload discord.py would upload."""
    payload = [command.to_dict(tree) for command in tree.get_commands()]
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class ConveneClient(discord.Client):
    """A Client that carries the service (views and commands reach it from the interaction)."""

    def __init__(self, service: MeetingService, guild_ids: tuple[int, ...], **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            intents=intents, allowed_mentions=discord.AllowedMentions.none(), **options
        )
        self.service = service
        self.guild_ids = guild_ids
        self.tree: app_commands.CommandTree[ConveneClient] = app_commands.CommandTree(self)
        self.tree.add_command(MeetGroup())
        self.tree.error(on_tree_error)
        self.synced = False

    async def setup_hook(self) -> None:
        """Runs after login, before the gateway: register buttons, sync commands."""
        self.add_dynamic_items(*PERSISTENT_ITEMS)
        try:
            await self.sync_commands()
        except discord.HTTPException as exc:  # the bot still answers known commands
            log.error("could not sync /meet commands (HTTP %s, code %s)", exc.status, exc.code)

    async def sync_commands(self) -> None:
        if self.guild_ids:
            for guild_id in self.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            log.info("synced /meet to %d guild(s)", len(self.guild_ids))
        else:
            digest = tree_hash(self.tree)
            if await self.service.platform_state(PLATFORM, HASH_KEY) == digest:
                log.info("global /meet commands unchanged; not syncing")
            else:
                await self.tree.sync()
                await self.service.set_platform_state(PLATFORM, HASH_KEY, digest)
                log.info("synced /meet globally")
        self.synced = True

    async def on_interaction(self, interaction: Interaction) -> None:
        """Modal submits: answered here so forms opened before a restart still work."""
        try:
            await answer_modal_submit(interaction)
        except discord.HTTPException as exc:
            log.warning("could not answer a form (HTTP %s)", exc.status)


class ShardedConveneClient(ConveneClient, discord.AutoShardedClient):
    """The same client over several gateway shards, for replicas that split a big
    bot's guilds: DISCORD_SHARD_COUNT shards in all, this process running
    DISCORD_SHARD_IDS of them (all when unset). Discord sends each guild's events
    to one shard only, so every interaction reaches exactly one replica."""


def make_client(settings: Settings, service: MeetingService, **options: Any) -> ConveneClient:
    if settings.discord_shard_count is None:
        return ConveneClient(service, settings.discord_guild_ids, **options)
    ids = list(settings.discord_shard_ids) if settings.discord_shard_ids else None
    return ShardedConveneClient(
        service,
        settings.discord_guild_ids,
        shard_count=settings.discord_shard_count,
        shard_ids=ids,
        **options,
    )


class DiscordPlatform:
    """Platform protocol: `run()` serves until `stop()`; no HTTP routes needed."""

    name = PLATFORM

    def __init__(self, settings: Settings, service: MeetingService, **client_options: Any) -> None:
        if not settings.discord_token:
            raise ValueError("DISCORD_TOKEN is not set")
        self._settings = settings
        self.service = service
        self.client = make_client(settings, service, **client_options)
        self._messenger = DiscordMessenger(self.client)
        self.events = DiscordEvents(
            self.client,
            service.surface_state(PLATFORM),
            public_url=settings.public_url,
            notify_admin=self._tell_owner,
            clock=service.now,
            enabled=partial(service.switched_on, PLATFORM, switch="events"),
        )

    @property
    def surface(self) -> DiscordEvents:
        return self.events

    async def _tell_owner(self, guild_id: str, text: str) -> None:
        """What convene lacks in a server goes to its owner, privately, once."""
        guild = self.client.get_guild(int(guild_id))
        if guild is None or guild.owner_id is None:
            return
        try:
            channel = await self.client.create_dm(discord.Object(guild.owner_id))
            await channel.send(text)
        except discord.HTTPException as exc:
            log.warning("could not tell the owner of a server (HTTP %s)", exc.status)

    @property
    def messenger(self) -> DiscordMessenger:
        return self._messenger

    def add_routes(self, app: web.Application) -> None:
        """Discord speaks to convene over the gateway; no HTTP routes."""

    async def run(self) -> None:
        point_at(self._settings.discord_api_url, self._settings.discord_gateway_url)
        token = self._settings.discord_token
        assert token is not None
        await self.client.start(token)

    async def connected(self) -> bool:
        return self.client.is_ready() and not self.client.is_closed()

    async def stop(self) -> None:
        if not self.client.is_closed():
            await self.client.close()


def build(settings: Settings, service: MeetingService) -> DiscordPlatform:
    return DiscordPlatform(settings, service)
