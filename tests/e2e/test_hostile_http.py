"""Hostile input against the whole app over real sockets (the Slack rig: real aiohttp,
bolt and slack_sdk; provider webhooks configured): unauthenticated, malformed,
replayed, retried, nested and oversized requests are answered 4xx with a short
body, never a 5xx, never a traceback, and with a bounded number of log lines.

Requests are signed at the app's own clock (the rig's FakeClock, days away from
the machine's), because that clock is the one convene judges freshness by.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web

from bot.http import HttpServer, make_http_app
from tests.e2e.hostile import (
    NESTED,
    OAUTH,
    OVERSIZED,
    WEBHOOKS,
    eyeson_headers,
    metered_path,
    problems_in_log,
    send,
    slack_headers,
    unix,
    warnings_and_worse,
    whereby_headers,
)
from tests.e2e.slack_rig import Rig, running
from tests.emulators import slack as emu

pytestmark = pytest.mark.filterwarnings(
    # slack_sdk's oauth.v2.access still builds aiohttp.BasicAuth, deprecated in aiohttp 3.14.
    "ignore:BasicAuth is deprecated:DeprecationWarning"
)


def meet_body(rig: Rig, text: str = "Standup", trigger: str = "trigger-1") -> bytes:
    payload = emu.command_payload(
        text, response_url=rig.slack.response_url_for(trigger), trigger_id=trigger
    )
    return urlencode(payload).encode()


async def post_slack(rig: Rig, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    return await send(rig.session, "POST", f"{rig.base}/slack/events", body, headers)


async def cards_after_settling(rig: Rig, at_least: int) -> int:
    """Cards posted once the work after the acks has had time to happen (Slack's own
    call card, posted beside an instant meeting's, is not one of convene's cards)."""
    await rig.slack.wait_for("chat.postMessage", at_least)
    await asyncio.sleep(0.5)
    return len(rig.slack.cards())


# --- Slack: unauthenticated and malformed ----------------------------------------------

BAD_HEADERS: list[dict[str, str]] = [
    {},
    {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "1.5", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠", "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "9" * 40, "X-Slack-Signature": "v0=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=" + "é" * 64},
    {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v0=\u202e"},
    {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": "v1=" + "0" * 64},
    {"X-Slack-Request-Timestamp": "1700000000", "X-Slack-Signature": ""},
]


async def test_unsigned_and_garbage_signed_posts_are_401_with_one_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The adversarial pass: 200 such posts gave 500s and 5,800 log lines."""
    async with running(tmp_path) as rig:
        caplog.set_level(logging.INFO)
        caplog.clear()
        answers = []
        for n in range(200):
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            headers.update(BAD_HEADERS[n % len(BAD_HEADERS)])
            answers.append(await post_slack(rig, b"payload=x", headers))
        assert {status for status, _ in answers} == {401}
        assert all(len(body) < 200 and "payload" not in body for _, body in answers)
        assert problems_in_log(caplog) == []
        assert len(caplog.records) <= 2, [r.getMessage() for r in caplog.records]
        assert rig.slack.api == []


async def test_the_signing_window_is_the_service_clocks_five_minutes(tmp_path: Path) -> None:
    """Fresh means within 300 s of convene's clock, not the machine's."""
    async with running(tmp_path) as rig:
        now = unix(rig.clock())
        assert abs(time.time() - now) > 300  # the rig's clock is days from the machine's
        body = meet_body(rig)
        for stamp in (now - 301, now + 301, int(time.time())):
            status, _ = await post_slack(rig, body, slack_headers(body, stamp))
            assert status == 401, stamp
        status, _ = await post_slack(rig, body, slack_headers(body, now - 299))
        assert status == 200
        assert await cards_after_settling(rig, 1) == 1


