"""A loopback Discord: REST under `/api/v10` and a gateway websocket at `/gateway`.

The real discord.py Client logs in, identifies, syncs commands, receives
INTERACTION_CREATE events and answers them exactly as against Discord; only the
base URLs differ. Every REST request is recorded by the base; `messages` keeps
the message-shaped bodies with where they went, so tests can tell public from
ephemeral output. Faults come from the base (`fail(403, path_contains=...)`);
`rate_limit(...)` builds a 429 the way Discord sends it.

Guild scheduled events are kept in `events` and checked as Discord checks them:
an EXTERNAL event needs a location (at most 100 characters) and an end time, a
start in the future by the emulator's `clock` (a test hands it its own), status
moves only SCHEDULED→ACTIVE→COMPLETED or SCHEDULED→CANCELED, and at most 100
are scheduled or active per guild. `manage_events = False` answers every write
with Discord's 403 "Missing Permissions" (code 50013); `add_interested` is a
member pressing "Interested".

Sharding, as Discord shards. `GET /gateway/bot` answers this gateway's URL and
`shard_count` (the recommended number of shards). Each gateway connection keeps
its IDENTIFY's token and `shard: [id, count]` (`connections`, `identified_as`);
READY and GUILD_CREATE carry only the guilds that shard owns, and an event for a
guild goes only to the live connection whose shard owns it, by Discord's rule
`shard_id = (guild_id >> 22) % shard_count` (direct messages: shard 0). A
connection that sent no shard owns every guild, so an unsharded client sees
what it always saw. `add_guild` adds a guild with one text channel; `tokens` is
the set of bot tokens accepted, so a test can tell which process made a call.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from tests.emulators.base import Emulator

API = "/api/v10"
APP_ID = 1100000000000000001
BOT_ID = APP_ID
GUILD_ID = 1200000000000000001
CHANNEL_ID = 1300000000000000001
TOKEN = "test-token"
INVALID_SHARD = 4010  # Discord's gateway close code for a shard id outside the count
DM_CHANNEL_ID = 1300000000000000099
EPHEMERAL = 1 << 6
ALL_PERMISSIONS = (1 << 41) - 1
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31)  # view, send, use app commands
SCHEDULED, ACTIVE, COMPLETED, CANCELED = 1, 2, 3, 4  # guild scheduled event statuses
EXTERNAL = 3
GUILD_ONLY = 2
MAX_EVENTS = 100  # scheduled or active events per guild
LOCATION_LIMIT = 100
MOVES = {(SCHEDULED, ACTIVE), (ACTIVE, COMPLETED), (SCHEDULED, CANCELED)}

BOT_USER = {
    "id": str(BOT_ID),
    "username": "convene",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
    "mfa_enabled": False,
    "verified": True,
}


def user(user_id: int, name: str) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name.title(),
        "avatar": None,
    }


@dataclass
class Sent:
    """A message-shaped body convene sent, and where it went."""

    kind: str  # channel | edit | callback | followup | dm
    body: dict[str, Any]
    channel_id: str | None = None
    at: float = field(default_factory=time.monotonic)
    token: str = ""  # the bot token it was sent with ("" when the route takes none)

    @property
    def ephemeral(self) -> bool:
        data = self.body.get("data", self.body) if self.kind == "callback" else self.body
        return bool((data or {}).get("flags", 0) & EPHEMERAL)

    @property
    def public(self) -> bool:
        """Seen by a channel: posts, edits, and non-ephemeral interaction answers."""
        return self.kind != "dm" and not self.ephemeral

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


@dataclass
class Connection:
    """One gateway websocket and who identified on it."""

    ws: web.WebSocketResponse
    token: str = ""
    shard: tuple[int, int] | None = None  # IDENTIFY's [shard_id, shard_count]; None: unsharded
    session_id: str = ""

    def owns(self, guild_id: int | None) -> bool:
        """Whether Discord would send this guild's events here (None: a direct message)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        return shard_id == (0 if guild_id is None else shard_of(guild_id, count))


