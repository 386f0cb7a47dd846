"""The Upclass client against the loopback Upclass emulator over a real socket.

Meetings are next Monday, seen from today, so the suite passes on any date."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.ports import RoomSpec
from bot.providers import errors
from bot.providers.upclass import UpclassProvider, build
from tests.emulators.base import serve
from tests.emulators.upclass import Meeting, UpclassEmulator
from tests.moments import next_monday_at

KEY = "uc_live_5ecret_key_for_tests"
START = next_monday_at(10)


def iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def make(base: str, client: httpx.AsyncClient, *, key: str = KEY) -> UpclassProvider:
    settings = Settings(upclass_api_key=key, upclass_api_url=f"{base}/api/v1/")
    return build(settings, client, lambda: START)


def spec(**changes: object) -> RoomSpec:
    values: dict[str, object] = {
        "title": "Sales demo",
        "start": START,
        "end": START + timedelta(minutes=45),
        "instant": False,
        "organizer_id": "U123",
        "organizer_name": "Ann Lee",
    }
    values.update(changes)
    return RoomSpec(**values)  # type: ignore[arg-type]


@pytest.fixture
def emulator() -> UpclassEmulator:
    return UpclassEmulator(api_key=KEY)


@pytest.fixture
async def base(emulator: UpclassEmulator) -> AsyncIterator[str]:
    async with serve(emulator.app) as url:
        yield url


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def upclass(base: str, client: httpx.AsyncClient, sleeps: list[float]) -> UpclassProvider:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    upclass = make(base, client)
    upclass.http.sleep = sleep
    return upclass


# --- success paths ------------------------------------------------------------


async def test_create_makes_a_secured_meeting_with_the_organizer_as_host(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    room = await upclass.create_room(spec())
    meeting = emulator.meetings[room.room_id]
    assert room.join_url == f"https://meet.upclass.test/{room.room_id}/"
    assert room.host_url == meeting.participants["U123"]["join_url"]
    assert room.host_url is not None
    assert room.host_url.startswith(room.join_url + "?token=")
    assert room.host_note is None

    (call,) = emulator.calls("POST")
    assert call.path == "/api/v1/meetings/"
    assert call.headers["X-API-KEY"] == KEY
    assert call.headers["Content-Type"] == "application/json"
    assert call.json() == {
        "topic": "Sales demo",
        "start_date_time": iso(START),
        "expires_at": iso(START + timedelta(minutes=105)),
        "is_secured": True,
        "feedback_required": True,
        "participants": [{"display_name": "Ann Lee", "external_user_id": "U123", "role": "host"}],
    }


async def test_instant_meeting_without_feedback_has_no_start(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    await upclass.create_room(spec(instant=True, feedback=False, organizer_name=""))
    body = emulator.calls("POST")[0].json()
    assert "start_date_time" not in body
    assert body["feedback_required"] is False and body["is_secured"] is True
    assert body["participants"][0]["display_name"] == "U123"


async def test_capabilities_and_names(upclass: UpclassProvider) -> None:
    assert (upclass.name, upclass.label) == ("upclass", "Upclass")
    assert upclass.capabilities.host_link


async def test_end_and_end_again(upclass: UpclassProvider, emulator: UpclassEmulator) -> None:
    room = await upclass.create_room(spec())
    await upclass.end_room(room.room_id)
    assert emulator.meetings[room.room_id].status == "ended"
    assert emulator.calls("DELETE")[0].path == f"/api/v1/meetings/{room.room_id}/"
    assert not emulator.calls("GET")
    await upclass.end_room(room.room_id)  # Upclass refuses; its status says closed, so fine
    assert [c.path for c in emulator.calls("GET")] == [f"/api/v1/meetings/{room.room_id}/"]
    await upclass.end_room("NOPE-NOPE-NOPE")  # unknown: already gone


async def test_a_refused_end_of_an_open_meeting_is_an_error(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    room = await upclass.create_room(spec())
    emulator.fail(400, body={"error": "Bad request", "detail": "no"})
    with pytest.raises(errors.InvalidRequest):
        await upclass.end_room(room.room_id)
    assert emulator.meetings[room.room_id].status == "active"


async def test_cancel_a_meeting_nobody_joined(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    room = await upclass.create_room(spec())
    await upclass.cancel_room(room.room_id)
    assert emulator.meetings[room.room_id].status == "expired"
    assert emulator.calls("POST")[-1].path == f"/api/v1/meetings/{room.room_id}/cancel/"
    assert not emulator.calls("DELETE")
    await upclass.cancel_room(room.room_id)  # again: refused, but its status says closed
    assert emulator.calls("GET")[-1].path == f"/api/v1/meetings/{room.room_id}/"
    await upclass.cancel_room("NOPE-NOPE-NOPE")
    assert emulator.meetings[room.room_id].status == "expired"


async def test_cancel_after_someone_joined_ends_the_meeting(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    room = await upclass.create_room(spec())
    emulator.mark_joined(room.room_id)
    await upclass.cancel_room(room.room_id)
    assert emulator.meetings[room.room_id].status == "ended"
    assert len(emulator.calls("POST", "/cancel/")) == 1
    assert len(emulator.calls("DELETE")) == 1


async def test_add_participant_is_idempotent(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    room = await upclass.create_room(spec())
    link = await upclass.add_participant(room.room_id, "U999", "Bo")
    assert link == emulator.meetings[room.room_id].participants["U999"]["join_url"]
    assert emulator.meetings[room.room_id].participants["U999"]["role"] == "attendee"
    assert await upclass.add_participant(room.room_id, "U999", "Bo") == link
    assert emulator.calls("GET", "/participants/U999/")


async def test_check_is_an_authenticated_list(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    await upclass.check()
    (call,) = emulator.calls("GET")
    assert call.path == "/api/v1/meetings/" and call.query == {"limit": "1"}
    assert call.headers["X-API-KEY"] == KEY


# --- a create whose outcome is unknown ---------------------------------------------

UNREADABLE = "Upclass sent an answer convene could not read; try again in a minute."
CREATE = "/api/v1/meetings/"


def created(emulator: UpclassEmulator) -> Meeting:
    (meeting,) = emulator.meetings.values()
    return meeting


WRONG_SHAPES = {
    "no join_url": lambda m: {k: v for k, v in m.items() if k != "join_url"},
    "a javascript: join_url": lambda m: {**m, "join_url": "javascript:alert(1)"},
    "only the code": lambda m: {"meeting_code": m["meeting_code"]},
}


@pytest.mark.parametrize("mangle", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
async def test_meeting_named_by_a_wrong_shaped_answer_is_read_back_by_its_code(
    upclass: UpclassProvider, emulator: UpclassEmulator, mangle: Any
) -> None:
    emulator.fail(201, after=True, mangle=mangle, method="POST", path_contains=CREATE)
    room = await upclass.create_room(spec())
    meeting = created(emulator)
    assert (room.room_id, room.join_url) == (meeting.code, meeting.join_url)
    assert room.host_url == meeting.participants["U123"]["join_url"]
    assert meeting.status == "active"
    assert [c.path for c in emulator.calls("POST")] == [CREATE]
    assert [c.path for c in emulator.calls("GET")] == [f"{CREATE}{meeting.code}/"]


async def test_meeting_that_cannot_be_read_back_is_cancelled(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    only_code = WRONG_SHAPES["only the code"]
    emulator.fail(201, after=True, mangle=only_code, method="POST", path_contains=CREATE)
    emulator.fail(500, times=4, method="GET")
    with pytest.raises(errors.Unavailable) as caught:
        await upclass.create_room(spec())
    assert str(caught.value) == UNREADABLE
    assert created(emulator).status == "expired"  # cancelled: nobody had joined


def no_people(meeting: Any) -> Any:
    return {**meeting, "participants": []}


async def test_meeting_whose_host_cannot_be_registered_is_cancelled(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    """Without the host's link a secured meeting is half-made: cancel it, say why."""
    emulator.fail(201, after=True, mangle=no_people, method="POST", path_contains=CREATE)
    emulator.fail(500, times=4, path_contains="/participants/")
    with pytest.raises(errors.Unavailable):
        await upclass.create_room(spec())
    assert created(emulator).status == "expired"


