"""Personal links against the loopback provider emulators over real sockets.

A personal link is the person's own way in: it names them (and carries their
key where the provider can hold one) and is never the host's link, nor a link
with host or admin powers. Meetings are next Monday, seen from today."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bot.config import Settings
from bot.ports import Person, Provider, RoomSpec
from bot.providers import build_provider, errors
from tests.emulators.base import serve
from tests.emulators.edcast import EdCastEmulator
from tests.emulators.eyeson import EyesonEmulator
from tests.emulators.metered import MeteredEmulator
from tests.emulators.upclass import UpclassEmulator
from tests.emulators.whereby import WherebyEmulator
from tests.moments import next_monday_at

START = next_monday_at(10)
ADA = Person(key="slack:U777", name="Ada Byron")
GRACE = Person(key="discord:81234567890123456", name="Grace")


def spec(*, instant: bool = True) -> RoomSpec:
    return RoomSpec(
        title="Design review",
        start=START,
        end=START + timedelta(minutes=45),
        instant=instant,
        organizer_id="U1",
        organizer_name="Olga Organizer",
    )


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


# --- Whereby -------------------------------------------------------------------


async def test_whereby_link_is_the_room_url_with_name_and_key(client: httpx.AsyncClient) -> None:
    emulator = WherebyEmulator(api_key="wb-key")
    async with serve(emulator.app) as base:
        settings = Settings(whereby_api_key="wb-key", whereby_api_url=f"{base}/v1")
        whereby = build_provider("whereby", settings, client, lambda: START)
        room = await whereby.create_room(spec())
        calls = len(emulator.requests)
        link = await whereby.personal_link(room.room_id, ADA, join_url=room.join_url)
    assert link is not None and room.host_url is not None
    assert urlsplit(link)._replace(query="").geturl() == room.join_url
    assert query(link) == {"displayName": ["Ada Byron"], "externalId": ["slack:U777"]}
    assert "roomKey" not in link and link != room.host_url
    assert len(emulator.requests) == calls  # built from the room URL, no API call
    assert whereby.capabilities.personal_link


async def test_whereby_never_passes_a_host_key_on(client: httpx.AsyncClient) -> None:
    """Even handed a link with a roomKey (a host link by mistake), it gives none."""
    settings = Settings(whereby_api_key="wb-key")
    whereby = build_provider("whereby", settings, client, lambda: START)
    host = "https://convene-test.whereby.com/r-1?roomKey=host-secret&lang=de"
    link = await whereby.personal_link("1000", GRACE, join_url=host)
    assert link is not None and "host-secret" not in link and "roomKey" not in link
    assert query(link) == {
        "lang": ["de"],
        "displayName": ["Grace"],
        "externalId": ["discord:81234567890123456"],
    }


# --- eyeson --------------------------------------------------------------------


@pytest.fixture
async def eyeson_emulator() -> AsyncIterator[EyesonEmulator]:
    emulator = EyesonEmulator(api_key="ey-key")
    async with serve(emulator.app) as base:
        emulator.base = base  # type: ignore[attr-defined]
        yield emulator


@pytest.fixture
def eyeson(eyeson_emulator: EyesonEmulator, client: httpx.AsyncClient) -> Provider:
    base = eyeson_emulator.base  # type: ignore[attr-defined]
    settings = Settings(eyeson_api_key="ey-key", eyeson_api_url=base)
    return build_provider("eyeson", settings, client, lambda: START)


@pytest.mark.parametrize("instant", [True, False])
async def test_eyeson_link_registers_a_guest_with_name_and_key(
    eyeson: Provider, eyeson_emulator: EyesonEmulator, instant: bool
) -> None:
    room = await eyeson.create_room(spec(instant=instant))
    link = await eyeson.personal_link(room.room_id, ADA, join_url=room.join_url)
    assert link is not None and link not in (room.host_url, room.join_url)
    call = eyeson_emulator.calls("POST", "/guests/")[-1]
    token = query(room.join_url)["guest"][0]
    assert call.path == f"/guests/{token}"
    assert call.json() == {"name": "Ada Byron", "id": "slack:U777"}
    guest = eyeson_emulator.guests[link.rsplit("?", 1)[1]]
    assert guest == {"id": ADA.key, "name": ADA.name, "guest": True, "room_id": room.room_id}
    # the host's access key is not the guest's
    assert link.rsplit("?", 1)[1] not in (room.host_url or "")


async def test_eyeson_two_people_get_two_links(
    eyeson: Provider, eyeson_emulator: EyesonEmulator
) -> None:
    room = await eyeson.create_room(spec())
    ada = await eyeson.personal_link(room.room_id, ADA, join_url=room.join_url)
    grace = await eyeson.personal_link(room.room_id, GRACE, join_url=room.join_url)
    assert ada and grace and ada != grace


async def test_eyeson_without_a_guest_token_has_no_personal_link(
    eyeson: Provider, eyeson_emulator: EyesonEmulator
) -> None:
    assert await eyeson.personal_link("r1", ADA, join_url="https://app.eyeson.test/?x") is None
    assert eyeson_emulator.calls("POST", "/guests/") == []


async def test_eyeson_refusal_is_a_provider_error_without_the_token(
    eyeson: Provider, eyeson_emulator: EyesonEmulator
) -> None:
    """A shut-down room's guest token is refused; the error text names no link."""
    room = await eyeson.create_room(spec())
    await eyeson.end_room(room.room_id)
    with pytest.raises(errors.NotFound) as refused:
        await eyeson.personal_link(room.room_id, ADA, join_url=room.join_url)
    assert query(room.join_url)["guest"][0] not in str(refused.value)