class DiscordEmulator(Emulator):
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.sockets: list[web.WebSocketResponse] = []
        self.connections: list[Connection] = []
        self.identified_as: list[tuple[str, tuple[int, int] | None]] = []  # (token, shard)
        self.identified = asyncio.Event()
        self.identifies = 0
        self.guilds: dict[int, int] = {GUILD_ID: CHANNEL_ID}  # guild → its text channel
        self.shard_count = 1  # what GET /gateway/bot recommends
        self.tokens = {TOKEN}
        self._sessions: dict[str, Connection] = {}  # session id → where it identified
        self._where: dict[str, str] = {}  # interaction id → its channel
        self.dispatched: dict[str, float] = {}  # interaction id → when it was sent
        self.base_url = ""
        self.violations: list[str] = []
        self.events: dict[str, dict[str, Any]] = {}  # event id → the event as Discord keeps it
        self.interested: dict[str, list[dict[str, Any]]] = {}  # event id → users
        self.manage_events = True
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.roles: dict[int, dict[str, Any]] = {}  # role id → the role, as `add_role` made it
        self._ids = itertools.count(1400000000000000001)
        self._seq = itertools.count(1)
        super().__init__()

    # -- addresses ---------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.base_url + API

    @property
    def gateway_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/gateway"

    def next_id(self) -> str:
        return str(next(self._ids))

    def add_guild(self, guild_id: int, channel_id: int) -> None:
        """Another guild the bot is in, with one text channel."""
        self.guilds[guild_id] = channel_id

    def guild_of(self, channel_id: str) -> str | None:
        found = [g for g, c in self.guilds.items() if str(c) == channel_id]
        return str(found[0]) if found else None

    def shards_identified(self, token: str | None = None) -> list[tuple[int, int] | None]:
        """Every IDENTIFY's shard, in order (those sent with `token`, when given)."""
        return [shard for who, shard in self.identified_as if token in (None, who)]

    @staticmethod
    def _token(request: web.Request) -> str:
        return request.headers.get("Authorization", "").removeprefix("Bot ")

    # -- REST --------------------------------------------------------------------------

    def routes(self, router: web.UrlDispatcher) -> None:
        # Outermost, so injected faults pass through it too.
        self.app.middlewares.insert(0, _exact_json)
        router.add_get(f"{API}/users/@me", self._me)
        router.add_get(f"{API}/oauth2/applications/@me", self._application)
        router.add_get(f"{API}/gateway/bot", self._gateway_info)
        router.add_get(f"{API}/gateway", self._gateway_info)
        router.add_route("*", API + "/applications/{app}/commands", self._global_commands)
        router.add_route("*", API + "/applications/{app}/guilds/{guild}/commands", self._guild_cmds)
        router.add_post(API + "/channels/{channel}/messages", self._create_message)
        router.add_patch(API + "/channels/{channel}/messages/{message}", self._edit_message)
        router.add_post(f"{API}/users/@me/channels", self._open_dm)
        router.add_post(API + "/interactions/{id}/{token}/callback", self._callback)
        router.add_post(API + "/webhooks/{app}/{token}", self._followup)
        router.add_patch(API + "/webhooks/{app}/{token}/messages/{message}", self._edit_followup)
        router.add_get(API + "/guilds/{guild}", self._get_guild)
        events = API + "/guilds/{guild}/scheduled-events"
        router.add_get(events, self._list_events)
        router.add_post(events, self._create_event)
        router.add_get(events + "/{event}", self._get_event)
        router.add_patch(events + "/{event}", self._modify_event)
        router.add_delete(events + "/{event}", self._delete_event)
        router.add_get(events + "/{event}/users", self._event_users)
        router.add_get("/gateway", self._gateway)

    async def _me(self, request: web.Request) -> web.Response:
        if self._token(request) not in self.tokens:
            return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)
        return web.json_response(BOT_USER)

    async def _application(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "id": str(APP_ID),
                "name": "convene",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user(1500000000000000001, "owner"),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
            }
        )

    async def _gateway_info(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return web.json_response(
            {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}
        )

    def _command_list(self, key: str, body: Any, guild: str | None) -> list[dict[str, Any]]:
        stored = []
        for number, command in enumerate(body or []):
            stored.append(
                {
                    "id": str(1600000000000000000 + number),
                    "application_id": str(APP_ID),
                    "version": "1",
                    "type": 1,
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                    **({"guild_id": guild} if guild else {}),
                    **command,
                }
            )
        self.commands[key] = stored
        return stored

    async def _global_commands(self, request: web.Request) -> web.Response:
        if request.method == "PUT":
            return web.json_response(self._command_list("global", await request.json(), None))
        return web.json_response(self.commands.get("global", []))

    async def _guild_cmds(self, request: web.Request) -> web.Response:
        guild = request.match_info["guild"]
        if request.method == "PUT":
            return web.json_response(self._command_list(guild, await request.json(), guild))
        return web.json_response(self.commands.get(guild, []))

    def _message(self, channel_id: str, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "id": self.next_id(),
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),  # Discord stamps the moment it stores
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            **extra,
        }

    async def _create_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        body = await request.json()
        token = self._token(request)
        if channel == str(DM_CHANNEL_ID):
            self.sent.append(Sent("dm", body, channel, token=token))
            return web.json_response(self._message(channel, body))
        self.sent.append(Sent("channel", body, channel, token=token))
        guild = self.guild_of(channel) or str(GUILD_ID)
        return web.json_response(self._message(channel, body, guild_id=guild))

    async def _edit_message(self, request: web.Request) -> web.Response:
        channel = request.match_info["channel"]
        body = await request.json()
        self.sent.append(Sent("edit", body, channel))
        message = self._message(channel, body)
        message["id"] = request.match_info["message"]
        return web.json_response(message)

    async def _open_dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        recipient = user(int(body["recipient_id"]), "someone")
        return web.json_response(
            {
                "id": str(DM_CHANNEL_ID),
                "type": 1,
                "recipients": [recipient],
                "last_message_id": None,
            }
        )

    async def _callback(self, request: web.Request) -> web.Response:
        """As Discord: 204, or 200 with the callback resource when `with_response` is asked."""
        body = await request.json()
        interaction_id = request.match_info["id"]
        self.sent.append(Sent("callback", {**body, "interaction_id": interaction_id}))
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        data = body.get("data") or {}
        answer: dict[str, Any] = {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_loading": body["type"] == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL),
            }
        }
        if body["type"] in (4, 5, 7):
            message = self._message(self._where.get(interaction_id, str(CHANNEL_ID)), data)
            answer["interaction"]["response_message_id"] = message["id"]
            answer["resource"] = {"type": body["type"], "message": message}
        return web.json_response(answer)

    async def _followup(self, request: web.Request) -> web.Response:
        if request.headers.get("Content-Type") != "application/json":
            self.violations.append(f"followup Content-Type {request.headers.get('Content-Type')}")
            return web.json_response({"message": "Invalid Content-Type", "code": 0}, status=400)
        body = await request.json()
        self.sent.append(Sent("followup", body))
        interaction_id = request.match_info["token"].removeprefix("tok-")
        channel = self._where.get(interaction_id, str(CHANNEL_ID))
        return web.json_response(self._message(channel, body, webhook_id=str(APP_ID)))

    async def _edit_followup(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.sent.append(Sent("followup", body))
        return web.json_response(self._message(str(CHANNEL_ID), body))

    # -- guild scheduled events ----------------------------------------------------------

    async def _get_guild(self, request: web.Request) -> web.Response:
        guild = request.match_info["guild"]
        if not guild.isdigit() or int(guild) not in self.guilds:
            return _discord_error(404, 10004, "Unknown Guild")
        return web.json_response(self._guild(int(guild)))

    def add_interested(self, event_id: str, user_id: int, name: str) -> None:
        """A member presses "Interested" on the event."""
        self.interested.setdefault(event_id, []).append(user(user_id, name))

    def _event_answer(self, event: dict[str, Any], request: web.Request) -> dict[str, Any]:
        answer = dict(event)
        if request.query.get("with_user_count", "").lower() in ("1", "true"):
            answer["user_count"] = len(self.interested.get(event["id"], []))
        return answer

    def _find_event(self, request: web.Request) -> dict[str, Any] | None:
        event = self.events.get(request.match_info["event"])
        if event is None or event["guild_id"] != request.match_info["guild"]:
            return None
        return event

    async def _list_events(self, request: web.Request) -> web.Response:
        guild = request.match_info["guild"]
        found = [
            self._event_answer(e, request) for e in self.events.values() if e["guild_id"] == guild
        ]
        return web.json_response(found)

    async def _get_event(self, request: web.Request) -> web.Response:
        event = self._find_event(request)
        if event is None:
            return _discord_error(404, 10070, "Unknown Guild Scheduled Event")
        return web.json_response(self._event_answer(event, request))

    async def _create_event(self, request: web.Request) -> web.Response:
        if not self.manage_events:
            return _discord_error(403, 50013, "Missing Permissions")
        body = await request.json()
        guild = request.match_info["guild"]
        live = [e for e in self.events.values() if e["guild_id"] == guild and e["status"] < 3]
        if len(live) >= MAX_EVENTS:
            return _discord_error(400, 30038, "Maximum number of guild events reached (100)")
        event = {
            "id": self.next_id(),
            "guild_id": guild,
            "channel_id": None,
            "creator_id": str(BOT_ID),
            "creator": BOT_USER,
            "name": body.get("name"),
            "description": body.get("description"),
            "image": None,
            "scheduled_start_time": body.get("scheduled_start_time"),
            "scheduled_end_time": body.get("scheduled_end_time"),
            "status": SCHEDULED,
            "entity_type": body.get("entity_type"),
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "privacy_level": body.get("privacy_level"),
            "recurrence_rule": None,
        }
        problem = self._event_problem(event, None)
        if problem:
            return _form_error(*problem)
        self.events[event["id"]] = event
        self.interested[event["id"]] = [BOT_USER]  # Discord subscribes an event's creator
        return web.json_response(event)

    async def _modify_event(self, request: web.Request) -> web.Response:
        if not self.manage_events:
            return _discord_error(403, 50013, "Missing Permissions")
        event = self._find_event(request)
        if event is None:
            return _discord_error(404, 10070, "Unknown Guild Scheduled Event")
        body = await request.json()
        changed = {**event, **body}
        if body.get("entity_metadata") is None:
            changed["entity_metadata"] = event["entity_metadata"]
        changed["status"] = body.get("status") or event["status"]
        problem = self._event_problem(changed, event)
        if problem:
            return _form_error(*problem)
        event.update(changed)
        return web.json_response(event)

    async def _delete_event(self, request: web.Request) -> web.Response:
        if not self.manage_events:
            return _discord_error(403, 50013, "Missing Permissions")
        if self._find_event(request) is None:
            return _discord_error(404, 10070, "Unknown Guild Scheduled Event")
        del self.events[request.match_info["event"]]
        return web.Response(status=204)

    async def _event_users(self, request: web.Request) -> web.Response:
        event = self._find_event(request)
        if event is None:
            return _discord_error(404, 10070, "Unknown Guild Scheduled Event")
        people = sorted(self.interested.get(event["id"], []), key=lambda u: int(u["id"]))
        if request.query.get("before"):
            people = [u for u in people if int(u["id"]) < int(request.query["before"])]
        if request.query.get("after"):
            people = [u for u in people if int(u["id"]) > int(request.query["after"])]
        limit = min(int(request.query.get("limit", "100")), 100)
        return web.json_response(
            [{"guild_scheduled_event_id": event["id"], "user": u} for u in people[:limit]]
        )

    def _event_problem(
        self, event: dict[str, Any], before: dict[str, Any] | None
    ) -> tuple[str, str] | None:
        """What Discord would refuse in this event (field, reason), or None."""
        old = before["status"] if before else SCHEDULED
        if before is not None and old in (COMPLETED, CANCELED):
            return "status", "A finished or canceled event cannot be changed."
        if event["status"] != old and (old, event["status"]) not in MOVES:
            return "status", f"Cannot move an event from status {old} to {event['status']}."
        if not event.get("name") or len(event["name"]) > 100:
            return "name", "Must be between 1 and 100 in length."
        if len(event.get("description") or "") > 1000:
            return "description", "Must be 1000 or fewer in length."
        if event.get("privacy_level") != GUILD_ONLY:
            return "privacy_level", "Value must be one of (2,)."
        if event.get("entity_type") == EXTERNAL:
            if event.get("channel_id") is not None:
                return "channel_id", "An external event has no channel."
            location = (event.get("entity_metadata") or {}).get("location")
            if not location:
                return "entity_metadata", "An external event needs a location."
            if len(location) > LOCATION_LIMIT:
                return "entity_metadata.location", "Must be 100 or fewer in length."
            if not event.get("scheduled_end_time"):
                return "scheduled_end_time", "An external event needs an end time."
        start = _when(event["scheduled_start_time"])
        if before is None or event["scheduled_start_time"] != before["scheduled_start_time"]:
            if old != SCHEDULED:
                return "scheduled_start_time", "A started event keeps its start time."
            if start <= self.clock():  # by the time it arrives, "now" has passed
                return "scheduled_start_time", "Cannot schedule event in the past."
        end = event.get("scheduled_end_time")
        if end and _when(end) <= start:
            return "scheduled_end_time", "Must be after the start time."
        return None

    def events_in(
        self, guild_id: int = GUILD_ID, status: int | None = None
    ) -> list[dict[str, Any]]:
        return [
            e
            for e in self.events.values()
            if e["guild_id"] == str(guild_id) and status in (None, e["status"])
        ]

    # -- gateway -----------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        connection = Connection(ws)
        self.connections.append(connection)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            if frame["op"] == 1:
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif frame["op"] == 2:
                await self._identify(connection, frame["d"])
            elif frame["op"] == 6:
                known = self._sessions.get(frame["d"].get("session_id", ""))
                if known is not None:  # a resumed session keeps its shard
                    connection.token, connection.shard = known.token, known.shard
                await self._dispatch(ws, "RESUMED", {})
        return ws

    async def _identify(self, connection: Connection, identify: dict[str, Any]) -> None:
        """READY, then GUILD_CREATE for each guild this connection's shard owns."""
        assert identify["token"] in self.tokens
        shard = identify.get("shard")
        if shard is not None and not 0 <= shard[0] < shard[1]:
            await connection.ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        self.identifies += 1
        connection.token = identify["token"]
        connection.shard = (int(shard[0]), int(shard[1])) if shard is not None else None
        connection.session_id = f"session-{self.identifies}"
        self._sessions[connection.session_id] = connection
        self.identified_as.append((connection.token, connection.shard))
        owned = [g for g in self.guilds if connection.owns(g)]
        await self._dispatch(connection.ws, "READY", self._ready(connection, owned))
        for guild_id in owned:
            await self._dispatch(connection.ws, "GUILD_CREATE", self._guild(guild_id))
        self.identified.set()

    def _ready(self, connection: Connection, guild_ids: list[int]) -> dict[str, Any]:
        ready: dict[str, Any] = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [{"id": str(g), "unavailable": True} for g in guild_ids],
            "session_id": connection.session_id,
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
        }
        if connection.shard is not None:
            ready["shard"] = list(connection.shard)
        return ready

    def _guild(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        channel_id = self.guilds[guild_id]
        return {
            "id": str(guild_id),
            "name": "Emulated guild",
            "icon": None,
            "owner_id": "1500000000000000001",
            "unavailable": False,
            "member_count": 3,
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "members": [],
            "threads": [],
            "voice_states": [],
            "presences": [],
            "roles": [
                {
                    "id": str(guild_id),
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMISSIONS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                }
            ],
            "channels": [
                {
                    "id": str(channel_id),
                    "type": 0,
                    "name": "general",
                    "position": 0,
                    "permission_overwrites": [],
                    "guild_id": str(guild_id),
                }
            ],
        }

    async def _dispatch(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        await ws.send_json({"op": 0, "t": event, "s": next(self._seq), "d": data})

    async def send_event(self, event: str, data: Any) -> None:
        """To the newest live connection whose shard owns the event's guild."""
        guild = data.get("guild_id") if isinstance(data, dict) else None
        guild_id = int(guild) if guild is not None else None
        live = [c for c in self.connections if not c.ws.closed and c.owns(guild_id)]
        assert live, f"no client on the gateway holds the shard of guild {guild_id}"
        await self._dispatch(live[-1].ws, event, data)

    # -- interactions ------------------------------------------------------------------

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user_id: int,
        permissions: int,
        *,
        dm: bool = False,
        guild_id: int = GUILD_ID,
        **extra: Any,
    ) -> dict[str, Any]:
        interaction_id = self.next_id()
        if dm:
            return self._dm_interaction(interaction_id, kind, data, user_id, **extra)
        channel_id = self.guilds[guild_id]
        return {
            "id": interaction_id,
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"tok-{interaction_id}",
            "version": 1,
            "guild_id": str(guild_id),
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 0, "guild_id": str(guild_id)},
            "member": {
                "user": user(user_id, f"user{user_id % 1000}"),
                "roles": [],
                "joined_at": "2026-01-01T00:00:00.000000+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(permissions),
            },
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US",
            "guild_locale": "en-US",
            "attachment_size_limit": 8388608,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild_id)},
            "context": 0,
            "data": data,
            **extra,
        }

    def _dm_interaction(
        self, interaction_id: str, kind: int, data: dict[str, Any], user_id: int, **extra: Any
    ) -> dict[str, Any]:
        """An interaction in the bot's direct messages: no guild, no member, a `user`."""
        return {
            "id": interaction_id,
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"tok-{interaction_id}",
            "version": 1,
            "channel_id": str(DM_CHANNEL_ID),
            "channel": {
                "id": str(DM_CHANNEL_ID),
                "type": 1,
                "flags": 0,
                "last_message_id": None,
                "recipients": [user(user_id, f"user{user_id % 1000}")],
            },
            "user": user(user_id, f"user{user_id % 1000}"),
            "app_permissions": str(ALL_PERMISSIONS),
            "locale": "en-US",
            "attachment_size_limit": 8388608,
            "entitlements": [],
            "authorizing_integration_owners": {"0": "0"},
            "context": 1,
            "data": data,
            **extra,
        }

    async def _send_interaction(self, payload: dict[str, Any]) -> str:
        self.dispatched[payload["id"]] = time.monotonic()
        if "guild_id" in payload:  # answers in a guild show up in its channel
            self._where[payload["id"]] = str(payload["channel_id"])
        await self.send_event("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def slash(
        self,
        sub: str,
        options: dict[str, Any] | None = None,
        *,
        user_id: int,
        permissions: int = MEMBER_PERMISSIONS,
        focused: str | None = None,
        guild_id: int = GUILD_ID,
    ) -> str:
        """`/meet <sub> opt:value …` (type 2), or its autocomplete (type 4) when `focused`,
        in `guild_id`'s channel. A bool value goes as a boolean option, anything else as a
        string, as typed."""
        inner = [
            {
                "name": name,
                "type": _option_type(value),
                "value": value,
                **({"focused": True} if name == focused else {}),
            }
            for name, value in (options or {}).items()
        ]
        command = self.commands.get(str(guild_id)) or self.commands.get("global") or [{}]
        data = {
            "id": command[0].get("id", "1600000000000000000"),
            "name": "meet",
            "type": 1,
            "guild_id": str(guild_id),
            "options": [{"name": sub, "type": 1, "options": inner}],
        }
        kind = 4 if focused else 2
        payload = self._interaction(kind, data, user_id, permissions, guild_id=guild_id)
        return await self._send_interaction(payload)

    async def click(
        self,
        custom_id: str,
        message: dict[str, Any],
        *,
        user_id: int,
        permissions: int = 0,
        dm: bool = False,
    ) -> str:
        """A button press (type 3, component_type 2) on `message`; `dm`: in the bot's DMs."""
        if not any(custom_id == c for c in _custom_ids(message.get("components"))):
            self.violations.append(f"click on {custom_id!r}, which the message does not carry")
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(
            3, data, user_id, permissions or MEMBER_PERMISSIONS, dm=dm, message=message
        )
        return await self._send_interaction(payload)

    async def submit_modal(
        self,
        custom_id: str,
        fields: dict[str, str],
        *,
        user_id: int,
        dm: bool = False,
        picked: dict[str, list[int]] | None = None,
    ) -> str:
        """A modal submit (type 5) with one text input per field; `dm`: in the bot's DMs.
        `picked`: a labelled mentionable select per key, its choices resolved as Discord
        resolves them (a role added with `add_role` as a role, any other id as a user)."""
        rows: list[dict[str, Any]] = [
            {"type": 1, "components": [{"type": 4, "custom_id": key, "value": value}]}
            for key, value in fields.items()
        ]
        resolved: dict[str, dict[str, Any]] = {}
        for key, ids in (picked or {}).items():
            select = {"type": 7, "custom_id": key, "values": [str(i) for i in ids]}
            rows.append({"type": 18, "id": len(rows) + 1, "component": select})
            for chosen in ids:
                if chosen in self.roles:
                    resolved.setdefault("roles", {})[str(chosen)] = self.roles[chosen]
                else:
                    someone = user(chosen, f"user{chosen % 1000}")
                    resolved.setdefault("users", {})[str(chosen)] = someone
        data: dict[str, Any] = {"custom_id": custom_id, "components": rows}
        if resolved:
            data["resolved"] = resolved
        payload = self._interaction(5, data, user_id, MEMBER_PERMISSIONS, dm=dm)
        return await self._send_interaction(payload)

    async def add_role(self, role_id: int, name: str, member_ids: tuple[int, ...]) -> None:
        """A role is created and members holding it join, as the gateway tells a bot
        (GUILD_ROLE_CREATE, GUILD_MEMBER_ADD); a client keeps members only if it caches them."""
        role = {
            "id": str(role_id),
            "name": name,
            "permissions": str(MEMBER_PERMISSIONS),
            "position": len(self.roles) + 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": True,
        }
        self.roles[role_id] = role
        await self.send_event("GUILD_ROLE_CREATE", {"guild_id": str(GUILD_ID), "role": role})
        for member_id in member_ids:
            member = {
                "guild_id": str(GUILD_ID),
                "user": user(member_id, f"user{member_id % 1000}"),
                "roles": [str(role_id)],
                "joined_at": "2026-01-01T00:00:00.000000+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
            }
            await self.send_event("GUILD_MEMBER_ADD", member)

    def prompt_message(self, *custom_ids: str) -> dict[str, Any]:
        """A bot message carrying buttons with these custom_ids (Discord only delivers
        clicks on components that exist on the message)."""
        row = [{"type": 2, "style": 2, "label": "x", "custom_id": c} for c in custom_ids]
        body = {"content": "prompt", "components": [{"type": 1, "components": row}]}
        return self._message(str(CHANNEL_ID), body, guild_id=str(GUILD_ID))

    def card_message(self, sent: Sent) -> dict[str, Any]:
        """The message object Discord would attach to a click on a posted card."""
        return self._message(str(CHANNEL_ID), sent.body, guild_id=str(GUILD_ID))

    def dm_message(self, sent: Sent) -> dict[str, Any]:
        """The message object Discord would attach to a click on a direct message."""
        return self._message(str(DM_CHANNEL_ID), sent.body)

    # -- waiting and reading -------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[Sent], bool], timeout: float = 5.0) -> Sent:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [s for s in self.sent if predicate(s)]
            if found:
                return found[0]
            await asyncio.sleep(0.01)
        raise AssertionError(f"nothing matched within {timeout}s; sent: {self.sent}")

    def answers_to(self, interaction_id: str) -> list[Sent]:
        token = f"tok-{interaction_id}"
        found = []
        for sent in self.sent:
            if sent.kind == "callback" and sent.body.get("interaction_id") == interaction_id:
                found.append(sent)
        for record in self.requests:
            if token in record.path and "/webhooks/" in record.path and record.body:
                found.append(Sent("followup", json.loads(record.body)))
        return found

    def public(self) -> list[Sent]:
        return [s for s in self.sent if s.public]


