"""`POST /webhooks/<provider>`: verify, de-duplicate, hand to the service.

Verification is the providers' own pure functions (bot.providers.webhooks);
this module only adapts HTTP to them, and gives Whereby's replay window the
service's clock. Every route reads at most MAX_BODY_BYTES (413), lets the
provider's check run on the raw bytes before anything is parsed (401), and
answers 400 for a genuine body that is not a bounded JSON object. Refusals are
a short reason, never an echo of what was sent, and are counted by one
`RefusalLog` rather than logged one by one. Replays are the service's to ignore
(it records event ids).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.config import Settings
from bot.inbound_limits import RefusalLog, Refused, read_body, refusal
from bot.observability import WEBHOOK_VERIFICATIONS_FAILED
from bot.ports import Clock
from bot.providers.webhooks import (
    ProviderEvent,
    WebhookMalformed,
    WebhookRejected,
    verify_eyeson,
    verify_metered,
    verify_whereby,
)

log = logging.getLogger(__name__)

EventSink = Callable[[ProviderEvent], Awaitable[None]]
Check = Callable[[str, web.Request, bytes], ProviderEvent | None]  # (secret, request, body)


def add_webhook_routes(
    app: web.Application, settings: Settings, sink: EventSink, clock: Clock
) -> None:
    refusals = RefusalLog(log)

    def route(
        provider: str, secret: str | None, off: str, verify: Check
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        """`off` answers 404 while the provider is not configured."""

        async def handle(request: web.Request) -> web.Response:
            if not secret:
                return refusal(404, off)
            try:
                body = await read_body(request)
                event = verify(secret, request, body)
            except Refused as refused:
                return _refuse(refusals, refused.status, f"{provider} webhook: {refused.reason}")
            except WebhookMalformed as exc:  # verified, but not a bounded JSON object
                return _refuse(refusals, 400, str(exc))
            except WebhookRejected as exc:
                WEBHOOK_VERIFICATIONS_FAILED.labels(source=provider.lower()).inc()
                return _refuse(refusals, 401, str(exc))
            if event is not None:
                await sink(event)
            return web.json_response({"ok": True})

        return handle

    app.router.add_post(
        "/webhooks/whereby",
        route(
            "Whereby",
            settings.whereby_webhook_secret,
            "Whereby webhooks are off: WHEREBY_WEBHOOK_SECRET is not set",
            lambda secret, request, body: verify_whereby(request.headers, body, secret, clock()),
        ),
    )
    app.router.add_post(
        "/webhooks/eyeson",
        route(
            "eyeson",
            settings.eyeson_api_key,
            "eyeson is not configured",
            lambda secret, request, body: verify_eyeson(request.headers, body, secret),
        ),
    )
    app.router.add_post(
        "/webhooks/metered/{token}",
        route(
            "Metered",
            settings.metered_secret_key,
            "Metered is not configured",
            lambda secret, request, body: verify_metered(request.match_info["token"], body, secret),
        ),
    )


def _refuse(refusals: RefusalLog, status: int, reason: str) -> web.Response:
    refusals.note(reason, status)
    return refusal(status, reason)
