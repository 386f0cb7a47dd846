"""convene's HTTP server: health, provider webhooks, and whatever routes the
platforms add (Slack's /slack/events, OAuth). One aiohttp app on the shared loop.

Routes refuse bad requests themselves (bot.inbound_limits). As a last line, an
exception a handler did not expect becomes a short 500 and is counted by a
`RefusalLog` (its traceback logged once per kind), instead of aiohttp's
traceback for every request that hits it.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.inbound_limits import MAX_BODY_BYTES, RefusalLog, refusal
from bot.ops_routes import request_ids

log = logging.getLogger(__name__)


def make_http_app() -> web.Application:
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[request_ids, _last_resort(RefusalLog(log, what="unexpected error"))],
    )
    app.router.add_get("/healthz", _healthz)
    return app


def _last_resort(errors: RefusalLog) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise  # aiohttp's own answers (404, 405, 413, redirects)
        except Exception as exc:
            # The route's pattern, not the path: a path may carry a token.
            route = request.match_info.route.resource
            where = route.canonical if route is not None else "?"
            errors.note(f"unexpected {type(exc).__name__} in {where}", 500, exc_info=exc)
            return refusal(500, "internal error")

    return middleware


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


class HttpServer:
    """Starts the app on CONVENE_HTTP_HOST:CONVENE_HTTP_PORT; `port` is the bound one."""

    def __init__(self, app: web.Application, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("HTTP server listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
