"""ProviderHTTP against a tiny loopback server: retries, budget, status mapping."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.providers import errors
from bot.providers.http import ProviderHTTP, backoff, link, text
from tests.emulators.base import Emulator, serve
from tests.fakes import Sleeps

SECRET = "query-secret-123"


class Echo(Emulator):
    """Answers 200 {"ok": true} on /thing for GET, POST and DELETE."""

    def routes(self, router: web.UrlDispatcher) -> None:
        for method in ("GET", "POST", "DELETE"):
            router.add_route(method, "/thing", self.ok)

    async def ok(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True})


@pytest.fixture
async def echo() -> AsyncIterator[tuple[Echo, str]]:
    emulator = Echo()
    async with serve(emulator.app) as base:
        yield emulator, base


def make(
    client: httpx.AsyncClient, base: str, sleeps: Sleeps, budget: float = 10.0
) -> ProviderHTTP:
    return ProviderHTTP(
        client, base, "Acme", params={"secretKey": SECRET}, sleep=sleeps, budget=budget
    )


async def test_success_passes_query_auth(client: httpx.AsyncClient, echo: tuple[Echo, str]) -> None:
    emulator, base = echo
    response = await make(client, base, Sleeps()).request("GET", "/thing", params={"a": "1"})
    assert response.json() == {"ok": True}
    assert emulator.requests[0].query == {"secretKey": SECRET, "a": "1"}


async def test_429_waits_for_retry_after_then_succeeds(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(429, headers={"Retry-After": "2"})
    sleeps = Sleeps()
    response = await make(client, base, sleeps).request("POST", "/thing", json={})
    assert response.status_code == 200
    assert sleeps == [2.0]  # jitter on attempt 1 is at most 0.25 s, so Retry-After wins
    assert len(emulator.calls("POST")) == 2  # a 429 is retried even for a create


async def test_429_beyond_budget_raises_rate_limited_without_waiting(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(429, headers={"Retry-After": "30"})
    sleeps = Sleeps()
    with pytest.raises(errors.RateLimited) as caught:
        await make(client, base, sleeps, budget=5.0).request("GET", "/thing")
    assert caught.value.retry_after == 30.0
    assert sleeps == []
    assert "Acme" in str(caught.value)


async def test_5xx_retried_on_idempotent_calls_with_growing_backoff(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(503, times=2)
    sleeps = Sleeps()
    response = await make(client, base, sleeps).request("DELETE", "/thing")
    assert response.status_code == 200
    assert len(emulator.calls("DELETE")) == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.25 and 0 <= sleeps[1] <= 0.5


async def test_5xx_gives_up_after_max_attempts(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(500, times=10)
    with pytest.raises(errors.Unavailable):
        await make(client, base, Sleeps()).request("GET", "/thing")
    assert len(emulator.calls("GET")) == 4


async def test_5xx_on_post_is_not_retried(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(500)
    sleeps = Sleeps()
    with pytest.raises(errors.Unavailable):
        await make(client, base, sleeps).request("POST", "/thing", json={})
    assert len(emulator.calls("POST")) == 1
    assert sleeps == []


async def test_post_marked_idempotent_is_retried(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(502)
    response = await make(client, base, Sleeps()).request(
        "POST", "/thing", json={}, idempotent=True
    )
    assert response.status_code == 200
    assert len(emulator.calls("POST")) == 2


async def test_post_timeout_is_not_repeated_and_says_so(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(200, delay=0.5)
    with pytest.raises(errors.Unavailable) as caught:
        await make(client, base, Sleeps(), budget=0.2).request("POST", "/thing", json={})
    assert "cannot tell whether the room was created" in str(caught.value)
    assert len(emulator.calls("POST")) == 1


async def test_get_timeout_stops_at_the_budget(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(200, delay=0.5)
    with pytest.raises(errors.Unavailable) as caught:
        await make(client, base, Sleeps(), budget=0.2).request("GET", "/thing")
    assert "did not answer in time" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, errors.InvalidRequest),
        (401, errors.AuthError),
        (402, errors.QuotaError),
        (403, errors.AuthError),
        (404, errors.NotFound),
        (409, errors.Conflict),
        (410, errors.Gone),
        (422, errors.InvalidRequest),
        (423, errors.Locked),
    ],
)
async def test_status_maps_to_error_tree(
    client: httpx.AsyncClient, echo: tuple[Echo, str], status: int, kind: type[Exception]
) -> None:
    emulator, base = echo
    emulator.fail(status)
    with pytest.raises(kind) as caught:
        await make(client, base, Sleeps()).request("GET", "/thing")
    assert type(caught.value) is kind
    assert str(caught.value).startswith("Acme ")
    assert len(emulator.calls()) == 1  # 4xx other than 429 is never retried


async def test_connection_refused_is_unavailable(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(errors.Unavailable):
        await make(client, f"http://127.0.0.1:{port}", Sleeps()).request("POST", "/thing")


async def test_failures_never_log_or_show_the_query_secret(
    client: httpx.AsyncClient, echo: tuple[Echo, str], caplog: pytest.LogCaptureFixture
) -> None:
    emulator, base = echo
    caplog.set_level(logging.DEBUG)
    emulator.fail(500, times=4)
    emulator.fail(200, delay=0.5)
    http = make(client, base, Sleeps(), budget=0.2)
    seen: list[str] = []
    for method in ("GET", "POST"):
        with pytest.raises(errors.ProviderError) as caught:
            await http.request(method, "/thing")
        seen.append(str(caught.value))
    client_side = client_log(caplog)
    assert "answered 500" in client_side and "HTTP Request" in client_side
    assert SECRET not in client_side and SECRET not in " ".join(seen)


def client_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything convene's side logged (the emulator's aiohttp access log is the
    server's, not ours, and naturally sees the query it was sent)."""
    return "\n".join(
        record.getMessage() for record in caplog.records if not record.name.startswith("aiohttp")
    )