async def test_a_wrong_secret_or_a_tampered_body_is_401(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        now = unix(rig.clock())
        body = meet_body(rig)
        forged = slack_headers(body, now, secret="not-the-secret")
        assert (await post_slack(rig, body, forged))[0] == 401
        honest = slack_headers(body, now)
        assert (await post_slack(rig, body.replace(b"Standup", b"Takeover"), honest))[0] == 401
        assert (await post_slack(rig, b"\xff\xfe" + body, slack_headers(b"\xff\xfe" + body, now)))[
            0
        ] == 401  # not UTF-8: nothing Slack signs
        assert rig.slack.api == []


SIGNED_GARBAGE: list[tuple[bytes, str]] = [
    (b"payload=x", "application/x-www-form-urlencoded"),
    (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    (b"payload=%22text%22", "application/x-www-form-urlencoded"),
    (b"payload=" + quote(NESTED.decode()).encode(), "application/x-www-form-urlencoded"),
    (b"&".join(b"f%d=1" % n for n in range(1000)), "application/x-www-form-urlencoded"),
    (b'{"type": ', "application/json"),
    (b"[1, 2]", "application/json"),
    (NESTED, "application/json"),
    (b'{"a": ' + NESTED, "application/json"),
    (b'{"a": ' + NESTED, "text/plain"),  # bolt parses a body starting with { as JSON
]


async def test_signed_malformed_bodies_are_400_not_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Only Slack can sign, but a body bolt cannot read must still not crash it."""
    async with running(tmp_path) as rig:
        caplog.set_level(logging.INFO)
        caplog.clear()
        now = unix(rig.clock())
        for body, content_type in SIGNED_GARBAGE:
            headers = slack_headers(body, now, content_type=content_type)
            status, answer = await post_slack(rig, body, headers)
            assert status == 400, (body[:30], status, answer[:100])
            assert len(answer) < 200
        assert problems_in_log(caplog) == []
        assert len(warnings_and_worse(caplog)) <= 4
        assert rig.slack.api == []


async def test_oversized_bodies_are_413_on_every_post_route(tmp_path: Path) -> None:
    async with running(tmp_path, **WEBHOOKS) as rig:
        now = unix(rig.clock())
        routes = [
            ("/slack/events", slack_headers(OVERSIZED, now)),
            ("/webhooks/whereby", whereby_headers(OVERSIZED, now)),
            ("/webhooks/eyeson", eyeson_headers(OVERSIZED)),
            (metered_path(), {}),
        ]
        for path, headers in routes:
            status, answer = await send(rig.session, "POST", rig.base + path, OVERSIZED, headers)
            assert (path, status) == (path, 413)
            assert len(answer) < 200


# --- Slack: replays and retries --------------------------------------------------------


async def test_a_replayed_signed_request_is_acknowledged_and_ignored(tmp_path: Path) -> None:
    """The same signed /meet sent 5 times inside the window made 5 rooms and 5 cards."""
    async with running(tmp_path) as rig:
        body = meet_body(rig)
        headers = slack_headers(body, unix(rig.clock()))
        answers = [await post_slack(rig, body, headers) for _ in range(5)]
        assert [status for status, _ in answers] == [200] * 5
        assert [text for _, text in answers[1:]] == [""] * 4
        assert await cards_after_settling(rig, 1) == 1


async def test_a_slack_retry_of_a_handled_request_makes_no_second_room(tmp_path: Path) -> None:
    """Slack re-signs a retry (new timestamp) and adds X-Slack-Retry-Num: the body is
    what identifies it. A retry of something never handled is still handled."""
    async with running(tmp_path) as rig:
        now = unix(rig.clock())
        body = meet_body(rig)
        assert (await post_slack(rig, body, slack_headers(body, now)))[0] == 200
        await rig.slack.wait_for("chat.postMessage", 1)
        rig.clock.advance(seconds=60)  # Slack retries after a minute
        retry = slack_headers(
            body, now + 60, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        )
        assert await post_slack(rig, body, retry) == (200, "")
        assert await cards_after_settling(rig, 1) == 1

        unseen = meet_body(rig, "Retro", trigger="trigger-2")
        first_try = slack_headers(unseen, now + 60, **{"X-Slack-Retry-Num": "1"})
        assert (await post_slack(rig, unseen, first_try))[0] == 200
        assert await cards_after_settling(rig, 2) == 2


# --- OAuth pages ----------------------------------------------------------------------


async def test_oauth_redirect_refuses_malformed_queries_with_a_short_answer(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, **OAUTH) as rig:
        url = f"{rig.base}/slack/oauth_redirect"
        for query in (
            "?error=%3Cscript%3Ealert(1)%3C/script%3E",
            "?error=Call+0800+to+finish",
            "?code=x&state=%C3%A9",
            "?code=a&code=b&state=s",
            "?state=%00",
            "?code=x&state=" + "a" * 3000,
        ):
            status, answer = await send(rig.session, "GET", url + query)
            assert status == 400, query
            assert len(answer) < 200 and "script" not in answer and "0800" not in answer
        status, _ = await send(rig.session, "GET", f"{rig.base}/slack/install?x=" + "a" * 3000)
        assert status == 400


async def test_refused_oauth_codes_are_counted_not_logged_each_with_the_code(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone can start an install and post made-up codes; bolt logged each one."""
    async with running(tmp_path, **OAUTH) as rig:
        caplog.set_level(logging.INFO)
        caplog.clear()
        for n in range(10):
            url = f"{rig.base}/slack/install"
            async with rig.session.get(url, allow_redirects=False) as started:
                assert started.status == 302
                state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
                cookie = started.headers["Set-Cookie"].split(";")[0]
            redirect = f"{rig.base}/slack/oauth_redirect?code=made-up-code-{n}&state={state}"
            status, _ = await send(rig.session, "GET", redirect, headers={"Cookie": cookie})
            assert status == 401
        assert "made-up-code" not in caplog.text
        assert problems_in_log(caplog) == []
        assert len(warnings_and_worse(caplog)) <= 1


# --- provider webhooks ----------------------------------------------------------------


async def test_nested_json_to_each_webhook_route_is_400_and_logs_no_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """50,000 `[` raised RecursionError (500) on every route, Metered's with no token."""
    async with running(tmp_path, **WEBHOOKS) as rig:
        caplog.set_level(logging.INFO)
        caplog.clear()
        now = unix(rig.clock())
        named = b'{"event": "meetingEnded", "roomName": "standup-1a2b3c4d", "x": ' + NESTED
        cases = [
            ("/webhooks/whereby", NESTED, whereby_headers(NESTED, now), 400),
            ("/webhooks/eyeson", NESTED, eyeson_headers(NESTED), 400),
            (metered_path(), named, {}, 400),
            ("/webhooks/metered/" + "0" * 32, NESTED, {}, 401),
            ("/webhooks/metered/anything", NESTED, {}, 401),
            ("/webhooks/whereby", NESTED, {}, 401),
        ]
        for _ in range(20):
            for path, body, headers, expected in cases:
                status, answer = await send(rig.session, "POST", rig.base + path, body, headers)
                assert (path, status) == (path, expected)
                assert len(answer) < 200
        assert problems_in_log(caplog) == []
        assert len(warnings_and_worse(caplog)) <= len(cases)


async def test_a_genuine_webhook_still_gets_through(tmp_path: Path) -> None:
    """The checks refuse garbage, not the real thing (an unknown room is fine: 200)."""
    async with running(tmp_path, **WEBHOOKS) as rig:
        now = unix(rig.clock())
        event = {"id": "e1", "type": "room.session.ended", "data": {"meetingId": "m-1"}}
        body = json.dumps(event).encode()
        headers = whereby_headers(body, now)
        status, _ = await send(rig.session, "POST", f"{rig.base}/webhooks/whereby", body, headers)
        assert status == 200
        body = json.dumps({"event": "meetingEnded", "roomName": "standup-1a2b3c4d"}).encode()
        status, _ = await send(rig.session, "POST", rig.base + metered_path(), body)
        assert status == 200


# --- the server's last line -----------------------------------------------------------


async def test_an_unexpected_error_is_a_short_500_logged_once_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug behind a route must not turn a flood of requests into a flood of
    tracebacks (aiohttp logs one per request), nor name the path's token."""
    app = make_http_app()

    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app.router.add_post("/webhooks/broken/{token}", broken)
    server = HttpServer(app, "127.0.0.1", 0)
    await server.start()
    caplog.set_level(logging.INFO)
    caplog.clear()
    try:
        async with aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{server.port}"
            answers = [
                await send(session, "POST", f"{base}/webhooks/broken/secret-token-{n}")
                for n in range(50)
            ]
    finally:
        await server.stop()
    assert set(answers) == {(500, '{"ok": false, "error": "internal error"}')}
    logged = warnings_and_worse(caplog)
    assert len(logged) == 1 and logged[0].exc_info is not None
    assert "/webhooks/broken/{token}" in logged[0].getMessage()
    assert "secret-token" not in caplog.text
