"""Metered client against the loopback Metered emulator; meetings are next Monday,
seen from today, so the suite passes on any date."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.ports import RoomSpec
from bot.providers import build_provider, errors
from bot.providers.metered import Metered, build, room_name, site_url
from bot.providers.webhooks import metered_webhook_token, verify_metered
from tests.emulators.base import serve
from tests.emulators.metered import MeteredEmulator
from tests.fakes import Sleeps
from tests.moments import next_monday_at

KEY = "mt-secret-key-0123456789"
PUBLIC = "https://convene.example.org"
START = next_monday_at(9)
END = START + timedelta(minutes=30)


def spec_for(instant: bool = True, title: str = "Sprint Demo") -> RoomSpec:
    return RoomSpec(
        title=title, start=START, end=END, instant=instant, organizer_id="U1", organizer_name="Ada"
    )


@pytest.fixture
async def emulator() -> AsyncIterator[MeteredEmulator]:
    emulator = MeteredEmulator(secret_key=KEY)
    async with serve(emulator.app) as base:
        emulator.base = base  # type: ignore[attr-defined]
        yield emulator


def provider(
    client: httpx.AsyncClient,
    emulator: MeteredEmulator,
    sleeps: Sleeps,
    *,
    key: str = KEY,
    public_url: str | None = None,
    budget: float = 10.0,
) -> Metered:
    base = emulator.base + "/api/v1"  # type: ignore[attr-defined]
    settings = Settings(metered_secret_key=key, metered_api_url=base, public_url=public_url)
    metered = build(settings, client, lambda: START)
    metered.http.sleep, metered.http.budget = sleeps, budget
    return metered


async def test_instant_room_is_private_with_admin_host_link(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    create, token_call = emulator.calls("POST")
    assert create.path == "/api/v1/room" and create.query == {"secretKey": KEY}
    assert "Authorization" not in create.headers
    assert create.json() == {
        "roomName": room.room_id,
        "privacy": "private",
        "enableRequestToJoin": True,
        "expireUnixSec": int(END.timestamp()) + 600,
        "ejectAtRoomExp": True,
    }
    assert token_call.path == "/api/v1/token"
    assert token_call.json()["isAdmin"] is True
    assert token_call.json()["roomName"] == room.room_id
    base = emulator.base  # type: ignore[attr-defined]
    assert room.join_url == f"{base}/{room.room_id}"
    token = next(iter(emulator.tokens))
    assert room.host_url == f"{room.join_url}?token={token}"
    assert room.room_id.startswith("sprint-demo-")


async def test_scheduled_room_has_not_before_and_webhook_urls(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    metered = provider(client, emulator, sleeps, public_url=PUBLIC + "/")
    room = await metered.create_room(spec_for(instant=False))
    body = emulator.calls("POST", "/room")[0].json()
    assert body["notBeforeUnixSec"] == int(START.timestamp())
    token = metered_webhook_token(KEY, room.room_id)
    url = f"{PUBLIC}/webhooks/metered/{token}"
    for field in ("meetingJoinWebhook", "meetingLeftWebhook"):
        assert body[field] == url
    assert body["meetingStartedWebhook"] == body["meetingEndedWebhook"] == url
    # The URL's token is what verify_metered accepts for this room, and only this room.
    event_body = json.dumps({"event": "meetingEnded", "roomName": room.room_id}).encode()
    event = verify_metered(url.rsplit("/", 1)[1], event_body, KEY)
    assert event is not None and (event.kind, event.room_id) == ("ended", room.room_id)


async def test_end_archives_and_is_idempotent(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    metered = provider(client, emulator, sleeps)
    room = await metered.create_room(spec_for())
    await metered.end_room(room.room_id)
    assert emulator.rooms[room.room_id]["archived"] is True
    await metered.end_room(room.room_id)  # 404 now: already gone
    assert [c.path for c in emulator.calls("DELETE")] == [f"/api/v1/room/{room.room_id}"] * 2


async def test_cancel_archives_the_room_like_end(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    metered = provider(client, emulator, sleeps)
    room = await metered.create_room(spec_for(instant=False))
    await metered.cancel_room(room.room_id)
    assert emulator.rooms[room.room_id]["archived"] is True
    await metered.cancel_room(room.room_id)  # already gone: success


@pytest.mark.parametrize(
    ("status", "kind", "sentence"),
    [
        (400, errors.InvalidRequest, "Metered refused the meeting details"),
        (401, errors.AuthError, "Metered rejected convene's API key"),
        (402, errors.QuotaError, "Metered says this account has run out of credits"),
        (403, errors.AuthError, "Metered refused access with convene's API key"),
    ],
)
async def test_errors_become_user_sentences(
    client: httpx.AsyncClient,
    emulator: MeteredEmulator,
    sleeps: Sleeps,
    status: int,
    kind: type[errors.ProviderError],
    sentence: str,
) -> None:
    emulator.fail(status, body={"success": False, "message": "Invalid request"})
    with pytest.raises(kind) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for())
    assert str(caught.value).startswith(sentence)
    assert "Invalid request" not in str(caught.value)


async def test_wrong_secret_and_bad_body_are_refused_by_the_emulator(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    with pytest.raises(errors.AuthError):
        await provider(client, emulator, sleeps, key="wrong").create_room(spec_for())
    with pytest.raises(errors.AuthError):
        await provider(client, emulator, sleeps, key="wrong").check()
    await provider(client, emulator, sleeps).check()
    response = await client.post(
        emulator.base + "/api/v1/room",  # type: ignore[attr-defined]
        params={"secretKey": KEY},
        json={"roomName": "no-privacy"},
    )
    assert response.status_code == 400
    assert response.json() == {"success": False, "message": "Invalid request"}


async def test_429_retried_honouring_retry_after(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(429, headers={"Retry-After": "2"}, path_contains="/room")
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    assert sleeps == [2.0]
    assert list(emulator.rooms) == [room.room_id]


async def test_5xx_retried_on_delete_not_on_create(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    metered = provider(client, emulator, sleeps)
    room = await metered.create_room(spec_for())
    emulator.fail(500, times=2, path_contains="/room/")
    await metered.end_room(room.room_id)
    assert len(emulator.calls("DELETE")) == 3
    emulator.fail(500, path_contains="/room")
    with pytest.raises(errors.Unavailable):
        await metered.create_room(spec_for())
    assert len(emulator.calls("POST", "/api/v1/room")) == 2


async def test_create_timeout_is_not_repeated(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(200, delay=0.5, path_contains="/room")
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps, budget=0.2).create_room(spec_for())
    assert "cannot tell whether the room was created" in str(caught.value)
    assert len(emulator.calls("POST")) == 1


# --- a create whose outcome is unknown ---------------------------------------------

UNREADABLE = "Metered sent an answer convene could not read; try again in a minute."


def open_rooms(emulator: MeteredEmulator) -> set[str]:
    return {name for name, room in emulator.rooms.items() if not room["archived"]}


@pytest.mark.parametrize(
    "fault",
    [{"status": 200, "delay": 0.5}, {"status": 500}],
    ids=["answer too late", "5xx after making it"],
)
async def test_room_made_behind_a_lost_answer_is_recovered_by_its_name(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps, fault: dict[str, Any]
) -> None:
    emulator.fail(after=True, method="POST", path_contains="/api/v1/room", **fault)
    room = await provider(client, emulator, sleeps, budget=0.2).create_room(spec_for())
    assert open_rooms(emulator) == {room.room_id}
    assert len(emulator.calls("POST", "/api/v1/room")) == 1  # never repeated
    assert [c.path for c in emulator.calls("GET")] == [f"/api/v1/room/{room.room_id}"]
    assert room.host_url == f"{room.join_url}?token={next(iter(emulator.tokens))}"


@pytest.mark.parametrize("made", [False, True], ids=["nothing made", "room made"])
async def test_unreadable_answer_is_checked_against_the_room_name(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps, made: bool
) -> None:
    """A 2xx of garbage (a proxy's page) proves nothing: the name is looked up."""
    emulator.fail(200, after=made, raw=b"<html>OK</html>", method="POST")
    metered = provider(client, emulator, sleeps)
    if made:
        room = await metered.create_room(spec_for())
        assert open_rooms(emulator) == {room.room_id}
    else:
        with pytest.raises(errors.Unavailable) as caught:
            await metered.create_room(spec_for())
        assert str(caught.value) == UNREADABLE
        assert emulator.rooms == {} and emulator.tokens == {}


async def test_room_that_cannot_be_confirmed_is_archived(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(200, after=True, raw=b'{"roomName": "sprint-de', method="POST")
    emulator.fail(500, times=4, method="GET")
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for())
    assert str(caught.value) == UNREADABLE
    (name,) = emulator.rooms
    assert open_rooms(emulator) == set()
    assert [c.path for c in emulator.calls("DELETE")] == [f"/api/v1/room/{name}"]


def another_room(room: Any) -> Any:
    return {**room, "roomName": "someone-elses-room"}


async def test_answer_about_another_room_is_not_believed(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(200, after=True, mangle=another_room, method="POST")
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    assert open_rooms(emulator) == {room.room_id} and room.room_id.startswith("sprint-demo-")
    assert "someone-elses-room" not in room.join_url


async def test_token_failure_still_gives_a_room_with_a_note(
    client: httpx.AsyncClient, emulator: MeteredEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(403, path_contains="/token")
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    assert room.host_url is None and room.host_note and "Metered" in room.host_note
    assert room.room_id in emulator.rooms


async def test_secret_and_host_link_never_in_errors_or_logs(
    client: httpx.AsyncClient,
    emulator: MeteredEmulator,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    metered = provider(client, emulator, sleeps, budget=0.2)
    room = await metered.create_room(spec_for())
    await metered.end_room(room.room_id)
    texts = []
    for status, delay in ((401, 0.0), (400, 0.0), (500, 0.0), (200, 0.5)):
        emulator.fail(status, delay=delay)
        with pytest.raises(errors.ProviderError) as caught:
            await metered.create_room(spec_for())
        texts.append(str(caught.value))
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))
    assert "HTTP Request" in ours  # httpx does log requests, but without the query
    assert room.host_url
    for secret in (KEY, room.host_url, room.host_url.split("token=")[1]):
        assert secret not in ours and secret not in " ".join(texts)


def test_room_names_and_site_url() -> None:
    assert room_name("Sprint Demo: Q3 / Team A!").startswith("sprint-demo-q3-team-a-")
    assert room_name("🎉").startswith("meeting-")
    assert room_name("x") != room_name("x")
    assert site_url("https://acme.metered.live/api/v1/") == "https://acme.metered.live"
    assert site_url("https://proxy.example/metered") == "https://proxy.example"


async def test_build_from_settings(client: httpx.AsyncClient, emulator: MeteredEmulator) -> None:
    settings = Settings(
        provider="metered",
        metered_app="acme",
        metered_secret_key=KEY,
        metered_api_url=emulator.base + "/api/v1",  # type: ignore[attr-defined]
        public_url=PUBLIC,
    )
    metered = build_provider("metered", settings, client, lambda: START)
    assert (metered.name, metered.label) == ("metered", "Metered")
    assert metered.capabilities.host_link
    await metered.check()
    room = await metered.create_room(spec_for())
    assert emulator.calls("POST", "/room")[0].json()["meetingEndedWebhook"].startswith(PUBLIC)
    assert room.join_url.startswith(emulator.base)  # type: ignore[attr-defined]
    by_app = build(Settings(metered_app="acme", metered_secret_key=KEY), client, lambda: START)
    assert by_app.http.base_url == "https://acme.metered.live/api/v1"
