"""Join and leave webhooks, from the provider emulators through convene's webhook
routes on a real HTTP server: each event names the person the personal link was
made for (their key) and what the room showed (their name); a forged one is
refused and reaches nobody. The routes' clock is next Monday, seen from today."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from aiohttp import web

from bot.config import Settings
from bot.ports import Person, RoomSpec
from bot.providers import build_provider
from bot.providers.webhooks import ProviderEvent
from bot.webhook_routes import add_webhook_routes
from tests.emulators.base import serve
from tests.emulators.eyeson import EyesonEmulator
from tests.emulators.metered import MeteredEmulator
from tests.emulators.whereby import WherebyEmulator
from tests.moments import next_monday_at

NOW = next_monday_at(10, 5)
ADA = Person(key="slack:U777", name="Ada Byron")
WB_SECRET = "wb-webhook-secret"
EY_KEY = "ey-api-key-0123"
MT_KEY = "mt-secret-key"


def spec() -> RoomSpec:
    return RoomSpec(
        title="Design review",
        start=NOW,
        end=NOW + timedelta(minutes=45),
        instant=True,
        organizer_id="U1",
        organizer_name="Olga",
    )


class Convene:
    """convene's webhook routes on a loopback server, collecting what they accept."""

    def __init__(self, base: str, events: list[ProviderEvent]) -> None:
        self.base, self.events = base, events


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
async def convene() -> AsyncIterator[Convene]:
    events: list[ProviderEvent] = []

    async def sink(event: ProviderEvent) -> None:
        events.append(event)

    settings = Settings(
        whereby_webhook_secret=WB_SECRET, eyeson_api_key=EY_KEY, metered_secret_key=MT_KEY
    )
    app = web.Application()
    add_webhook_routes(app, settings, sink, lambda: NOW)
    async with serve(app) as base:
        yield Convene(base, events)


async def test_whereby_join_and_leave_name_the_personal_links_person(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    emulator = WherebyEmulator(api_key="wb-key", webhook_secret=WB_SECRET)
    async with serve(emulator.app) as base:
        settings = Settings(whereby_api_key="wb-key", whereby_api_url=f"{base}/v1")
        whereby = build_provider("whereby", settings, client, lambda: NOW)
        room = await whereby.create_room(spec())
        link = await whereby.personal_link(room.room_id, ADA, join_url=room.join_url)
    joined_at, left_at = NOW - timedelta(minutes=3), NOW - timedelta(seconds=10)
    # what Whereby reports is what the link told it on joining
    params = {k: v[0] for k, v in parse_qs(urlsplit(link or "").query).items()}
    url = f"{convene.base}/webhooks/whereby"
    for kind, at in (("room.client.joined", joined_at), ("room.client.left", left_at)):
        response = await emulator.post_event(client, url, kind, room.room_id, at, **params)
        assert response.status_code == 200
    assert [(e.kind, e.room_id, e.participant, e.participant_key) for e in convene.events] == [
        ("joined", room.room_id, "Ada Byron", ADA.key),
        ("left", room.room_id, "Ada Byron", ADA.key),
    ]
    assert [e.at for e in convene.events] == [joined_at, left_at]


async def test_whereby_guest_without_a_personal_link_is_a_name_only(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    emulator = WherebyEmulator(webhook_secret=WB_SECRET)
    url = f"{convene.base}/webhooks/whereby"
    response = await emulator.post_event(
        client, url, "room.client.joined", "1000", NOW, displayName="Walk-in", participantId="p9"
    )
    assert response.status_code == 200
    [event] = convene.events
    assert (event.participant, event.participant_key) == ("Walk-in", None)


async def test_whereby_forged_signature_is_refused(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    forger = WherebyEmulator(webhook_secret="not-the-secret")
    response = await forger.post_event(
        client,
        f"{convene.base}/webhooks/whereby",
        "room.client.joined",
        "1000",
        NOW,
        displayName="Mallory",
        externalId=ADA.key,
    )
    assert response.status_code == 401
    assert convene.events == [] and WB_SECRET not in response.text


async def test_eyeson_guest_join_and_leave_carry_the_registered_key(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    emulator = EyesonEmulator(api_key=EY_KEY)
    async with serve(emulator.app) as base:
        settings = Settings(eyeson_api_key=EY_KEY, eyeson_api_url=base)
        eyeson = build_provider("eyeson", settings, client, lambda: NOW)
        await eyeson.register_webhook(f"{convene.base}/webhooks/eyeson")  # type: ignore[attr-defined]
        room = await eyeson.create_room(spec())
        link = await eyeson.personal_link(room.room_id, ADA, join_url=room.join_url)
    guest = emulator.guests[(link or "").rsplit("?", 1)[1]]
    user = {"id": guest["id"], "name": guest["name"], "guest": True}
    for online in (True, False):
        [response] = await emulator.post_participant(client, room.room_id, user, online=online)
        assert response.status_code == 200
    assert [(e.kind, e.room_id, e.participant, e.participant_key) for e in convene.events] == [
        ("joined", room.room_id, "Ada Byron", ADA.key),
        ("left", room.room_id, "Ada Byron", ADA.key),
    ]
    assert all(e.at is None for e in convene.events)  # eyeson sends no event time


async def test_eyeson_forged_signature_is_refused(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    forger = EyesonEmulator(api_key="another-key")
    forger.webhooks["w"] = {
        "id": "w",
        "url": f"{convene.base}/webhooks/eyeson",
        "types": "participant_update",
    }
    [response] = await forger.post_participant(
        client, "r1", {"id": ADA.key, "name": "Mallory"}, online=True
    )
    assert response.status_code == 401 and convene.events == []


async def test_metered_join_and_leave_carry_the_tokens_external_id(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    emulator = MeteredEmulator(secret_key=MT_KEY)
    async with serve(emulator.app) as base:
        settings = Settings(
            metered_secret_key=MT_KEY, metered_api_url=f"{base}/api/v1", public_url=convene.base
        )
        metered = build_provider("metered", settings, client, lambda: NOW)
        room = await metered.create_room(spec())
        link = await metered.personal_link(room.room_id, ADA, join_url=room.join_url)
    token = parse_qs(urlsplit(link or "").query)["token"][0]
    for joined in (True, False):
        response = await emulator.post_event(
            client, room.room_id, joined=joined, name="Ada Byron", token=token
        )
        assert response.status_code == 200
    await emulator.post_event(client, room.room_id, joined=True, name="Walk-in")
    assert [(e.kind, e.room_id, e.participant, e.participant_key) for e in convene.events] == [
        ("joined", room.room_id, "Ada Byron", ADA.key),
        ("left", room.room_id, "Ada Byron", ADA.key),
        ("joined", room.room_id, "Walk-in", None),
    ]


async def test_metered_forged_token_is_refused(
    convene: Convene, client: httpx.AsyncClient
) -> None:
    body = {"event": "participantJoined", "roomName": "design-1a2b", "participantName": "M"}
    response = await client.post(f"{convene.base}/webhooks/metered/{'0' * 32}", json=body)
    assert response.status_code == 401 and convene.events == []