def _option_type(value: Any) -> int:
    """An application command option's type for a value: BOOLEAN (5) or STRING (3)."""
    return 5 if isinstance(value, bool) else 3


def _custom_ids(components: Any) -> list[str]:
    """Every custom_id among a message's components (rows nest buttons)."""
    found: list[str] = []
    for component in components or []:
        if component.get("custom_id"):
            found.append(str(component["custom_id"]))
        found += _custom_ids(component.get("components"))
    return found


@web.middleware
async def _exact_json(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Discord sends `Content-Type: application/json` with no charset, and discord.py
    reads a body as JSON only when the header is exactly that."""
    response = await handler(request)
    if isinstance(response, web.Response) and response.content_type == "application/json":
        response.charset = None
    return response


def _discord_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"message": message, "code": code}, status=status)


def _form_error(field_name: str, reason: str) -> web.Response:
    """Discord's 400 "Invalid Form Body" (code 50035), naming the field."""
    errors = {field_name: {"_errors": [{"code": "BASE_TYPE_INVALID", "message": reason}]}}
    body = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
    return web.json_response(body, status=400)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def rate_limit(retry_after: float = 0.05) -> dict[str, Any]:
    """fail() arguments for a 429 as Discord sends it (discord.py needs `Via` and the body)."""
    return {
        "body": {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        },
        "headers": {
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "emulated-bucket",
            "X-RateLimit-Scope": "user",
            "Via": "1.1 google",
        },
    }