@pytest.mark.parametrize("raw", [b'{"meeting_code": "AB', b"<html>", b"[" * 100_000])
async def test_unreadable_answer_without_a_code_is_unavailable(
    upclass: UpclassProvider, emulator: UpclassEmulator, raw: bytes
) -> None:
    """The documented limit: nothing convene sent names the meeting, so it stays
    (nobody holds its links; it expires at expires_at) and the user is told to retry."""
    emulator.fail(201, after=True, raw=raw, method="POST")
    with pytest.raises(errors.Unavailable) as caught:
        await upclass.create_room(spec())
    assert str(caught.value) == UNREADABLE
    assert created(emulator).status == "active"


# --- the emulator holds the documented line -------------------------------------


async def test_emulator_requires_trailing_slashes_and_known_fields(
    base: str, client: httpx.AsyncClient
) -> None:
    headers = {"X-API-KEY": KEY}
    assert (await client.get(f"{base}/api/v1/meetings", headers=headers)).status_code == 404
    typo = await client.post(f"{base}/api/v1/meetings/", headers=headers, json={"title": "x"})
    assert typo.status_code == 400
    unsecured = await client.post(
        f"{base}/api/v1/meetings/", headers=headers, json={"feedback_required": True}
    )
    assert unsecured.status_code == 400
    assert unsecured.json()["error"] == "Meeting is not secured"


# --- errors -------------------------------------------------------------------


