"""`/meet` on each provider, configured as an operator would (CONVENE_PROVIDER, the key,
`<NAME>_API_URL`), against that provider's loopback emulator: the join link reaches the
channel, the host link only the organizer, and a documented failure gives its sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from bot.config import Settings
from tests.emulators.base import Emulator, serve
from tests.emulators.edcast import EdCastEmulator
from tests.emulators.eyeson import EyesonEmulator
from tests.emulators.metered import MeteredEmulator
from tests.emulators.upclass import UpclassEmulator
from tests.emulators.whereby import WherebyEmulator
from tests.fakes import Harness, make_harness


@dataclass
class Setup:
    emulator: Callable[[], Emulator]
    env: Callable[[str], dict[str, str]]  # base URL -> environment
    has_host_link: bool


SETUPS = {
    "whereby": Setup(
        lambda: WherebyEmulator(api_key="wb-key"),
        lambda base: {"WHEREBY_API_KEY": "wb-key", "WHEREBY_API_URL": f"{base}/v1"},
        True,
    ),
    "eyeson": Setup(
        lambda: EyesonEmulator(api_key="ey-key"),
        lambda base: {"EYESON_API_KEY": "ey-key", "EYESON_API_URL": base},
        True,
    ),
    "metered": Setup(
        lambda: MeteredEmulator(secret_key="mt-key"),
        lambda base: {
            "METERED_APP": "acme",
            "METERED_SECRET_KEY": "mt-key",
            "METERED_API_URL": f"{base}/api/v1",
        },
        True,
    ),
    "upclass": Setup(
        lambda: UpclassEmulator(api_key="uc-key"),
        lambda base: {"UPCLASS_API_KEY": "uc-key", "UPCLASS_API_URL": f"{base}/api/v1/"},
        True,
    ),
    "edcast": Setup(
        lambda: EdCastEmulator(api_key="ed-key"),
        lambda base: {"EDCAST_API_KEY": "ed-key", "EDCAST_API_URL": f"{base}/api/developer/v1"},
        False,
    ),
}


@dataclass
class Wired:
    h: Harness
    emulator: Emulator
    env: dict[str, str]


@pytest.fixture(params=sorted(SETUPS))
async def wired(request: pytest.FixtureRequest) -> AsyncIterator[Wired]:
    name: str = request.param
    setup = SETUPS[name]
    emulator = setup.emulator()
    async with serve(emulator.app) as base, httpx.AsyncClient() as client:
        env = {"CONVENE_PROVIDER": name, **setup.env(base)}
        settings = Settings.from_env(env)
        h = make_harness(settings=settings, client=client, provider=settings.provider)
        try:
            yield Wired(h, emulator, env)
        finally:
            await h.core.store.close()


async def test_meet_posts_join_link_publicly_and_host_link_privately(wired: Wired) -> None:
    name = wired.env["CONVENE_PROVIDER"]
    reply = await wired.h.platform.run("/meet Design review at 15:00 for 45m")
    assert reply.ok, reply.text
    [(_, card)] = wired.h.platform.cards
    assert card.join_url and card.join_url.startswith("http")
    [note] = reply.private
    if SETUPS[name].has_host_link:
        assert note.link and note.link != card.join_url
        assert note.link not in wired.h.platform.public_text()
    else:
        assert note.link is None and "one link" in note.text.lower()
    assert wired.emulator.calls("POST"), "the provider was never asked for a room"


async def test_ending_closes_the_room_at_the_provider(wired: Wired) -> None:
    await wired.h.platform.run("/meet Retro")
    meeting_id = wired.h.platform.cards[0][1].meeting_id
    reply = await wired.h.platform.run(f"/meet end {meeting_id}")
    assert reply.ok, reply.text
    assert wired.emulator.calls("DELETE"), "the room was left open at the provider"


@pytest.mark.parametrize("status", [401, 402, 500])
async def test_provider_failure_reaches_the_user_naming_the_provider(
    wired: Wired, status: int
) -> None:
    wired.emulator.fail(status, times=10)
    reply = await wired.h.platform.run("/meet Retro")
    label = wired.h.core.provider_label(wired.env["CONVENE_PROVIDER"])
    assert not reply.ok and label in reply.text
    assert wired.h.platform.cards == []
    for secret in wired.env.values():
        if secret.endswith("-key"):
            assert secret not in reply.text
