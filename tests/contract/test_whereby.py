"""Whereby client against the loopback Whereby emulator, checked against the OpenAPI.

The spec is read from ../shared/specs next to the repository (never copied in);
without that folder the spec checks skip and the behaviour tests still run.
Meetings are next Monday, seen from today, so the suite passes on any date.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.config import Settings
from bot.ports import RoomSpec
from bot.providers import build_provider, errors
from bot.providers.whereby import (
    NONCE_CHARS,
    PAGE_SIZE,
    PREFIX_MAX,
    SEARCH_PAGES,
    Whereby,
    build,
    request_prefix,
    room_name_prefix,
)
from tests.emulators.base import serve
from tests.emulators.whereby import WherebyEmulator
from tests.fakes import Sleeps
from tests.moments import next_monday_at

KEY = "wb-secret-key-0123456789"
START = next_monday_at(9)
END_DATE = f"{START + timedelta(minutes=30):%Y-%m-%dT%H:%M:%SZ}"
SPEC_FILE = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "whereby-openapi.json"


def spec_for(title: str = "Weekly Sync", invitees: int = 3, instant: bool = True) -> RoomSpec:
    return RoomSpec(
        title=title,
        start=START,
        end=START + timedelta(minutes=30),
        instant=instant,
        organizer_id="U1",
        organizer_name="Ada",
        invitee_count=invitees,
    )


@pytest.fixture
async def emulator() -> AsyncIterator[WherebyEmulator]:
    emulator = WherebyEmulator(api_key=KEY)
    async with serve(emulator.app) as base:
        emulator.base = base  # type: ignore[attr-defined]
        yield emulator


def provider(
    client: httpx.AsyncClient,
    emulator: WherebyEmulator,
    sleeps: Sleeps,
    *,
    key: str = KEY,
    budget: float = 10.0,
) -> Whereby:
    base = emulator.base + "/v1"  # type: ignore[attr-defined]
    whereby = build(Settings(whereby_api_key=key, whereby_api_url=base), client, lambda: START)
    whereby.http.sleep, whereby.http.budget = sleeps, budget
    return whereby


# --- the OpenAPI document ----------------------------------------------------


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    if not SPEC_FILE.parent.parent.is_dir():
        pytest.skip(f"spec folder {SPEC_FILE.parent.parent} is absent; Whereby spec checks skipped")
    if not SPEC_FILE.is_file():
        pytest.skip(f"{SPEC_FILE.name} is not in {SPEC_FILE.parent}; Whereby spec checks skipped")
    document: dict[str, Any] = json.loads(SPEC_FILE.read_text())
    document = copy.deepcopy(document)
    # The list's `cursor` is typed string, yet its description says it is null on the
    # last page; accept both, as the API does.
    listing = document["paths"]["/meetings"]["get"]["responses"]["200"]["content"]
    listing["application/json"]["schema"]["properties"]["cursor"]["type"] = ["string", "null"]
    return document


def validator(openapi: dict[str, Any], pointer: str) -> Draft7Validator:
    resource = Resource.from_contents(openapi, default_specification=DRAFT7)
    registry: Registry[Any] = Registry().with_resource("urn:whereby-openapi", resource)
    return Draft7Validator({"$ref": f"urn:whereby-openapi#{pointer}"}, registry=registry)


def escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def template(path: str) -> str:
    return "/meetings" if path == "/v1/meetings" else "/meetings/{meetingId}"


def check_against_spec(openapi: dict[str, Any], emulator: WherebyEmulator) -> int:
    """Validate every recorded request body and JSON answer; return how many."""
    checked = 0
    for call in emulator.calls("POST", "/v1/meetings"):
        pointer = f"/paths/{escape('/meetings')}/post/requestBody/content/application~1json/schema"
        validator(openapi, pointer).validate(call.json())
        prefix = call.json().get("roomNamePrefix", "")
        assert re.fullmatch(r"[a-z0-9]{0,39}", prefix), "prefix must be wholly [a-z0-9]{0,39}"
        checked += 1
    for answer in emulator.responses:
        operation = openapi["paths"][template(answer.path)][answer.method.lower()]
        assert str(answer.status) in operation["responses"], f"undocumented {answer.status}"
        if answer.status >= 300 or answer.body is None:
            continue
        pointer = (
            f"/paths/{escape(template(answer.path))}/{answer.method.lower()}"
            f"/responses/{answer.status}/content/application~1json/schema"
        )
        validator(openapi, pointer).validate(answer.body)
        checked += 1
    return checked


# --- behaviour -----------------------------------------------------------------


async def test_create_sends_documented_body_and_returns_both_links(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps, openapi: dict[str, Any]
) -> None:
    room = await provider(client, emulator, sleeps).create_room(spec_for("Weekly Sync!"))
    stored = emulator.meetings[room.room_id]
    assert room.join_url == stored["roomUrl"]
    assert room.host_url == stored["hostRoomUrl"] and room.host_url != room.join_url
    call = emulator.calls("POST", "/v1/meetings")[0]
    assert call.headers["Authorization"] == f"Bearer {KEY}"
    body = call.json()
    assert re.fullmatch(rf"weeklysync[0-9a-f]{{{NONCE_CHARS}}}", body.pop("roomNamePrefix"))
    assert body == {"endDate": END_DATE, "roomMode": "normal", "fields": ["hostRoomUrl"]}
    await provider(client, emulator, sleeps).check()  # the list answer, checked too
    assert check_against_spec(openapi, emulator) >= 3


async def test_group_mode_above_four_invitees(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    whereby = provider(client, emulator, sleeps)
    await whereby.create_room(spec_for(invitees=4))
    await whereby.create_room(spec_for(invitees=5))
    modes = [call.json()["roomMode"] for call in emulator.calls("POST")]
    assert modes == ["normal", "group"]


@pytest.mark.parametrize(
    ("title", "prefix"),
    [
        ("Café Stand-up: Q3 planning", "cafestandupq3planning"),
        ("🎉🎉", "meeting"),
        ("", "meeting"),
        ("A" * 80, "a" * PREFIX_MAX),
    ],
)
def test_room_name_prefix_follows_the_spec(title: str, prefix: str) -> None:
    assert room_name_prefix(title) == prefix
    unique = request_prefix(title)
    assert re.fullmatch(r"[a-z0-9]{9,39}", unique) and unique != request_prefix(title)
    assert unique.startswith(prefix[: PREFIX_MAX - NONCE_CHARS])


async def test_end_is_idempotent(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps, openapi: dict[str, Any]
) -> None:
    whereby = provider(client, emulator, sleeps)
    room = await whereby.create_room(spec_for())
    await whereby.end_room(room.room_id)
    assert room.room_id not in emulator.meetings
    await whereby.end_room(room.room_id)
    assert [c.method for c in emulator.calls("DELETE")] == ["DELETE", "DELETE"]
    emulator.fail(404, path_contains="/v1/meetings/")
    await whereby.end_room(room.room_id)  # a 404 also counts as already gone
    check_against_spec(openapi, emulator)


async def test_cancel_deletes_the_room_like_end(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    whereby = provider(client, emulator, sleeps)
    room = await whereby.create_room(spec_for(instant=False))
    await whereby.cancel_room(room.room_id)
    assert room.room_id not in emulator.meetings
    assert [c.path for c in emulator.calls("DELETE")] == [f"/v1/meetings/{room.room_id}"]
    await whereby.cancel_room(room.room_id)  # already gone: success


@pytest.mark.parametrize(
    ("status", "kind", "sentence"),
    [
        (401, errors.AuthError, "Whereby rejected convene's API key"),
        (403, errors.AuthError, "Whereby refused access with convene's API key"),
        (400, errors.InvalidRequest, "Whereby refused the meeting details"),
        (404, errors.NotFound, "Whereby no longer knows this room"),
    ],
)
async def test_documented_errors_become_user_sentences(
    client: httpx.AsyncClient,
    emulator: WherebyEmulator,
    sleeps: Sleeps,
    status: int,
    kind: type[errors.ProviderError],
    sentence: str,
) -> None:
    emulator.fail(status)
    with pytest.raises(kind) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for())
    assert str(caught.value).startswith(sentence)
    assert caught.value.provider == "Whereby"


async def test_wrong_key_is_an_auth_error_from_check(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    await provider(client, emulator, sleeps).check()
    with pytest.raises(errors.AuthError):
        await provider(client, emulator, sleeps, key="wrong").check()


async def test_429_on_create_waits_for_retry_after_and_makes_one_room(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(429, headers={"Retry-After": "3"}, body={"error": "Rate limit active"})
    await provider(client, emulator, sleeps).create_room(spec_for())
    assert sleeps == [3.0]
    assert len(emulator.meetings) == 1


async def test_429_beyond_the_budget_is_rate_limited(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(429, headers={"Retry-After": "60"})
    with pytest.raises(errors.RateLimited) as caught:
        await provider(client, emulator, sleeps).end_room("1000")
    assert caught.value.retry_after == 60.0
    assert "Whereby is rate-limiting convene" in str(caught.value)


async def test_5xx_on_delete_is_retried(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    emulator.fail(502, times=2, path_contains="/v1/meetings/")
    await provider(client, emulator, sleeps).end_room(room.room_id)
    assert len(emulator.calls("DELETE")) == 3 and len(sleeps) == 2
    assert room.room_id not in emulator.meetings


async def test_create_that_timed_out_is_recovered_from_the_list(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps, openapi: dict[str, Any]
) -> None:
    whereby = provider(client, emulator, sleeps)
    for minutes in (15, 45, 60):  # other meetings, so the search pages through cursors
        await whereby.create_room(spec_for())
        last = emulator.meetings[max(emulator.meetings, key=int)]
        last["endDate"] = (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
    emulator.slow_create = 0.5
    slow = provider(client, emulator, sleeps, budget=0.2)
    room = await slow.create_room(spec_for("Weekly Sync"))
    assert len(emulator.calls("POST")) == 4  # the timed-out POST was never repeated
    assert len(emulator.meetings) == 4
    stored = emulator.meetings[room.room_id]
    assert stored["endDate"] == END_DATE
    assert (room.join_url, room.host_url) == (stored["roomUrl"], stored["hostRoomUrl"])
    listing = emulator.calls("GET", "/v1/meetings")
    assert len(listing) == 2 and listing[1].query.get("cursor") == "2"
    assert listing[0].query["fields"] == "hostRoomUrl"
    check_against_spec(openapi, emulator)


async def test_failed_create_with_nothing_in_the_list_reports_unavailable(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(500, path_contains="/v1/meetings")
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for())
    assert "Whereby" in str(caught.value)
    assert len(emulator.calls("POST")) == 1 and len(emulator.calls("GET")) == 1
    assert emulator.meetings == {}


# --- a create whose answer cannot be read ---------------------------------------

UNREADABLE = "Whereby sent an answer convene could not read; try again in a minute."
GARBAGE = {
    "truncated JSON": b'{"meetingId": "10',
    "an HTML error page": b"<html><body>502 Bad Gateway</body></html>",
    "nesting past the parser's limit": b"[" * 100_000,
    "a bare string": b'"created"',
    "nothing": b"",
}


def newest(emulator: WherebyEmulator) -> dict[str, Any]:
    return emulator.meetings[max(emulator.meetings, key=int)]


@pytest.mark.parametrize("raw", list(GARBAGE.values()), ids=list(GARBAGE))
async def test_room_made_behind_an_unreadable_answer_is_recovered(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps, raw: bytes
) -> None:
    """The 201 says a room exists; its body names nothing, so the list is searched."""
    whereby = provider(client, emulator, sleeps)
    other = await whereby.create_room(spec_for())  # same title and end, another request
    emulator.fail(201, after=True, raw=raw, method="POST")
    room = await whereby.create_room(spec_for())
    assert len(emulator.calls("POST")) == 2  # never repeated
    stored = newest(emulator)
    assert room.room_id == stored["meetingId"] != other.room_id
    assert (room.join_url, room.host_url) == (stored["roomUrl"], stored["hostRoomUrl"])
    assert set(emulator.meetings) == {other.room_id, room.room_id}  # nothing unknown left


WRONG_SHAPES = {
    "no roomUrl": lambda m: {k: v for k, v in m.items() if k != "roomUrl"},
    "a javascript: roomUrl": lambda m: {**m, "roomUrl": "javascript:alert(1)"},
    "a roomUrl that is not text": lambda m: {**m, "roomUrl": {"href": m["roomUrl"]}},
    "only the meetingId": lambda m: {"meetingId": m["meetingId"]},
}


@pytest.mark.parametrize("mangle", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
async def test_room_named_by_a_wrong_shaped_answer_is_read_back_by_its_id(
    client: httpx.AsyncClient,
    emulator: WherebyEmulator,
    sleeps: Sleeps,
    mangle: Any,
) -> None:
    emulator.fail(201, after=True, mangle=mangle, method="POST")
    room = await provider(client, emulator, sleeps).create_room(spec_for())
    stored = newest(emulator)
    assert (room.room_id, room.join_url) == (stored["meetingId"], stored["roomUrl"])
    assert room.host_url == stored["hostRoomUrl"]
    (lookup,) = emulator.calls("GET")  # by the room's own id: no list search
    assert lookup.path == f"/v1/meetings/{room.room_id}"
    assert lookup.query["fields"] == "hostRoomUrl"


async def test_room_that_cannot_be_read_back_is_deleted(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(201, after=True, mangle=lambda m: {"meetingId": m["meetingId"]}, method="POST")
    emulator.fail(500, times=4, method="GET")
    with pytest.raises(errors.Unavailable) as caught:
        await provider(client, emulator, sleeps).create_room(spec_for())
    assert str(caught.value) == UNREADABLE
    assert emulator.meetings == {} and len(emulator.deleted) == 1


async def test_recovery_finds_the_room_among_5000_open_ones(
    client: httpx.AsyncClient, sleeps: Sleeps
) -> None:
    """The list has no filter and no order, so the room made last is on the last page."""
    emulator = WherebyEmulator(api_key=KEY, page_size=PAGE_SIZE)
    async with serve(emulator.app) as base:
        emulator.base = base  # type: ignore[attr-defined]
        for _ in range(5000):  # the same title and endDate: only the nonce tells them apart
            emulator.add_meeting(request_prefix("Weekly Sync"), END_DATE)
        emulator.slow_create = 0.5
        room = await provider(client, emulator, sleeps, budget=0.2).create_room(spec_for())
        stored = newest(emulator)
        assert (room.room_id, room.join_url) == (stored["meetingId"], stored["roomUrl"])
        assert len(emulator.meetings) == 5001 and len(emulator.calls("POST")) == 1
        pages = emulator.calls("GET", "/v1/meetings")
        assert len(pages) == 51 <= SEARCH_PAGES  # 100 a page: 5,001 rooms
        assert {page.query["limit"] for page in pages} == {str(PAGE_SIZE)}


async def test_a_cursor_that_repeats_ends_the_search(
    client: httpx.AsyncClient, emulator: WherebyEmulator, sleeps: Sleeps
) -> None:
    emulator.fail(500, method="POST")
    emulator.fail(
        200, times=20, after=True, method="GET", mangle=lambda page: {**page, "cursor": "0"}
    )
    with pytest.raises(errors.Unavailable):
        await provider(client, emulator, sleeps).create_room(spec_for())
    assert len(emulator.calls("GET")) == 2


async def test_key_and_host_link_never_in_errors_or_logs(
    client: httpx.AsyncClient,
    emulator: WherebyEmulator,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    whereby = provider(client, emulator, sleeps, budget=0.2)
    room = await whereby.create_room(spec_for())
    emulator.slow_create = 0.5
    recovered = await whereby.create_room(spec_for())  # the timeout-and-recover path
    emulator.slow_create = 0.0
    texts = []
    for status in (401, 403, 500):
        emulator.fail(status, path_contains="/v1/meetings")
        with pytest.raises(errors.ProviderError) as caught:
            await whereby.create_room(spec_for())
        texts.append(str(caught.value))
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiohttp"))
    for secret in (KEY, room.host_url, recovered.host_url):
        assert secret and secret not in ours and secret not in " ".join(texts)


async def test_build_from_settings(client: httpx.AsyncClient, emulator: WherebyEmulator) -> None:
    settings = Settings(
        provider="whereby",
        whereby_api_key=KEY,
        whereby_api_url=emulator.base + "/v1",  # type: ignore[attr-defined]
        whereby_webhook_secret="whsec",
    )
    whereby = build_provider("whereby", settings, client, lambda: START)
    assert (whereby.name, whereby.label) == ("whereby", "Whereby")
    assert whereby.capabilities.host_link
    await whereby.check()