# --- Metered -------------------------------------------------------------------


async def test_metered_link_is_a_participant_token_with_name_and_key(
    client: httpx.AsyncClient,
) -> None:
    emulator = MeteredEmulator(secret_key="mt-key")
    async with serve(emulator.app) as base:
        settings = Settings(metered_secret_key="mt-key", metered_api_url=f"{base}/api/v1")
        metered = build_provider("metered", settings, client, lambda: START)
        room = await metered.create_room(spec())
        link = await metered.personal_link(room.room_id, ADA, join_url=room.join_url)
    assert link is not None and room.host_url is not None
    assert link.startswith(f"{room.join_url}?token=") and link != room.host_url
    issued = emulator.tokens[query(link)["token"][0]]
    assert issued["isAdmin"] is False
    assert (issued["roomName"], issued["name"], issued["externalUserId"]) == (
        room.room_id,
        "Ada Byron",
        "slack:U777",
    )
    host = emulator.tokens[query(room.host_url)["token"][0]]
    assert host["isAdmin"] is True  # the host's stays the only admin token
    assert "mt-key" not in link


# --- Upclass -------------------------------------------------------------------


async def test_upclass_link_registers_an_attendee(client: httpx.AsyncClient) -> None:
    emulator = UpclassEmulator(api_key="uc-key")
    async with serve(emulator.app) as base:
        settings = Settings(upclass_api_key="uc-key", upclass_api_url=f"{base}/api/v1/")
        upclass = build_provider("upclass", settings, client, lambda: START)
        room = await upclass.create_room(spec())
        link = await upclass.personal_link(room.room_id, ADA, join_url=room.join_url)
        again = await upclass.personal_link(room.room_id, ADA, join_url=room.join_url)
    people = emulator.meetings[room.room_id].participants
    assert people["slack:U777"]["role"] == "attendee"
    assert people["slack:U777"]["display_name"] == "Ada Byron"
    assert link == people["slack:U777"]["join_url"] == again  # a second ask, the same link
    assert link not in (room.host_url, room.join_url)
    assert people["U1"]["role"] == "host"


async def test_upclass_never_hands_out_a_host_registration(client: httpx.AsyncClient) -> None:
    """A person whose key is already registered as host (an organizer id that
    happens to look like a key) gets an error, not the host's link."""
    emulator = UpclassEmulator(api_key="uc-key")
    async with serve(emulator.app) as base:
        settings = Settings(upclass_api_key="uc-key", upclass_api_url=f"{base}/api/v1/")
        upclass = build_provider("upclass", settings, client, lambda: START)
        organizer = Person(key="U1", name="Olga Organizer")
        room = await upclass.create_room(spec())
        with pytest.raises(errors.Conflict) as refused:
            await upclass.personal_link(room.room_id, organizer, join_url=room.join_url)
    assert room.host_url is not None and room.host_url not in str(refused.value)


# --- EdCast --------------------------------------------------------------------


async def test_edcast_has_no_personal_links(client: httpx.AsyncClient) -> None:
    emulator = EdCastEmulator(api_key="ed-key")
    async with serve(emulator.app) as base:
        settings = Settings(edcast_api_key="ed-key", edcast_api_url=f"{base}/api/developer/v1")
        edcast = build_provider("edcast", settings, client, lambda: START)
        room = await edcast.create_room(spec())
        calls = len(emulator.requests)
        assert await edcast.personal_link(room.room_id, ADA, join_url=room.join_url) is None
    assert len(emulator.requests) == calls
    assert not edcast.capabilities.personal_link
