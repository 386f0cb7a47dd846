"""eyeson webhook registration against the loopback eyeson emulator, directly and
through the provider pool's open/close: the documented body, no duplicates, only
convene's own webhook removed, and failures that cost a warning, not the start."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.config import Settings
from bot.providers import ProviderPool
from bot.providers.eyeson import Eyeson, build
from tests.emulators.base import serve
from tests.emulators.eyeson import EyesonEmulator
from tests.moments import next_monday_at

KEY = "ey-secret-key-0123456789"
NOW = next_monday_at(9)
PUBLIC = "https://convene.example.org"
HOOK = f"{PUBLIC}/webhooks/eyeson"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def emulator() -> AsyncIterator[EyesonEmulator]:
    emulator = EyesonEmulator(api_key=KEY)
    async with serve(emulator.app) as base:
        emulator.base = base  # type: ignore[attr-defined]
        yield emulator


def settings(emulator: EyesonEmulator) -> Settings:
    return Settings(eyeson_api_key=KEY, eyeson_api_url=emulator.base)  # type: ignore[attr-defined]


@pytest.fixture
def eyeson(emulator: EyesonEmulator, client: httpx.AsyncClient) -> Eyeson:
    eyeson = build(settings(emulator), client, lambda: NOW)
    eyeson.http.sleep = _no_wait
    return eyeson


async def test_register_posts_the_url_and_the_types_convene_reads(
    eyeson: Eyeson, emulator: EyesonEmulator
) -> None:
    await eyeson.register_webhook(HOOK)
    [call] = emulator.calls("POST", "/webhooks")
    assert call.headers["Authorization"] == KEY
    assert call.json() == {"url": HOOK, "types": "room_update,participant_update"}
    assert [(h["url"], h["types"]) for h in emulator.webhooks.values()] == [
        (HOOK, "room_update,participant_update")
    ]


@pytest.mark.parametrize("single", [False, True])
async def test_registering_again_does_not_duplicate(
    eyeson: Eyeson, emulator: EyesonEmulator, client: httpx.AsyncClient, single: bool
) -> None:
    """Neither in this process nor after a restart (a fresh client asks eyeson),
    whether GET /webhooks answers a list or one object (eyeson's Go client's shape)."""
    emulator.single_webhook = single
    await eyeson.register_webhook(HOOK)
    await eyeson.register_webhook(HOOK)
    await build(settings(emulator), client, lambda: NOW).register_webhook(HOOK)
    assert len(emulator.calls("POST", "/webhooks")) == 1
    assert len(emulator.webhooks) == 1


async def test_a_webhook_missing_a_type_is_registered_anew(
    eyeson: Eyeson, emulator: EyesonEmulator
) -> None:
    emulator.webhooks["old"] = {"id": "old", "url": HOOK, "types": "room_update"}
    await eyeson.register_webhook(HOOK)
    assert len(emulator.calls("POST", "/webhooks")) == 1


async def test_unregister_removes_only_convenes_webhook(
    eyeson: Eyeson, emulator: EyesonEmulator
) -> None:
    elsewhere = {"id": "other", "url": "https://crm.example.com/eyeson", "types": "room_update"}
    emulator.webhooks["other"] = elsewhere
    await eyeson.register_webhook(HOOK)
    await eyeson.unregister_webhook()
    assert list(emulator.webhooks.values()) == [elsewhere]
    await eyeson.unregister_webhook()  # a second time: nothing left to do
    assert len(emulator.calls("DELETE", "/webhooks/")) == 1


async def test_unregister_without_register_touches_nothing(
    eyeson: Eyeson, emulator: EyesonEmulator
) -> None:
    emulator.webhooks["w1"] = {"id": "w1", "url": HOOK, "types": "room_update,participant_update"}
    await eyeson.unregister_webhook()
    assert "w1" in emulator.webhooks and emulator.calls("DELETE") == []


async def test_the_pool_registers_at_open_and_removes_at_close(
    emulator: EyesonEmulator, client: httpx.AsyncClient
) -> None:
    pool = ProviderPool(settings(emulator), client, lambda: NOW)
    await pool.open(PUBLIC + "/")
    assert [h["url"] for h in emulator.webhooks.values()] == [HOOK]
    await pool.close()
    assert emulator.webhooks == {}


async def test_the_pool_without_a_public_url_registers_nothing(
    emulator: EyesonEmulator, client: httpx.AsyncClient
) -> None:
    pool = ProviderPool(settings(emulator), client, lambda: NOW)
    await pool.open(None)
    await pool.close()
    assert emulator.requests == []


async def test_the_pool_skips_eyeson_when_it_is_not_configured(client: httpx.AsyncClient) -> None:
    """Jitsi alone (the default) takes no webhooks: open and close call nobody."""
    pool = ProviderPool(Settings(), client, lambda: NOW)
    await pool.open(PUBLIC)
    await pool.close()


async def test_a_failed_registration_is_one_warning_and_never_raises(
    emulator: EyesonEmulator, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    pool = ProviderPool(settings(emulator), client, lambda: NOW)
    emulator.fail(401, path_contains="/webhooks", method="GET")
    with caplog.at_level(logging.WARNING, logger="bot.providers"):
        await pool.open(PUBLIC)
    warnings = [r for r in caplog.records if r.name == "bot.providers"]
    assert len(warnings) == 1 and "eyeson" in warnings[0].getMessage()
    assert emulator.webhooks == {}
    for record in caplog.records:
        assert KEY not in record.getMessage() and PUBLIC not in record.getMessage()


async def test_a_failed_removal_at_close_is_a_warning_too(
    emulator: EyesonEmulator, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    pool = ProviderPool(settings(emulator), client, lambda: NOW)
    await pool.open(PUBLIC)
    emulator.fail(503, times=10, path_contains="/webhooks")
    pool.get("eyeson").http.sleep = _no_wait  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="bot.providers"):
        await pool.close()
    assert [r for r in caplog.records if r.name == "bot.providers"]
    assert len(emulator.webhooks) == 1  # still there; eyeson keeps posting to a 404


async def _no_wait(seconds: float) -> None:
    return None
