"""convene's HTTP server: health, provider webhooks, and whatever routes the
platforms add (Slack's /slack/events, OAuth). One aiohttp app on the shared loop."""

from __future__ import annotations

import logging

from aiohttp import web

log = logging.getLogger(__name__)


def make_http_app() -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", _healthz)
    return app


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