def test_backoff_is_jittered_and_never_below_retry_after() -> None:
    for attempt in range(1, 8):
        assert 0 <= backoff(attempt, None) <= 4.0
    assert backoff(1, 7.5) == 7.5


# --- answers are hostile input ------------------------------------------------------

UNREADABLE = "Acme sent an answer convene could not read; try again in a minute."
MARKER = "host-link-in-the-body"
BAD_BODIES = {
    "truncated JSON": b'{"ok": "' + MARKER.encode(),
    "not JSON": b"<html>" + MARKER.encode() + b"</html>",
    "nesting past the parser's limit": b"[" * 100_000,
    "not UTF-8": b'{"ok": "\xff\xfe"}',
    "the wrong shape": b'["ok", "' + MARKER.encode() + b'"]',
    "a field of the wrong type": b'{"ok": {"nested": "' + MARKER.encode() + b'"}}',
}


@pytest.mark.parametrize("raw", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
async def test_read_turns_an_unreadable_answer_into_one_sentence(
    client: httpx.AsyncClient, echo: tuple[Echo, str], raw: bytes
) -> None:
    emulator, base = echo
    emulator.fail(200, raw=raw)
    http = make(client, base, Sleeps())
    response = await http.request("GET", "/thing")
    with pytest.raises(errors.Unavailable) as caught:
        http.read(response, lambda answer: text(answer["ok"]))
    assert str(caught.value) == UNREADABLE and MARKER not in str(caught.value)
    assert caught.value.__cause__ is None  # no parser message carrying the body along


async def test_create_settles_an_answer_cut_off_mid_body(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    """The server acted, then the connection dropped: settled once, never re-sent."""
    emulator, base = echo
    emulator.fail(201, after=True, raw=b'{"ok": tr', cut=True)
    settled: list[Any] = []

    async def settle(answer: Any) -> str:
        settled.append(answer)
        return "recovered"

    http = make(client, base, Sleeps())
    found = await http.create("/thing", {}, pick=lambda a: text(a["ok"]), settle=settle)
    assert found == "recovered" and settled == [None]
    assert len(emulator.calls("POST")) == 1


async def test_create_hands_settle_what_could_be_read(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(201, body={"id": "r-1"})
    settled: list[Any] = []

    async def settle(answer: Any) -> None:
        settled.append(answer)

    with pytest.raises(errors.Unavailable) as caught:
        await make(client, base, Sleeps()).create(
            "/thing", {}, pick=lambda a: text(a["ok"]), settle=settle
        )
    assert str(caught.value) == UNREADABLE
    assert settled == [{"id": "r-1"}]


async def test_a_failing_settle_never_replaces_the_original_error(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    emulator, base = echo
    emulator.fail(200, delay=0.5)

    async def settle(answer: Any) -> str:
        raise errors.AuthError("Acme")

    with pytest.raises(errors.Unavailable) as caught:
        await make(client, base, Sleeps(), budget=0.2).create(
            "/thing", {}, pick=lambda a: text(a["ok"]), settle=settle
        )
    assert "cannot tell whether the room was created" in str(caught.value)


async def test_a_refusal_inside_a_2xx_is_not_settled(
    client: httpx.AsyncClient, echo: tuple[Echo, str]
) -> None:
    """`pick` may raise the provider's own refusal (EdCast's success: false): that is
    an answer, not an unknown outcome."""
    emulator, base = echo

    def refuse(answer: Any) -> str:
        raise errors.QuotaError("Acme")

    async def settle(answer: Any) -> str:
        raise AssertionError("a refusal must not be settled")

    with pytest.raises(errors.QuotaError):
        await make(client, base, Sleeps()).create("/thing", {}, pick=refuse, settle=settle)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("https://meet.example/room", True),
        ("http://127.0.0.1:8080/r?x=1", True),
        ("javascript:alert(1)", False),
        ("https:///no-host", False),
        ("https://meet.example/a b", False),
        ("https://meet.example/\u202e", False),
        ("//meet.example/room", False),
        ("https://meet.example/" + "a" * 3000, False),
        ("", False),
        (42, False),
        (None, False),
    ],
)
def test_link_accepts_only_plain_http_urls(value: object, ok: bool) -> None:
    if ok:
        assert link(value) == value
    else:
        with pytest.raises((TypeError, ValueError)):
            link(value)
