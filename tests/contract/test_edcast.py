"""The EdCast client against the loopback EdCast emulator over a real socket.

Meetings are next Monday, seen from today, so the suite passes on any date."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from bot.config import Settings
from bot.ports import RoomSpec
from bot.providers import errors
from bot.providers.edcast import EdCastProvider, build
from tests.emulators.base import serve
from tests.emulators.edcast import EdCastEmulator
from tests.moments import next_monday_at

KEY = "sk_live_5ecretkeyfortests"
START = next_monday_at(14, 30)
MONTHLY = (
    "EdCast's free plan allows 10 API meetings a month and this workspace has used them; "
    "ask an admin to upgrade or switch provider with /meet config provider <name>."
)


UNREADABLE = "EdCast sent an answer convene could not read; try again in a minute."


def spec(**changes: object) -> RoomSpec:
    values: dict[str, object] = {
        "title": "Weekly Team Sync",
        "start": START,
        "end": START + timedelta(minutes=30),
        "instant": False,
        "organizer_id": "U123",
        "organizer_name": "Ann Lee",
    }
    values.update(changes)
    return RoomSpec(**values)  # type: ignore[arg-type]


@pytest.fixture
def emulator() -> EdCastEmulator:
    return EdCastEmulator(api_key=KEY)


@pytest.fixture
async def base(emulator: EdCastEmulator) -> AsyncIterator[str]:
    async with serve(emulator.app) as url:
        yield f"{url}/api/developer/v1"


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make(base: str, client: httpx.AsyncClient, *, key: str = KEY) -> EdCastProvider:
    return build(Settings(edcast_api_key=key, edcast_api_url=base), client, lambda: START)


@pytest.fixture
def edcast(base: str, client: httpx.AsyncClient, sleeps: list[float]) -> EdCastProvider:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    edcast = make(base, client)
    edcast.http.sleep = sleep
    return edcast


# --- success paths ------------------------------------------------------------


async def test_scheduled_meeting_is_normal_with_an_end_date(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    room = await edcast.create_room(spec())
    meeting = emulator.meetings[int(room.room_id)]
    assert room.join_url == meeting["join_link"]
    assert room.extra == {"meeting_code": meeting["meeting_code"]}
    assert len(meeting["meeting_code"]) == 10
    assert room.host_url is None
    assert room.host_note is not None and "one link for everyone" in room.host_note

    (call,) = emulator.calls("POST")
    assert call.path == "/api/developer/v1/meetings"
    assert call.headers["X-API-Key"] == KEY
    assert call.headers["Content-Type"] == "application/json"
    assert call.json() == {
        "type": "normal",
        "title": "Weekly Team Sync",
        "end_date": f"{START + timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}",
    }


async def test_instant_meeting(edcast: EdCastProvider, emulator: EdCastEmulator) -> None:
    await edcast.create_room(spec(instant=True))
    assert emulator.calls("POST")[0].json() == {"type": "instant", "title": "Weekly Team Sync"}
    await edcast.create_room(spec(instant=True, title=""))
    assert emulator.calls("POST")[1].json() == {"type": "instant"}


async def test_capabilities_and_names(edcast: EdCastProvider) -> None:
    assert (edcast.name, edcast.label) == ("edcast", "EdCast")
    assert not edcast.capabilities.host_link


async def test_end_and_end_again(edcast: EdCastProvider, emulator: EdCastEmulator) -> None:
    room = await edcast.create_room(spec(instant=True))
    await edcast.end_room(room.room_id)
    assert int(room.room_id) not in emulator.meetings
    assert emulator.calls("DELETE")[0].path == f"/api/developer/v1/meetings/{room.room_id}"
    assert emulator.calls("DELETE")[0].headers["X-API-Key"] == KEY
    await edcast.end_room(room.room_id)  # 404 now: already gone is success
    assert len(emulator.calls("DELETE")) == 2


async def test_cancel_deletes_the_meeting_like_end(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    room = await edcast.create_room(spec())
    await edcast.cancel_room(room.room_id)
    assert int(room.room_id) not in emulator.meetings
    await edcast.cancel_room(room.room_id)  # already gone: success


async def test_check_is_an_authenticated_list(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    await edcast.check()
    (call,) = emulator.calls("GET")
    assert call.path == "/api/developer/v1/meetings" and call.headers["X-API-Key"] == KEY


async def test_emulator_validates_documented_fields(base: str, client: httpx.AsyncClient) -> None:
    headers = {"X-API-Key": KEY}
    for body in ({"type": "scheduled"}, {"kind": "instant"}, {"end_date": "soon"}):
        answer = await client.post(f"{base}/meetings", headers=headers, json=body)
        assert answer.status_code == 400
        assert answer.json() == {
            "success": False,
            "error": "Validation error",
            "message": answer.json()["message"],
        }


# --- errors -------------------------------------------------------------------


async def test_monthly_limit_after_ten_meetings(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    for _ in range(10):
        await edcast.create_room(spec(instant=True))
    with pytest.raises(errors.QuotaError) as caught:
        await edcast.create_room(spec(instant=True))
    assert str(caught.value) == MONTHLY
    assert len(emulator.calls("POST")) == 11
    emulator.new_month()
    await edcast.create_room(spec(instant=True))


async def test_inactive_account_is_an_auth_error(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    emulator.active = False
    with pytest.raises(errors.AuthError) as caught:
        await edcast.create_room(spec())
    assert "EdCast says this organization's account is inactive" in str(caught.value)
    assert not isinstance(caught.value, errors.QuotaError)


async def test_bad_key_is_an_auth_error(base: str, client: httpx.AsyncClient) -> None:
    wrong = make(base, client, key="sk_live_wrong")
    with pytest.raises(errors.AuthError) as caught:
        await wrong.check()
    assert "EdCast" in str(caught.value) and "key" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [
        (400, "Validation error", errors.InvalidRequest),
        (401, "Invalid API Key", errors.AuthError),
        (403, "Account inactive", errors.AuthError),
        (403, "Monthly limit reached", errors.QuotaError),
        (404, "Meeting not found", errors.NotFound),
        (500, "Internal server error", errors.Unavailable),
    ],
)
async def test_documented_errors_map_to_the_error_tree(
    edcast: EdCastProvider,
    emulator: EdCastEmulator,
    status: int,
    error: str,
    kind: type[Exception],
) -> None:
    emulator.fail(status, body={"success": False, "error": error, "message": "secret detail"})
    with pytest.raises(kind) as caught:
        await edcast.create_room(spec())
    assert "EdCast" in str(caught.value) and "secret detail" not in str(caught.value)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ("Monthly limit reached", errors.QuotaError),
        ("Invalid API Key", errors.AuthError),
        ("Validation error", errors.InvalidRequest),
        ("Something new", errors.ProviderError),
    ],
)
async def test_success_false_on_200_is_a_failure(
    edcast: EdCastProvider, emulator: EdCastEmulator, error: str, kind: type[Exception]
) -> None:
    emulator.fail(200, body={"success": False, "error": error, "message": "nope"})
    with pytest.raises(kind) as caught:
        await edcast.create_room(spec())
    assert "EdCast" in str(caught.value)


async def test_answer_without_envelope_is_a_failure(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    emulator.fail(201, body={"id": 1, "join_link": "https://edcast.test/x"})
    with pytest.raises(errors.ProviderError) as caught:
        await edcast.create_room(spec())
    assert isinstance(caught.value, errors.Unavailable)
    assert str(caught.value) == UNREADABLE


# --- a create whose outcome is unknown ---------------------------------------------


def without_link(answer: Any) -> Any:
    return {**answer, "data": {k: v for k, v in answer["data"].items() if k != "join_link"}}


def hostile_link(answer: Any) -> Any:
    return {**answer, "data": {**answer["data"], "join_link": "javascript:alert(1)"}}


def hostile_list(answer: Any) -> Any:
    return {**answer, "data": [hostile_link({"data": m})["data"] for m in answer["data"]]}


@pytest.mark.parametrize("mangle", [without_link, hostile_link])
async def test_meeting_named_by_a_wrong_shaped_answer_is_recovered_by_its_id(
    edcast: EdCastProvider, emulator: EdCastEmulator, mangle: Any
) -> None:
    emulator.fail(201, after=True, mangle=mangle, method="POST")
    room = await edcast.create_room(spec())
    (meeting,) = emulator.meetings.values()
    assert (room.room_id, room.join_url) == (str(meeting["id"]), meeting["join_link"])
    assert [c.path for c in emulator.calls("GET")] == ["/api/developer/v1/meetings"]
    assert len(emulator.calls("POST")) == 1


async def test_meeting_that_cannot_be_read_back_is_deleted(
    edcast: EdCastProvider, emulator: EdCastEmulator
) -> None:
    emulator.fail(201, after=True, mangle=hostile_link, method="POST")
    emulator.fail(200, after=True, mangle=hostile_list, method="GET")
    with pytest.raises(errors.Unavailable) as caught:
        await edcast.create_room(spec())
    assert str(caught.value) == UNREADABLE
    assert emulator.meetings == {} and len(emulator.calls("DELETE")) == 1


@pytest.mark.parametrize("raw", [b'{"success": true, "data": {"id": 12', b"<html>", b"[" * 100_000])
async def test_unreadable_answer_without_an_id_is_unavailable(
    edcast: EdCastProvider, emulator: EdCastEmulator, raw: bytes
) -> None:
    """The documented limit: nothing convene sent names the meeting, so it stays (its
    link is known to nobody; it ends at its end_time) and the user is told to retry."""
    emulator.fail(201, after=True, raw=raw, method="POST")
    with pytest.raises(errors.Unavailable) as caught:
        await edcast.create_room(spec())
    assert str(caught.value) == UNREADABLE
    assert len(emulator.meetings) == 1 and emulator.calls("DELETE") == []


async def test_429_is_retried_after_the_given_delay(
    edcast: EdCastProvider, emulator: EdCastEmulator, sleeps: list[float]
) -> None:
    room = await edcast.create_room(spec())
    emulator.fail(429, headers={"Retry-After": "4"})
    await edcast.end_room(room.room_id)
    assert sleeps == [4.0]
    assert len(emulator.calls("DELETE")) == 2
    assert int(room.room_id) not in emulator.meetings


async def test_5xx_on_create_is_not_repeated(
    edcast: EdCastProvider, emulator: EdCastEmulator, sleeps: list[float]
) -> None:
    emulator.fail(500, body={"success": False, "error": "Internal server error"})
    with pytest.raises(errors.Unavailable):
        await edcast.create_room(spec())
    assert len(emulator.calls("POST")) == 1 and sleeps == []
    assert emulator.created_this_month == 0


async def test_5xx_on_check_is_retried(
    edcast: EdCastProvider, emulator: EdCastEmulator, sleeps: list[float]
) -> None:
    emulator.fail(500, times=2)
    await edcast.check()
    assert len(emulator.calls("GET")) == 3 and len(sleeps) == 2


async def test_slow_create_times_out_as_unavailable(
    base: str, client: httpx.AsyncClient, emulator: EdCastEmulator
) -> None:
    hasty = make(base, client)
    hasty.http.budget = 0.2
    emulator.fail(201, delay=1.0)
    with pytest.raises(errors.Unavailable) as caught:
        await hasty.create_room(spec())
    assert "EdCast did not answer in time" in str(caught.value)


async def test_slow_delete_times_out_as_unavailable(
    base: str, client: httpx.AsyncClient, emulator: EdCastEmulator
) -> None:
    async def no_wait(seconds: float) -> None:
        return None

    hasty = make(base, client)
    hasty.http.sleep, hasty.http.budget = no_wait, 0.3
    emulator.fail(200, times=5, delay=1.0)
    with pytest.raises(errors.Unavailable):
        await hasty.end_room("1245")


async def test_key_stays_out_of_errors_and_logs(
    base: str,
    client: httpx.AsyncClient,
    edcast: EdCastProvider,
    emulator: EdCastEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[errors.ProviderError] = []
    for status in (200, 400, 401, 403, 404, 500):
        emulator.fail(status, body={"success": False, "error": "x", "message": KEY})
        with pytest.raises(errors.ProviderError) as caught:
            await edcast.create_room(spec())
        failures.append(caught.value)
    wrong = make(base, client, key=KEY + "x")
    with pytest.raises(errors.AuthError) as caught_auth:
        await wrong.check()
    failures.append(caught_auth.value)
    assert all(KEY not in str(failure) for failure in failures)
    assert KEY not in caplog.text
