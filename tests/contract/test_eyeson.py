"""eyeson client against the loopback eyeson emulator; meetings are next Monday,
seen from today, so the suite passes on any date."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.ports import RoomSpec
from bot.providers import build_provider, errors
from bot.providers.eyeson import Eyeson, build
from tests.emulators.base import serve
from tests.emulators.eyeson import EyesonEmulator
from tests.fakes import Sleeps
from tests.moments import next_monday_at

KEY = "ey-secret-key-0123456789"
START = next_monday_at(9)


def spec_for(instant: bool = True) -> RoomSpec:
    return RoomSpec(
        title="Design review",
        start=START,
        end=START + timedelta(minutes=45),
        instant=instant,
        organizer_id="U1",
        organizer_name="Ada",
    )


@pytest.fixture
async def emulator() -> AsyncIterator[EyesonEmulator]:
    emulator = EyesonEmulator(api_key=KEY)
    async with serve(emulator.app) as base:
        emulator.base = base  # type: ignore[attr-defined]
        yield emulator


def provider(
    client: httpx.AsyncClient,
    emulator: EyesonEmulator,
    sleeps: Sleeps,
    *,
    key: str = KEY,
    budget: float = 10.0,
) -> Eyeson:
    base = emulator.base  # type: ignore[attr-defined]
    eyeson = build(Settings(eyeson_api_key=key, eyeson_api_url=base), client, lambda: START)
    eyeson.http.sleep, eyeson.http.budget = sleeps, budget
    return eyeson


async def test_instant_room_uses_rooms_api_with_raw_key(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    room = await provider(client, emulator, sleeps).create_room(spec_for(instant=True))
    call = emulator.calls("POST", "/rooms")[0]
    assert call.headers["Authorization"] == KEY  # raw key, no "Bearer"
    body = call.json()
    assert re.fullmatch(r"[0-9a-f]{32}", body.pop("id")) and room.room_id == call.json()["id"]
    assert body == {"name": "Design review", "user[id]": "U1", "user[name]": "Ada"}
    stored = emulator.rooms[room.room_id]
    assert room.join_url.endswith(f"?guest={stored['guest_token']}")
    access_key = next(k for k, v in emulator.access_keys.items() if v == room.room_id)
    assert room.host_url and room.host_url.endswith(f"?{access_key}")
    assert emulator.calls("POST", "/permalink") == []


async def test_scheduled_room_uses_permalink_api(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    room = await provider(client, emulator, sleeps).create_room(spec_for(instant=False))
    body = emulator.calls("POST", "/permalink")[0].json()
    assert body["user[name]"] == "Ada"
    assert body["expires_at"] == f"{START + timedelta(minutes=45):%Y-%m-%dT%H:%M:%S}.000Z"
    permalink = emulator.permalinks[room.room_id]
    assert room.join_url.endswith(f"permalink?guest={permalink['guest_token']}")
    assert room.host_url and room.host_url.endswith(f"permalink?{permalink['user_token']}")
    assert room.host_note and "eyeson host link" in room.host_note


async def test_end_instant_room_is_idempotent(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    eyeson = provider(client, emulator, sleeps)
    room = await eyeson.create_room(spec_for())
    await eyeson.end_room(room.room_id)
    assert emulator.rooms[room.room_id]["shutdown"] is True
    await eyeson.end_room(room.room_id)  # now 404s on both paths: already gone
    emulator.fail(410, path_contains="/rooms/")
    await eyeson.end_room(room.room_id)  # 410 gone also counts as success


async def test_end_permalink_shuts_a_running_meeting_and_removes_the_link(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    eyeson = provider(client, emulator, sleeps)
    room = await eyeson.create_room(spec_for(instant=False))
    emulator.start_meeting(room.room_id)
    await eyeson.end_room(room.room_id)
    assert emulator.rooms[room.room_id]["shutdown"] is True
    assert room.room_id not in emulator.permalinks
    assert [c.path for c in emulator.calls("DELETE")] == [
        f"/rooms/{room.room_id}",
        f"/permalink/{room.room_id}",
    ]
    await eyeson.end_room(room.room_id)  # both gone now: still success


async def test_cancel_removes_an_unused_permalink_like_end(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    eyeson = provider(client, emulator, sleeps)
    room = await eyeson.create_room(spec_for(instant=False))
    await eyeson.cancel_room(room.room_id)
    assert room.room_id not in emulator.permalinks
    assert [c.path for c in emulator.calls("DELETE")] == [
        f"/rooms/{room.room_id}",
        f"/permalink/{room.room_id}",
    ]


@pytest.mark.parametrize(
    ("instant", "status", "kind", "sentence"),
    [
        (True, 400, errors.InvalidRequest, "eyeson refused the meeting details"),
        (True, 403, errors.AuthError, "eyeson refused access with convene's API key"),
        (False, 401, errors.AuthError, "eyeson rejected convene's API key"),
        (True, 404, errors.NotFound, "eyeson no longer knows this room"),
        (
            False,
            410,
            errors.Gone,
            "eyeson says this meeting has already shut down, so its links no longer work; "
            "start a new one with /meet.",
        ),
        (
            False,
            423,
            errors.Locked,
            "eyeson says this meeting is locked, so nobody else can join; ask someone in "
            "the meeting to let people in, or start a new one with /meet.",
        ),
    ],
)
async def test_documented_errors_become_user_sentences(
    client: httpx.AsyncClient,
    emulator: EyesonEmulator,
    sleeps: Sleeps,
    instant: bool,
    status: int,
    kind: type[errors.ProviderError],
    sentence: str,
) -> None:
    emulator.fail(status)
    with pytest.raises(kind) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for(instant))
    assert str(caught.value).startswith(sentence)
    assert len(emulator.calls("POST")) == 1


async def test_wrong_key_gets_the_documented_refusals(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    bad = provider(client, emulator, sleeps, key="Bearer " + KEY)
    with pytest.raises(errors.AuthError):
        await bad.create_room(spec_for(instant=True))  # 403 on /rooms
    with pytest.raises(errors.AuthError):
        await bad.create_room(spec_for(instant=False))  # 401 on /permalink
    with pytest.raises(errors.AuthError):
        await bad.check()
    await provider(client, emulator, sleeps).check()


async def test_missing_user_name_is_a_400(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    response = await client.post(
        emulator.base + "/rooms",  # type: ignore[attr-defined]
        json={"name": "x"},
        headers={"Authorization": KEY},
    )
    assert response.status_code == 400


async def test_429_on_delete_honours_retry_after(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    emulator.fail(429, headers={"Retry-After": "4"}, path_contains="/rooms/")
    await provider(client, emulator, sleeps).end_room(room.room_id)
    assert sleeps == [4.0]
    assert emulator.rooms[room.room_id]["shutdown"] is True


async def test_5xx_retried_on_delete_not_on_create(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    eyeson = provider(client, emulator, sleeps)
    room = await eyeson.create_room(spec_for())
    emulator.fail(503, path_contains="/rooms/")
    await eyeson.end_room(room.room_id)
    assert emulator.rooms[room.room_id]["shutdown"] is True
    emulator.fail(500)
    with pytest.raises(errors.Unavailable):
        await eyeson.create_room(spec_for())
    assert len(emulator.calls("POST")) == 2  # one success, one failure, no repeat


async def test_create_timeout_is_not_repeated(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(201, delay=0.5)
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps, budget=0.2).create_room(spec_for())
    assert str(caught.value).startswith("eyeson did not answer in time")
    assert len(emulator.calls("POST")) == 1


# --- a create whose outcome is unknown ---------------------------------------------

UNREADABLE = "eyeson sent an answer convene could not read; try again in a minute."


@pytest.mark.parametrize(
    "fault",
    [{"raw": b'{"access_key": "k'}, {"delay": 0.5}, {"status": 500}],
    ids=["truncated answer", "answer too late", "5xx after making it"],
)
async def test_instant_room_behind_a_lost_answer_is_shut_down_by_its_id(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps, fault: dict[str, Any]
) -> None:
    emulator.fail(**{"status": 201, **fault}, after=True, method="POST")
    with pytest.raises(errors.Unavailable):
        await provider(client, emulator, sleeps, budget=0.2).create_room(spec_for())
    (post,) = emulator.calls("POST")
    (room,) = emulator.rooms.values()
    assert room["id"] == post.json()["id"] and room["shutdown"] is True
    assert [c.path for c in emulator.calls("DELETE")] == [f"/rooms/{room['id']}"]


def hostile_links(answer: Any) -> Any:
    return {**answer, "links": {"gui": "javascript:alert(1)"}}


async def test_permalink_named_by_a_wrong_shaped_answer_is_removed(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(201, after=True, mangle=hostile_links, method="POST")
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for(instant=False))
    assert str(caught.value) == UNREADABLE
    assert emulator.permalinks == {}


async def test_permalink_behind_an_unreadable_answer_cannot_be_found(
    client: httpx.AsyncClient, emulator: EyesonEmulator, sleeps: Sleeps
) -> None:
    """The documented limit: nothing convene sent names a permalink, so it stays
    (unstartable: only the lost host token starts it) and the user is told to retry."""
    emulator.fail(201, after=True, raw=b"<html>Created</html>", method="POST")
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for(instant=False))
    assert str(caught.value) == UNREADABLE
    assert len(emulator.permalinks) == 1 and emulator.calls("DELETE") == []


async def test_key_and_host_link_never_in_errors_or_logs(
    client: httpx.AsyncClient,
    emulator: EyesonEmulator,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    eyeson = provider(client, emulator, sleeps, budget=0.2)
    rooms = [await eyeson.create_room(spec_for(flag)) for flag in (True, False)]
    texts = []
    for status, delay in ((401, 0.0), (410, 0.0), (423, 0.0), (500, 0.0), (201, 0.5)):
        emulator.fail(status, delay=delay)
        with pytest.raises(errors.ProviderError) as caught:
            await eyeson.create_room(spec_for())
        texts.append(str(caught.value))
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))
    for secret in [KEY] + [room.host_url or "" for room in rooms]:
        assert secret and secret not in ours and secret not in " ".join(texts)


async def test_build_from_settings(client: httpx.AsyncClient, emulator: EyesonEmulator) -> None:
    settings = Settings(
        provider="eyeson",
        eyeson_api_key=KEY,
        eyeson_api_url=emulator.base,  # type: ignore[attr-defined]
    )
    eyeson = build_provider("eyeson", settings, client, lambda: START)
    assert (eyeson.name, eyeson.label) == ("eyeson", "eyeson")
    assert eyeson.capabilities.host_link
    await eyeson.check()
