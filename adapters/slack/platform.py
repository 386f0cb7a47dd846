"""The Slack platform: bolt's AsyncApp wired to convene's service and HTTP server.

Three ways to run, chosen by which variables are set:
- HTTP mode (SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET): Slack posts signed
  requests to `POST /slack/events` on convene's aiohttp server.
- Socket Mode (SLACK_APP_TOKEN): bolt's aiohttp Socket Mode client on the
  shared loop; no public URL needed.
- OAuth (SLACK_CLIENT_ID + SLACK_CLIENT_SECRET): many workspaces, installed at
  `/slack/install`; each workspace's bot token comes from the installation store.
Every Web API call goes to SLACK_API_URL and retries 429s after Retry-After.
All of convene's Web API clients (bolt's app client, which bolt copies into each
request's client, OAuth's, which is the same one, and the messenger's) share one
aiohttp session, a keep-alive pool opened on the running loop when the HTTP server
starts (or the platform runs) and closed by `SlackPlatform.stop`; without it
slack_sdk opens a session and a TCP connection per call.

Nothing from the network reaches bolt unverified: `POST /slack/events` passes
`SlackRequestGate` (size, signature by the service's clock, shape, replay)
and the OAuth redirect `oauth.check_callback_query`. Refusals are 4xx with a
short reason and are counted by one `RefusalLog`, never logged one by one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from functools import partial

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import oauth
from adapters.slack.acks_first import AcksFirst
from adapters.slack.callers import PLATFORM, Callers
from adapters.slack.calls import SlackCalls
from adapters.slack.handlers import Handlers
from adapters.slack.messenger import SlackMessenger, TokenSource
from adapters.slack.request_gate import SlackRequestGate
from bot.config import ConfigError, Settings
from bot.inbound_limits import RefusalLog, Refused, refusal
from bot.service import MeetingService
from storage.engine import Store

log = logging.getLogger(__name__)

# At DEBUG these libraries log whole request bodies, which carry host links.
# They stay at INFO unless an operator configured them on purpose.
_CHATTY_LOGGERS = ("slack_sdk", "slack_bolt")

# The shared session's pool: enough connections for a burst of commands, each kept
# open between calls. slack_sdk passes no timeout with a session of its own, so the
# session carries slack_sdk's default of 30 s.
POOL_CONNECTIONS = 100
KEEPALIVE_SECONDS = 30.0
CALL_TIMEOUT_SECONDS = 30.0


def api_base(url: str) -> str:
    """slack_sdk joins base and method by plain concatenation: keep one trailing slash."""
    return url.rstrip("/") + "/"


def web_client(settings: Settings, token: str | None) -> AsyncWebClient:
    return AsyncWebClient(
        token=token,
        base_url=api_base(settings.slack_api_url),
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackPlatform:
    name = PLATFORM

    def __init__(
        self,
        app: AsyncApp,
        messenger: SlackMessenger,
        *,
        app_token: str | None,
        gate: SlackRequestGate | None,
        refusals: RefusalLog,
        clients: Sequence[AsyncWebClient] = (),
        calls: SlackCalls | None = None,
        acks_first: AcksFirst | None = None,
    ) -> None:
        """`gate` None: no HTTP endpoint for events (Socket Mode without a signing secret).
        `clients`: the Web API clients that share the platform's one aiohttp session."""
        self.app = app
        self._messenger = messenger
        self._app_token = app_token
        self._gate = gate
        self._refusals = refusals
        self._clients = tuple(clients)
        self.calls = calls
        self._acks_first = acks_first or AcksFirst()
        self._session: aiohttp.ClientSession | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._stopped = asyncio.Event()

    @property
    def messenger(self) -> SlackMessenger:
        return self._messenger

    @property
    def session(self) -> aiohttp.ClientSession | None:
        """The shared Web API session while the platform runs; None before and after."""
        return self._session

    async def open_session(self) -> aiohttp.ClientSession:
        """The one session for every Web API client, made on the running loop (once)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=POOL_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_SECONDS),
            )
            for client in self._clients:
                client.session = self._session
        return self._session

    async def _open_on_startup(self, _app: web.Application) -> None:
        await self.open_session()

    async def close_session(self) -> None:
        """Closed once; clients fall back to slack_sdk's session per call afterwards."""
        session, self._session = self._session, None
        for client in self._clients:
            client.session = None
        if session is not None and not session.closed:
            await session.close()

    def add_routes(self, app: web.Application) -> None:
        """`POST /slack/events` in HTTP mode; the OAuth pages when OAuth is configured.
        The shared session opens as the server starts, before the first request."""
        app.on_startup.append(self._open_on_startup)
        if self._gate is not None:
            app.router.add_post("/slack/events", self._dispatch)
        flow = self.app.oauth_flow
        if flow is not None:
            app.router.add_get(flow.install_path, self._install)
            app.router.add_get(flow.redirect_uri_path, self._oauth_redirect)

    async def _dispatch(self, request: web.Request) -> web.Response:
        with self._acks_first.request():
            return await self._acknowledge(request)

    async def _acknowledge(self, request: web.Request) -> web.Response:
        assert self._gate is not None
        try:
            body = await self._gate.admit(request)
            if body is None:
                return web.Response(status=200)  # a replay or a retry already handled
            bolt_request = _bolt_request(request, body)
        except Refused as refused:
            return self._refuse(refused)
        return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

    async def _install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        if len(request.query_string) > oauth.MAX_QUERY:
            return self._refuse(Refused(400, "Slack OAuth install query too long"))
        response = await flow.handle_installation(_bolt_request(request, ""))
        return await to_aiohttp_response(response)

    async def _oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        try:
            oauth.check_callback_query(request.query_string, request.query)
        except Refused as refused:
            return self._refuse(refused)
        response = await flow.handle_callback(_bolt_request(request, ""))
        return await to_aiohttp_response(response)

    def _refuse(self, refused: Refused) -> web.Response:
        self._refusals.note(refused.reason, refused.status)
        return refusal(refused.status, refused.reason)

    async def run(self) -> None:
        """HTTP mode is served by convene's web server; Socket Mode holds a websocket."""
        await self.open_session()
        if self._app_token:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            # slack_bolt declares connect_async/close_async without annotations.
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected")
        await self._stopped.wait()

    @property
    def surface(self) -> SlackCalls | None:
        return self.calls

    async def connected(self) -> bool:
        """HTTP mode is ready once its Web API session is open; Socket Mode also
        needs its websocket up."""
        if self._app_token:
            return self._socket is not None and await self._socket.client.is_connected()
        return self._session is not None and not self._session.closed

    async def stop(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # untyped, as above
            self._socket = None
        await self.close_session()


def _bolt_request(request: web.Request, body: str) -> AsyncBoltRequest:
    """What bolt's `to_bolt_request` builds, from a body already read and verified.

    Bolt reads the team, user and channel out of the body as it builds the request;
    a verified body of an unexpected shape is refused here rather than a 500."""
    headers: dict[str, str | Sequence[str]] = {
        name: request.headers.getall(name) for name in request.headers
    }
    try:
        return AsyncBoltRequest(body=body, query=request.query_string, headers=headers)
    except Exception as exc:  # bolt raises whatever its field lookups hit (TypeError, ...)
        raise Refused(400, "Slack request has an unexpected shape") from exc


def _quiet_libraries() -> None:
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


def build(settings: Settings, service: MeetingService, database: Store) -> SlackPlatform:
    """The Slack platform for these settings; ConfigError names what is missing.
    `database` keeps OAuth installs and states (the app's own store)."""
    use_oauth = bool(settings.slack_client_id and settings.slack_client_secret)
    if bool(settings.slack_client_id) != bool(settings.slack_client_secret):
        raise ConfigError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET must be set together.")
    if not use_oauth and not settings.slack_bot_token:
        raise ConfigError(
            "Slack needs SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (installable in many workspaces)."
        )
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is required to receive Slack requests over HTTP; "
            "or set SLACK_APP_TOKEN to use Socket Mode."
        )
    _quiet_libraries()
    refusals = RefusalLog(log)
    client = web_client(settings, None if use_oauth else settings.slack_bot_token)
    stores = oauth.make_stores(database, service.now) if use_oauth else None
    store = stores[0] if stores else None
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        # SlackRequestGate verifies every request first, by the service's clock.
        request_verification_enabled=False,
        oauth_flow=oauth.oauth_flow(settings, client, stores, refusals) if stores else None,
    )
    if store is not None:
        app.enable_token_revocation_listeners()
    acks_first = AcksFirst()
    Handlers(service, Callers(service.now), acks_first).register(app)
    messenger_client = web_client(settings, None)
    tokens = TokenSource(settings.slack_bot_token, store)
    messenger = SlackMessenger(messenger_client, tokens)
    calls = SlackCalls(
        messenger_client,
        tokens,
        service.surface_state(PLATFORM),
        clock=service.now,
        enabled=partial(service.switched_on, PLATFORM, switch="calls"),
    )
    # Without a signing secret anyone could forge requests: no HTTP endpoint then.
    gate = (
        SlackRequestGate(settings.slack_signing_secret, service.now, service.first_time)
        if settings.slack_signing_secret
        else None
    )
    return SlackPlatform(
        app,
        messenger,
        app_token=settings.slack_app_token,
        gate=gate,
        refusals=refusals,
        clients=(client, messenger_client),
        calls=calls,
        acks_first=acks_first,
    )
