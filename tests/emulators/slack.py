"""A loopback Slack: the Web API at SLACK_API_URL, a response_url sink, a Socket
Mode websocket, and a client that sends signed requests to convene's /slack/events.

Every Web API call is recorded with its parsed parameters and bearer token.
Tokens are checked (`invalid_auth`), errors can be queued per method, and the
base emulator's `fail(429, headers={"Retry-After": "1"})` injects rate limits.

The Calls API keeps its calls in `slack_calls` (a call ended by `calls.end` has a
`date_end`); its methods answer `missing_scope` once a test takes `calls:write`
or `calls:read` out of `scopes`, a bot token's `calls.add` needs `created_by`, and
a `call` block must name a call that exists, as Slack requires.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web

from tests.emulators.base import Emulator

TEAM = "T0CONVENE"
BOT_TOKEN = "xoxb-emulated-bot-token"
APP_TOKEN = "xapp-emulated-app-token"
SIGNING_SECRET = "emulated-signing-secret"
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "emulated-client-secret"
SCOPES = ("commands", "chat:write", "chat:write.public", "users:read", "calls:read", "calls:write")
CALL_SCOPES = {
    "calls.add": "calls:write",
    "calls.end": "calls:write",
    "calls.update": "calls:write",
    "calls.participants.add": "calls:write",
    "calls.participants.remove": "calls:write",
    "calls.info": "calls:read",
}
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


@dataclass
class ApiCall:
    method: str  # e.g. "chat.postMessage"
    params: dict[str, Any]
    token: str | None


class SlackEmulator(Emulator):
    def __init__(self) -> None:
        self.base_url = ""  # set by the test once served
        self.bot_tokens: dict[str, str] = {BOT_TOKEN: TEAM}  # token → team
        self.app_tokens = {APP_TOKEN}
        self.api: list[ApiCall] = []
        self.queued_errors: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []  # what arrived at response_url
        self.oauth_codes: dict[str, tuple[str, str]] = {}  # code → (team id, team name)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_messages: list[dict[str, Any]] = []
        self.acked_on: dict[str, web.WebSocketResponse] = {}  # envelope id → socket it came back on
        self.posted_ts: list[str] = []  # ts of every chat.postMessage, in order
        self.scopes = set(SCOPES)  # what the bot tokens were granted
        self.slack_calls: dict[str, dict[str, Any]] = {}  # call id → the call as Slack keeps it
        self._ts = itertools.count(1)
        self._call_ids = itertools.count(1)
        super().__init__()
        self.app.on_shutdown.append(self._close_sockets)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/api/{method}", self.web_api)
        router.add_post("/response/{n}", self.response_url)
        router.add_get("/socket", self.socket)

    # -- test helpers ---------------------------------------------------------------------

    def error_next(self, method: str, error: str) -> None:
        self.queued_errors.setdefault(method, []).append(error)

    def user(self, user_id: str, **fields: Any) -> None:
        self.users[user_id] = {"id": user_id, "name": user_id.lower(), **fields}

    def cards(self) -> list[ApiCall]:
        """convene's cards: posted messages other than Slack call blocks."""
        return [call for call in self.calls_to("chat.postMessage") if not _is_call_block(call)]

    async def wait_for_cards(self, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.cards()) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.cards())} cards were posted")
            await asyncio.sleep(0.02)
        return self.cards()

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.api if c.method == method]

    def public_payloads(self) -> str:
        """Everything convene made visible to a channel, as one string for leak checks."""
        public = self.calls_to("chat.postMessage") + self.calls_to("chat.update")
        return json.dumps([c.params for c in public])

    def response_url_for(self, n: int | str = 1) -> str:
        return f"{self.base_url}/response/{n}"

    async def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Wait until `count` calls of `method` arrived (work happens after the ack)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.calls_to(method)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{method} was called {len(self.calls_to(method))} times")
            await asyncio.sleep(0.02)
        return self.calls_to(method)

    async def wait_for_responses(
        self, count: int = 1, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.responses) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{len(self.responses)} response_url posts arrived")
            await asyncio.sleep(0.02)
        return self.responses

    # -- the Web API ---------------------------------------------------------------------

    async def web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        if raw and request.content_type == "application/json":
            params.update(json.loads(raw))
        elif raw:
            params.update(parse_qsl(raw.decode()))
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else params.get("token")
        self.api.append(ApiCall(method, params, token))
        queued = self.queued_errors.get(method)
        if queued:
            return _error(queued.pop(0))
        if method == "oauth.v2.access":
            return self._oauth_access(header, params)
        if method == "apps.connections.open":
            if token not in self.app_tokens:
                return _error("invalid_auth")
            return web.json_response({"ok": True, "url": f"ws://{request.host}/socket"})
        team = self.bot_tokens.get(token or "")
        if team is None:
            return _error("invalid_auth" if token else "not_authed")
        needed = CALL_SCOPES.get(method)
        if needed and needed not in self.scopes:
            return web.json_response(
                {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": needed,
                    "provided": ",".join(sorted(self.scopes)),
                }
            )
        handler = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._ephemeral,
            "views.open": self._views_open,
            "users.info": self._users_info,
            "calls.add": self._calls_add,
            "calls.end": self._calls_end,
            "calls.info": self._calls_info,
            "calls.update": self._calls_update,
            "calls.participants.add": self._participants_add,
            "calls.participants.remove": self._participants_remove,
        }.get(method)
        if handler is None:
            return _error("unknown_method")
        return handler(team, params)

    def _auth_test(self, team: str, params: dict[str, Any]) -> web.Response:
        return _ok(
            url="https://convene-test.slack.com/",
            team="Convene Test",
            user="convene",
            team_id=team,
            user_id="UCONVENEBOT",
            bot_id="BCONVENE",
            is_enterprise_install=False,
        )

    def _post_message(self, team: str, params: dict[str, Any]) -> web.Response:
        if "channel" not in params:
            return _error("channel_not_found")
        blocks = params.get("blocks")
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        for block in blocks or []:
            if block.get("type") == "call" and block.get("call_id") not in self.slack_calls:
                return _error("invalid_blocks")
        ts = f"{1_700_000_000 + next(self._ts)}.000100"
        self.posted_ts.append(ts)
        return _ok(channel=params["channel"], ts=ts, message={"text": params.get("text", "")})

    def _update(self, team: str, params: dict[str, Any]) -> web.Response:
        if "ts" not in params:
            return _error("message_not_found")
        return _ok(channel=params.get("channel"), ts=params["ts"])

    def _ephemeral(self, team: str, params: dict[str, Any]) -> web.Response:
        if "user" not in params:
            return _error("user_not_in_channel")
        return _ok(message_ts=f"{1_700_000_000 + next(self._ts)}.000200")

    def _views_open(self, team: str, params: dict[str, Any]) -> web.Response:
        if not params.get("trigger_id"):
            return _error("invalid_trigger_id")
        view = params.get("view")
        view = json.loads(view) if isinstance(view, str) else view
        return _ok(view={"id": "VSCHEDULE", "team_id": team, **(view or {})})

    def _users_info(self, team: str, params: dict[str, Any]) -> web.Response:
        user_id = str(params.get("user", ""))
        user = self.users.get(user_id) or {"id": user_id, "name": user_id.lower()}
        return _ok(user={"team_id": team, "tz": "UTC", **user})

    def _oauth_access(self, header: str, params: dict[str, Any]) -> web.Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if header != f"Basic {expected}":
            return _error("invalid_client_id")
        found = self.oauth_codes.pop(str(params.get("code", "")), None)
        if found is None:
            return _error("invalid_code")
        team_id, team_name = found
        token = f"xoxb-installed-{team_id.lower()}"
        self.bot_tokens[token] = team_id
        return _ok(
            access_token=token,
            token_type="bot",
            scope="commands,chat:write,chat:write.public,users:read",
            bot_user_id="UCONVENEBOT",
            app_id="ACONVENE",
            team={"id": team_id, "name": team_name},
            enterprise=None,
            is_enterprise_install=False,
            authed_user={"id": "UINSTALLER"},
        )

    # -- the Calls API ---------------------------------------------------------------------

    def _calls_add(self, team: str, params: dict[str, Any]) -> web.Response:
        if not params.get("external_unique_id") or not params.get("join_url"):
            return _error("invalid_arguments")
        if not _USER_ID.fullmatch(str(params.get("created_by") or "")):
            return _error("invalid_created_by")  # a bot token must say who created it
        call_id = f"R{next(self._call_ids):08d}"
        call = {
            "id": call_id,
            "team_id": team,
            "external_unique_id": params["external_unique_id"],
            "join_url": params["join_url"],
            "date_start": int(params.get("date_start") or time.time()),
            "created_by": params["created_by"],
            "users": _call_users(params.get("users")),
            **{
                key: params[key]
                for key in ("title", "external_display_id", "desktop_app_join_url")
                if params.get(key)
            },
        }
        self.slack_calls[call_id] = call
        return _ok(call=call)

    def _live_call(self, params: dict[str, Any]) -> dict[str, Any] | web.Response:
        call = self.slack_calls.get(str(params.get("id", "")))
        if call is None:
            return _error("invalid_call_id")
        return call

    def _calls_end(self, team: str, params: dict[str, Any]) -> web.Response:
        call = self._live_call(params)
        if isinstance(call, web.Response):
            return call
        if "date_end" in call:
            return _ok(error="inactive_call")  # as Slack answers: ok, and already stopped
        call["date_end"] = int(time.time())
        if params.get("duration") is not None:
            call["duration"] = int(params["duration"])
        return _ok()

    def _calls_info(self, team: str, params: dict[str, Any]) -> web.Response:
        call = self._live_call(params)
        return call if isinstance(call, web.Response) else _ok(call=call)

    def _calls_update(self, team: str, params: dict[str, Any]) -> web.Response:
        call = self._live_call(params)
        if isinstance(call, web.Response):
            return call
        for key in ("title", "join_url", "desktop_app_join_url"):
            if params.get(key):
                call[key] = params[key]
        return _ok(call=call)

    def _participants_add(self, team: str, params: dict[str, Any]) -> web.Response:
        call = self._live_call(params)
        if isinstance(call, web.Response):
            return call
        if "date_end" in call:
            return _error("inactive_call")
        added = _call_users(params.get("users"))
        if not added:
            return _error("invalid_users")
        known = [_user_key(u) for u in call["users"]]
        fresh = [u for u in added if _user_key(u) not in known]
        call["users"] += fresh
        return _ok() if len(fresh) == len(added) else _ok(error="bad_users")

    def _participants_remove(self, team: str, params: dict[str, Any]) -> web.Response:
        call = self._live_call(params)
        if isinstance(call, web.Response):
            return call
        gone = {_user_key(u) for u in _call_users(params.get("users"))}
        if not gone:
            return _error("invalid_users")
        call["users"] = [u for u in call["users"] if _user_key(u) not in gone]
        return _ok()

    def call_blocks(self) -> list[dict[str, Any]]:
        """Every `call` block posted, with the channel and thread it went to."""
        found = []
        for call in self.calls_to("chat.postMessage"):
            blocks = call.params.get("blocks")
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            for block in blocks or []:
                if block.get("type") == "call":
                    where = {k: call.params.get(k) for k in ("channel", "thread_ts")}
                    found.append({**block, **where})
        return found

    async def response_url(self, request: web.Request) -> web.Response:
        self.responses.append(await request.json())
        return web.Response(text="ok")

    # -- Socket Mode -----------------------------------------------------------------------

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {}})
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                received = json.loads(message.data)
                self.socket_messages.append(received)
                if isinstance(received, dict) and "envelope_id" in received:
                    self.acked_on[str(received["envelope_id"])] = ws
        return ws

    def live_sockets(self) -> list[web.WebSocketResponse]:
        """The app's open connections, oldest first (a replica each, when several run)."""
        return [ws for ws in self.sockets if not ws.closed]

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], *, to: int | None = None
    ) -> str:
        """Sent over the newest connection, or over live connection `to` (Slack spreads
        an app's envelopes over all its connections)."""
        target = self.sockets[-1] if to is None else self.live_sockets()[to]
        envelope_id = f"env-{len(self.socket_messages)}-{time.monotonic_ns()}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": True,
        }
        await target.send_json(envelope)
        return envelope_id

    async def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for message in self.socket_messages:
                if message.get("envelope_id") == envelope_id:
                    return message
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"no ack for {envelope_id}")
            await asyncio.sleep(0.02)

    async def _close_sockets(self, app: web.Application) -> None:
        for ws in self.sockets:
            await ws.close()


