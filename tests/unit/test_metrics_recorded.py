"""Provider calls and failed webhook verifications are counted where they happen:
a provider emulator and convene's webhook routes, over real sockets."""

from __future__ import annotations

import hashlib
import hmac
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from prometheus_client import REGISTRY

from bot.config import Settings
from bot.http import HttpServer, make_http_app
from bot.ports import system_clock
from bot.providers import errors
from bot.providers.http import ProviderHTTP
from bot.providers.webhooks import ProviderEvent
from bot.webhook_routes import add_webhook_routes
from tests.emulators.base import Emulator, serve


class Echo(Emulator):
    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_route("*", "/thing", self.ok)

    async def ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})


async def no_wait(seconds: float) -> None:
    return None


def calls(provider: str, status: str) -> float:
    labels = {"provider": provider, "status": status}
    return REGISTRY.get_sample_value("convene_provider_calls_total", labels) or 0.0


def timed(provider: str) -> float:
    name = "convene_provider_call_duration_seconds_count"
    return REGISTRY.get_sample_value(name, {"provider": provider}) or 0.0


@pytest.fixture
async def echo() -> AsyncIterator[tuple[Echo, str]]:
    emulator = Echo()
    async with serve(emulator.app) as base:
        yield emulator, base


async def test_each_attempt_is_counted_by_status_and_timed(echo: tuple[Echo, str]) -> None:
    emulator, base = echo
    emulator.fail(503)
    before = (calls("acme", "503"), calls("acme", "200"), timed("acme"))
    async with httpx.AsyncClient() as client:
        provider = ProviderHTTP(client, base, "Acme", sleep=no_wait)
        await provider.request("GET", "/thing")  # 503, retried, then 200
    after = (calls("acme", "503"), calls("acme", "200"), timed("acme"))
    assert after == (before[0] + 1, before[1] + 1, before[2] + 2)


async def test_a_timeout_is_counted_as_timeout(echo: tuple[Echo, str]) -> None:
    emulator, base = echo
    emulator.fail(200, delay=1.0)
    before = calls("slowco", "timeout")
    async with httpx.AsyncClient() as client:
        provider = ProviderHTTP(client, base, "SlowCo", sleep=no_wait, budget=0.2)
        with pytest.raises(errors.Unavailable):
            await provider.request("POST", "/thing", json={})
    assert calls("slowco", "timeout") == before + 1


async def test_no_connection_is_counted_as_network() -> None:
    with socket.socket() as sock:  # a port nothing listens on once this closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    before = calls("downco", "network")
    async with httpx.AsyncClient() as client:
        provider = ProviderHTTP(client, f"http://127.0.0.1:{port}", "DownCo", sleep=no_wait)
        with pytest.raises(errors.Unavailable):
            await provider.request("POST", "/thing", json={})
    assert calls("downco", "network") == before + 1


def failed(source: str) -> float:
    name = "convene_webhook_verifications_failed_total"
    return REGISTRY.get_sample_value(name, {"source": source}) or 0.0


@pytest.fixture
async def webhooks() -> AsyncIterator[str]:
    async def sink(event: ProviderEvent) -> None:
        return None

    app = make_http_app()
    settings = Settings(
        whereby_webhook_secret="whsec-1", eyeson_api_key="eyeson-key", metered_secret_key="mk"
    )
    add_webhook_routes(app, settings, sink, system_clock)
    server = HttpServer(app, "127.0.0.1", 0)
    await server.start()
    yield f"http://127.0.0.1:{server.port}"
    await server.stop()


async def test_forged_webhooks_are_counted_by_source(webhooks: str) -> None:
    before = (failed("whereby"), failed("eyeson"))
    async with httpx.AsyncClient() as client:
        whereby = await client.post(
            f"{webhooks}/webhooks/whereby",
            content=b"{}",
            headers={"Whereby-Signature": "t=1,v1=forged"},
        )
        eyeson = await client.post(f"{webhooks}/webhooks/eyeson", content=b"{}")
    assert (whereby.status_code, eyeson.status_code) == (401, 401)
    assert (failed("whereby"), failed("eyeson")) == (before[0] + 1, before[1] + 1)


async def test_a_genuine_but_malformed_webhook_is_not_a_failed_verification(
    webhooks: str,
) -> None:
    body = b"[1, 2, 3]"  # signed correctly, but not a JSON object
    signature = hmac.new(b"eyeson-key", body, hashlib.sha256).hexdigest()
    before = failed("eyeson")
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{webhooks}/webhooks/eyeson", content=body, headers={"X-Eyeson-Signature": signature}
        )
    assert response.status_code == 400
    assert failed("eyeson") == before
