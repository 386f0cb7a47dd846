"""The Slack platform: bolt's AsyncApp wired to convene's service and HTTP server.

Three ways to run, chosen by which variables are set:
- HTTP mode (SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET): Slack posts signed
  requests to `POST /slack/events` on convene's aiohttp server.
- Socket Mode (SLACK_APP_TOKEN): bolt's aiohttp Socket Mode client on the
  shared loop; no public URL needed.
- OAuth (SLACK_CLIENT_ID + SLACK_CLIENT_SECRET): many workspaces, installed at
  `/slack/install`; each workspace's bot token comes from the installation store.
Every Web API call goes to SLACK_API_URL and retries 429s after Retry-After.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import oauth
from adapters.slack.callers import PLATFORM, Callers
from adapters.slack.handlers import Handlers
from adapters.slack.messenger import SlackMessenger, TokenSource
from bot.config import ConfigError, Settings
from bot.service import MeetingService

log = logging.getLogger(__name__)

# At DEBUG these libraries log whole request bodies, which carry host links.
# They stay at INFO unless an operator configured them on purpose.
_CHATTY_LOGGERS = ("slack_sdk", "slack_bolt")


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
        serve_events: bool,
    ) -> None:
        self.app = app
        self._messenger = messenger
        self._app_token = app_token
        self._serve_events = serve_events
        self._socket: AsyncSocketModeHandler | None = None
        self._stopped = asyncio.Event()

    @property
    def messenger(self) -> SlackMessenger:
        return self._messenger

    def add_routes(self, app: web.Application) -> None:
        """`POST /slack/events` in HTTP mode; the OAuth pages when OAuth is configured."""
        if self._serve_events:
            app.router.add_post("/slack/events", self._dispatch)
        flow = self.app.oauth_flow
        if flow is not None:
            app.router.add_get(flow.install_path, self._install)
            app.router.add_get(flow.redirect_uri_path, self._oauth_redirect)

    async def _dispatch(self, request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await self.app.async_dispatch(await to_bolt_request(request))
        )

    async def _install(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        response = await flow.handle_installation(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def _oauth_redirect(self, request: web.Request) -> web.Response:
        flow = self.app.oauth_flow
        assert flow is not None
        response = await flow.handle_callback(await to_bolt_request(request))
        return await to_aiohttp_response(response)

    async def run(self) -> None:
        """HTTP mode is served by convene's web server; Socket Mode holds a websocket."""
        if self._app_token:
            self._socket = AsyncSocketModeHandler(self.app, self._app_token)
            # slack_bolt declares connect_async/close_async without annotations.
            await self._socket.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack Socket Mode connected")
        await self._stopped.wait()

    async def stop(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]  # untyped, as above
            self._socket = None


def _quiet_libraries() -> None:
    for name in _CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


def build(settings: Settings, service: MeetingService) -> SlackPlatform:
    """The Slack platform for these settings; ConfigError names what is missing."""
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
    client = web_client(settings, None if use_oauth else settings.slack_bot_token)
    store = oauth.make_store(settings) if use_oauth else None
    app = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret or "",
        oauth_settings=oauth.oauth_settings(settings, client, store) if store else None,
    )
    if store is not None:
        app.enable_token_revocation_listeners()
    Handlers(service, Callers(service.now)).register(app)
    messenger = SlackMessenger(
        web_client(settings, None), TokenSource(settings.slack_bot_token, store)
    )
    return SlackPlatform(
        app,
        messenger,
        app_token=settings.slack_app_token,
        # Without a signing secret anyone could forge requests: no HTTP endpoint then.
        serve_events=bool(settings.slack_signing_secret),
    )