def _is_call_block(call: ApiCall) -> bool:
    blocks = call.params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return any(block.get("type") == "call" for block in blocks)


def _ok(**fields: Any) -> web.Response:
    return web.json_response({"ok": True, **fields})


def _error(code: str) -> web.Response:
    return web.json_response({"ok": False, "error": code})


def _call_users(raw: Any) -> list[dict[str, Any]]:
    """A Calls `users` argument (a JSON string when form-encoded) as a list; each user is
    a `slack_id` or an `external_id` with a `display_name`."""
    users = json.loads(raw) if isinstance(raw, str) else raw
    valid = []
    for user in users or []:
        if isinstance(user, dict) and (
            user.get("slack_id") or (user.get("external_id") and user.get("display_name"))
        ):
            valid.append(user)
    return valid


def _user_key(user: dict[str, Any]) -> str:
    return str(user.get("slack_id") or f"external:{user.get('external_id')}")


# ---- signed requests to convene --------------------------------------------------------

# Slack's own markup in command text (user, channel and group mentions, special
# mentions, links) reaches the app as is; everything else typed has &, < and > escaped.
_MARKUP = re.compile(r"<(?:[@#!][^<>\s]*|https?://[^<>\s]*)(?:\|[^<>]*)?>")


def slack_escape(typed: str) -> str:
    """The command text as Slack sends it for what the user typed."""
    out, last = [], 0
    for token in _MARKUP.finditer(typed):
        out.append(_escape(typed[last : token.start()]) + token.group())
        last = token.end()
    out.append(_escape(typed[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def command_payload(
    text: str,
    *,
    response_url: str,
    team: str = TEAM,
    channel: str = "CGENERAL",
    user: str = "UANA",
    trigger_id: str = "trigger-1",
    raw: bool = False,
) -> dict[str, str]:
    """What Slack posts for `/meet <text>`; `raw` sends the text without Slack's escaping."""
    return {
        "token": "deprecated-verification-token",
        "team_id": team,
        "team_domain": "convene-test",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/meet",
        "text": text if raw else slack_escape(text),
        "api_app_id": "ACONVENE",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def action_payload(
    action_id: str,
    value: str,
    *,
    response_url: str,
    team: str = TEAM,
    channel: str = "CGENERAL",
    user: str = "UANA",
    block_id: str = "meet_card",
    ephemeral: bool = False,
    trigger_id: str = "trigger-2",
) -> dict[str, Any]:
    """A button click; `ephemeral` when it was on a message only the clicker sees."""
    container: dict[str, Any] = {"type": "message", "channel_id": channel}
    container.update({"is_ephemeral": True} if ephemeral else {"message_ts": "1700000001.000100"})
    payload = {
        "type": "block_actions",
        "team": {"id": team, "domain": "convene-test"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "ACONVENE",
        "trigger_id": trigger_id,
        "channel": {"id": channel, "name": "general"},
        "container": container,
        "message": {"ts": "1700000001.000100", "text": "card"},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "action_ts": "1700000002.000000",
            }
        ],
    }
    if ephemeral:
        del payload["message"]  # Slack sends no message for an ephemeral one
    return payload


def view_payload(
    values: dict[str, Any],
    private_metadata: str,
    *,
    team: str = TEAM,
    user: str = "UANA",
    callback_id: str = "meet_schedule",
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": team, "domain": "convene-test"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "ACONVENE",
        "view": {
            "id": "VSCHEDULE",
            "team_id": team,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }


class SlackClient:
    """Sends what Slack would send to convene's /slack/events, signed like Slack does."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        events_url: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """`clock`: the app's clock, which convene judges the signing window by."""
        self.session = session
        self.events_url = events_url
        self.clock = clock

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/x-www-form-urlencoded",
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        """`headers`: more of them, e.g. a retry's `X-Slack-Retry-Num`."""
        now = self.clock().timestamp() if self.clock is not None else time.time()
        stamp = int(now) if timestamp is None else timestamp
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": signature or sign(body, stamp, secret),
            **(headers or {}),
        }
        async with self.session.post(self.events_url, data=body, headers=headers) as response:
            return response.status, await response.text()

    async def command(self, payload: dict[str, str], **kwargs: Any) -> tuple[int, str]:
        return await self.post(urlencode(payload), **kwargs)

    async def interaction(self, payload: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        return await self.post(urlencode({"payload": json.dumps(payload)}), **kwargs)

    async def event(self, team: str, event: dict[str, Any]) -> tuple[int, str]:
        body = {
            "token": "deprecated",
            "team_id": team,
            "api_app_id": "ACONVENE",
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": team, "user_id": "UCONVENEBOT", "is_bot": True}],
        }
        return await self.post(json.dumps(body), content_type="application/json")