async def test_out_of_credits_is_a_quota_error(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    emulator.credits = 0
    with pytest.raises(errors.QuotaError) as caught:
        await upclass.create_room(spec())
    assert str(caught.value) == (
        "Upclass says this account is out of credits; ask an admin to top up or switch "
        "provider with /meet config provider <name>."
    )


async def test_bad_key_is_an_auth_error(base: str, client: httpx.AsyncClient) -> None:
    wrong = make(base, client, key="wrong")
    with pytest.raises(errors.AuthError) as caught:
        await wrong.check()
    assert "Upclass" in str(caught.value) and "key" in str(caught.value)


async def test_inactive_key_is_an_auth_error(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    emulator.active_key = False
    with pytest.raises(errors.AuthError) as caught:
        await upclass.check()
    assert "Upclass says convene's API key is inactive" in str(caught.value)


async def test_duplicate_participant_is_a_conflict(
    upclass: UpclassProvider, emulator: UpclassEmulator
) -> None:
    emulator.fail(409, body={"error": "Participant already registered", "detail": "duplicate"})
    with pytest.raises(errors.Conflict) as caught:
        await upclass.create_room(spec())
    assert str(caught.value).startswith("Upclass says this person is already registered")


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.InvalidRequest),
        (401, errors.AuthError),
        (402, errors.QuotaError),
        (403, errors.AuthError),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (500, errors.Unavailable),
    ],
)
async def test_documented_statuses_map_to_the_error_tree(
    upclass: UpclassProvider, emulator: UpclassEmulator, status: int, kind: type[Exception]
) -> None:
    emulator.fail(status, body={"error": "Something", "detail": "secret detail"})
    with pytest.raises(kind) as caught:
        await upclass.create_room(spec())
    assert "Upclass" in str(caught.value)
    assert "secret detail" not in str(caught.value)


async def test_429_is_retried_after_the_given_delay(
    upclass: UpclassProvider, emulator: UpclassEmulator, sleeps: list[float]
) -> None:
    emulator.fail(429, headers={"Retry-After": "3"})
    await upclass.check()
    assert sleeps == [3.0]
    assert len(emulator.calls("GET")) == 2


async def test_429_without_relief_becomes_rate_limited(
    upclass: UpclassProvider, emulator: UpclassEmulator, sleeps: list[float]
) -> None:
    emulator.fail(429, times=10, headers={"Retry-After": "2"})
    with pytest.raises(errors.RateLimited) as caught:
        await upclass.check()
    assert caught.value.retry_after == 2.0
    assert sleeps == [2.0, 2.0, 2.0]
    assert "Upclass" in str(caught.value)


async def test_5xx_on_create_is_not_repeated(
    upclass: UpclassProvider, emulator: UpclassEmulator, sleeps: list[float]
) -> None:
    emulator.fail(502)
    with pytest.raises(errors.Unavailable):
        await upclass.create_room(spec())
    assert len(emulator.calls("POST")) == 1 and sleeps == []


async def test_5xx_on_end_is_retried(
    upclass: UpclassProvider, emulator: UpclassEmulator, sleeps: list[float]
) -> None:
    room = await upclass.create_room(spec())
    emulator.fail(503)
    await upclass.end_room(room.room_id)
    assert len(emulator.calls("DELETE")) == 2 and len(sleeps) == 1
    assert emulator.meetings[room.room_id].status == "ended"


async def test_slow_create_times_out_as_unavailable(
    base: str, client: httpx.AsyncClient, emulator: UpclassEmulator
) -> None:
    hasty = make(base, client)
    hasty.http.budget = 0.2
    emulator.fail(201, delay=1.0)
    with pytest.raises(errors.Unavailable) as caught:
        await hasty.create_room(spec())
    assert "did not answer in time" in str(caught.value)
    assert len(emulator.calls("POST")) == 1


async def test_slow_end_times_out_as_unavailable(
    base: str, client: httpx.AsyncClient, emulator: UpclassEmulator
) -> None:
    async def no_wait(seconds: float) -> None:
        return None

    hasty = make(base, client)
    hasty.http.sleep, hasty.http.budget = no_wait, 0.3
    emulator.fail(200, times=5, delay=1.0)
    with pytest.raises(errors.Unavailable):
        await hasty.end_room("ABCD-EFGH-IJKL")


async def test_key_and_host_link_stay_out_of_errors_and_logs(
    base: str,
    client: httpx.AsyncClient,
    upclass: UpclassProvider,
    emulator: UpclassEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    room = await upclass.create_room(spec())
    assert room.host_url
    token = room.host_url.split("token=")[1]
    failures: list[errors.ProviderError] = []
    for status in (400, 401, 402, 403, 409, 500):
        emulator.fail(status, body={"error": "x", "detail": f"{KEY} {room.host_url}"})
        with pytest.raises(errors.ProviderError) as caught:
            await upclass.create_room(spec())
        failures.append(caught.value)
    wrong = make(base, client, key=KEY + "x")
    with pytest.raises(errors.AuthError) as caught_auth:
        await wrong.check()
    failures.append(caught_auth.value)
    for failure in failures:
        assert KEY not in str(failure) and token not in str(failure)
    assert KEY not in caplog.text and token not in caplog.text
