"""`POST /webhooks/<provider>`: verify, de-duplicate, hand to the service.

Verification is the providers' own pure functions (bot.providers.webhooks);
this module only adapts HTTP to them, and gives Whereby's replay window the
service's clock. A rejected request gets 401 and a short
reason, never an echo of what was sent.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import Settings
from bot.ports import Clock
from bot.providers.webhooks import (
    ProviderEvent,
    WebhookRejected,
    verify_eyeson,
    verify_metered,
    verify_whereby,
)

log = logging.getLogger(__name__)

EventSink = Callable[[ProviderEvent], Awaitable[None]]


def add_webhook_routes(
    app: web.Application, settings: Settings, sink: EventSink, clock: Clock
) -> None:
    async def whereby(request: web.Request) -> web.Response:
        if not settings.whereby_webhook_secret:
            return _refuse("Whereby webhooks are off: WHEREBY_WEBHOOK_SECRET is not set", 404)
        body = await request.read()
        return await _accept(
            lambda: verify_whereby(
                request.headers, body, settings.whereby_webhook_secret or "", clock()
            ),
            sink,
        )

    async def eyeson(request: web.Request) -> web.Response:
        if not settings.eyeson_api_key:
            return _refuse("eyeson is not configured", 404)
        body = await request.read()
        return await _accept(
            lambda: verify_eyeson(request.headers, body, settings.eyeson_api_key or ""), sink
        )

    async def metered(request: web.Request) -> web.Response:
        if not settings.metered_secret_key:
            return _refuse("Metered is not configured", 404)
        body = await request.read()
        token = request.match_info["token"]
        return await _accept(
            lambda: verify_metered(token, body, settings.metered_secret_key or ""), sink
        )

    app.router.add_post("/webhooks/whereby", whereby)
    app.router.add_post("/webhooks/eyeson", eyeson)
    app.router.add_post("/webhooks/metered/{token}", metered)


async def _accept(verify: Callable[[], ProviderEvent | None], sink: EventSink) -> web.Response:
    try:
        event = verify()
    except WebhookRejected as exc:
        log.warning("webhook rejected: %s", exc)
        return _refuse(str(exc), 401)
    if event is not None:
        await sink(event)
    return web.json_response({"ok": True})


def _refuse(reason: str, status: int) -> web.Response:
    return web.json_response({"ok": False, "error": reason}, status=status)
