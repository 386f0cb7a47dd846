"""Generated requests against convene's real HTTP server (the Slack rig: real
aiohttp, bolt and slack_sdk against the loopback Slack emulator).

First, slash commands, button clicks and form submissions, correctly signed (at the
app's clock), through `POST /slack/events`: whatever arrives, convene never answers
with a 5xx, keeps answering afterwards, and every refusal the user sees is a single
plain sentence, never a traceback.

Then every route (/slack/events, /slack/install, /slack/oauth_redirect, the three
provider webhooks, /healthz) with unsigned, mis-signed, stale, oversized and deeply
nested requests: never a 5xx, never a traceback or a secret in the log, and a log
that does not grow with the number of requests.

The rig runs on its own event loop in a thread for the whole test, so hypothesis's
examples (plain synchronous calls) all hit one running server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.slack import edit_form, modal, render
from bot.service import OOPS
from tests.e2e.hostile import (
    EYESON_KEY,
    NESTED,
    OAUTH,
    OVERSIZED,
    SECRETS,
    WEBHOOKS,
    WHEREBY_SECRET,
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

T = TypeVar("T")

WORDS = [
    "at", "in", "for", "remind", "every", "with", "list", "end", "cancel", "host", "tz",
    "config", "rate", "skip", "pause", "resume", "feedback", "nofeedback", "schedule", "help",
    "15:00", "3pm", "noon", "tomorrow", "mon", "weekday", "30m", "25:00", "0m", "99999h",
    "2026-12-01", "1999-01-01", "Europe/Berlin", "Mars/Olympus", "@ana", "<@UANA>",
    "<!channel>", "<#C123|general>", "&amp;", "&lt;", "\"", "“", "provider", "zoom", "5",
    "-1", "\x00", "\u202e", "🙂", "\n",
]  # fmt: skip
ACTIONS = [
    render.END_ACTION, render.CANCEL_ACTION, render.OPEN_FORM_ACTION, render.JOIN_ACTION,
    render.LINK_ACTION, render.COMMENT_ACTION, render.EDIT_ACTION, "meet_unknown",
    "feedback_0", "feedback_6",
    *(f"{render.RATE_PREFIX}{score}" for score in render.SCORES),
]  # fmt: skip
FORM_BLOCKS = [
    "title", "date", "time", "when", "duration", "repeat", "remind", modal.COMMENT_BLOCK, "x"
]  # fmt: skip
TRACEBACK = re.compile(r"Traceback|File \"|Error\(|Exception\b|\w+Error:")

text_pieces = st.one_of(st.sampled_from(WORDS), st.text(max_size=12))
command_text = st.one_of(
    st.lists(text_pieces, max_size=12).map(" ".join),
    st.text(max_size=300),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=20))
field_state = st.one_of(
    st.fixed_dictionaries({"type": st.just("plain_text_input"), "value": json_leaf}),
    st.fixed_dictionaries({"type": st.just("datepicker"), "selected_date": json_leaf}),
    st.fixed_dictionaries({"type": st.just("timepicker"), "selected_time": json_leaf}),
    st.fixed_dictionaries(
        {
            "type": st.just("static_select"),
            "selected_option": st.one_of(st.none(), st.fixed_dictionaries({"value": json_leaf})),
        }
    ),
    st.dictionaries(st.text(max_size=8), json_leaf, max_size=3),
)
form_values = st.dictionaries(
    st.sampled_from(FORM_BLOCKS),
    st.dictionaries(st.sampled_from([modal.VALUE, "other"]), field_state, max_size=2),
    max_size=len(FORM_BLOCKS),
)
# What Slack sends back is the private_metadata convene set: a JSON object. Anything
# else is covered separately below (test_malformed_form_metadata_is_not_a_server_error).
metadata = st.builds(
    json.dumps,
    st.fixed_dictionaries(
        {},
        optional={
            "channel": st.one_of(st.sampled_from(["CGENERAL", "", "C404"]), json_leaf),
            "tz": st.one_of(st.sampled_from(["UTC", "Europe/Berlin", "Nowhere/City"]), json_leaf),
            "meeting": json_leaf,
        },
    ),
)


class LoopThread:
    """An event loop in a daemon thread; `run` waits for a coroutine's result."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LoopThread, Rig]]:
    yield from live_rig(tmp_path)


@pytest.fixture
def live_everything(tmp_path: Path) -> Iterator[tuple[LoopThread, Rig]]:
    """Every route on: Slack HTTP mode with OAuth, and all three provider webhooks."""
    yield from live_rig(tmp_path, **OAUTH, **WEBHOOKS)


def live_rig(tmp_path: Path, **overrides: Any) -> Iterator[tuple[LoopThread, Rig]]:
    loops = LoopThread()
    context = running(tmp_path, **overrides)
    rig = loops.run(context.__aenter__())
    try:
        yield loops, rig
    finally:
        loops.run(context.__aexit__(None, None, None))
        loops.close()


async def settle(rig: Rig, quiet: float = 0.3, limit: float = 15.0) -> None:
    """Wait until the work convene does after its acks has stopped reaching Slack."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    seen, since = -1, loop.time()
    while loop.time() < deadline:
        count = len(rig.slack.requests)
        if count != seen:
            seen, since = count, loop.time()
        elif loop.time() - since >= quiet:
            return
        await asyncio.sleep(0.05)


def shown_to_users(rig: Rig) -> list[str]:
    """Every private answer's text: response_url posts and ephemeral messages."""
    texts = [str(r.get("text", "")) for r in rig.slack.responses]
    texts += [str(c.params.get("text", "")) for c in rig.slack.calls_to("chat.postEphemeral")]
    return texts


def signed_now(rig: Rig) -> dict[str, int]:
    """Sign at the app's clock: the one convene judges the 5-minute window by."""
    return {"timestamp": unix(rig.clock())}


def one_sentence(text: str) -> bool:
    body = text.removeprefix("Sorry: ")
    return "\n" not in body and len(body) < 600 and not TRACEBACK.search(body)


def test_generated_slack_requests_never_break_the_endpoint(
    live: tuple[LoopThread, Rig],
) -> None:
    loops, rig = live
    statuses: list[tuple[int, str, str]] = []
    form_errors: list[str] = []

    def send(kind: str, coro: Coroutine[Any, Any, tuple[int, str]]) -> None:
        status, body = loops.run(coro)
        statuses.append((status, kind, body[:200]))
        if body.startswith("{") and '"errors"' in body:
            form_errors.extend(str(v) for v in json.loads(body).get("errors", {}).values())

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        kind=st.sampled_from(["command", "command", "action", "view"]),
        text=command_text,
        raw=st.booleans(),
        action_id=st.sampled_from(ACTIONS),
        value=st.one_of(st.text(max_size=50), st.sampled_from(["", "abc123", "x" * 100])),
        ephemeral=st.booleans(),
        callback=st.sampled_from(
            [modal.CALLBACK_ID, modal.COMMENT_CALLBACK_ID, edit_form.EDIT_CALLBACK_ID, "other"]
        ),
        meta=metadata,
        values=form_values,
    )
    def one_request(
        kind: str,
        text: str,
        raw: bool,
        action_id: str,
        value: str,
        ephemeral: bool,
        callback: str,
        meta: str,
        values: dict[str, Any],
    ) -> None:
        response_url = rig.slack.response_url_for(len(statuses) + 1)
        if kind == "command":
            payload = emu.command_payload(text, response_url=response_url, raw=raw)
            send(kind, rig.client.command(payload, **signed_now(rig)))
        elif kind == "action":
            clicked = emu.action_payload(
                action_id, value, response_url=response_url, ephemeral=ephemeral
            )
            send(kind, rig.client.interaction(clicked, **signed_now(rig)))
        else:
            submitted = emu.view_payload(values, meta, callback_id=callback)
            send(kind, rig.client.interaction(submitted, **signed_now(rig)))

    one_request()
    loops.run(settle(rig))

    server_errors = [s for s in statuses if s[0] >= 500]
    assert server_errors == [], server_errors
    shown = shown_to_users(rig)
    refusals = [t for t in shown if t.startswith("Sorry: ")] + form_errors
    assert [t for t in refusals if not one_sentence(t)] == []
    assert [t for t in shown if OOPS in t] == []  # no internal error behind any answer

    # Still answering: a plain command gets its card.
    before = len(rig.slack.calls_to("chat.postMessage"))
    retro = emu.command_payload("Retro at 16:00 for 30m", response_url=rig.slack.response_url_for())
    status, _ = loops.run(rig.client.command(retro, **signed_now(rig)))
    assert status == 200
    loops.run(rig.slack.wait_for("chat.postMessage", before + 1))


@pytest.mark.parametrize("meta", ["not json", "[1, 2]", "null"])
def test_malformed_form_metadata_is_not_a_server_error(
    live: tuple[LoopThread, Rig], meta: str
) -> None:
    loops, rig = live
    submitted = emu.view_payload({}, meta, callback_id=modal.CALLBACK_ID)
    status, _ = loops.run(rig.client.interaction(submitted, **signed_now(rig)))
    assert status < 500


# --- every route, hostile -------------------------------------------------------------

ROUTES = [
    ("POST", "/slack/events"),
    ("GET", "/slack/install"),
    ("GET", "/slack/oauth_redirect"),
    ("POST", "/webhooks/whereby"),
    ("POST", "/webhooks/eyeson"),
    ("POST", "/webhooks/metered/{token}"),
    ("GET", "/healthz"),
    ("POST", "/healthz"),
    ("GET", "/slack/events"),
]
AUTH = ["none", "garbage", "wrong-secret", "stale", "signed"]
header_text = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=80)
json_values = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner)
)
# What a correctly signed request may carry here: only bodies convene must refuse
# before bolt sees them (a signed body bolt can read is Slack's own, fuzzed above).
hostile_bodies = st.one_of(
    st.integers(65, 5_000).map(lambda n: b"[" * n),
    st.integers(65, 5_000).map(lambda n: b'{"a":' * n),
    st.integers(65, 5_000).map(lambda n: b"payload=" + b"%5B" * n),
    st.just(OVERSIZED),
    st.sampled_from([NESTED, b"payload=x", b"[1]", b"{", b"\xff\xfe"]),
)
any_bodies = st.one_of(
    hostile_bodies,
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.text(max_size=100).map(lambda t: f"payload={quote(t)}".encode()),
)
queries = st.one_of(
    st.just(""),
    st.text(max_size=200).map(lambda t: "?" + quote(t, safe="=&")),
    st.fixed_dictionaries(
        {},
        optional={
            "code": st.text(max_size=40),
            "state": st.text(max_size=40),
            "error": st.text(max_size=40),
        },
    ).map(lambda q: "?" + urlencode(q)),
    st.integers(2_000, 6_000).map(lambda n: "?state=" + "s" * n),
)
tokens = st.one_of(
    st.text(max_size=40).map(lambda t: quote(t, safe="") or "x"),
    st.just(metered_path().rsplit("/", 1)[1]),
)


def hostile_headers(rig: Rig, path: str, auth: str, body: bytes, junk: str) -> dict[str, str]:
    """The headers of one request to `path`: none, garbage, or a signature that is
    wrong, stale or right (at the app's clock)."""
    now = unix(rig.clock())
    if auth == "none":
        return {}
    if auth == "garbage":
        return {
            "X-Slack-Request-Timestamp": junk,
            "X-Slack-Signature": junk,
            "Whereby-Signature": junk,
            "X-Eyeson-Signature": junk,
            "X-Slack-Retry-Num": junk,
        }
    stamp = now - 3_600 if auth == "stale" else now
    if path == "/slack/events":
        secret = "wrong" if auth == "wrong-secret" else emu.SIGNING_SECRET
        return slack_headers(body, stamp, secret=secret, content_type=junk or "application/json")
    if path == "/webhooks/whereby":
        secret = "wrong" if auth == "wrong-secret" else WHEREBY_SECRET
        return whereby_headers(body, stamp, secret=secret)
    if path == "/webhooks/eyeson":
        return eyeson_headers(body, key="wrong" if auth == "wrong-secret" else EYESON_KEY)
    return {}


def refusal_reasons(answers: list[tuple[int, str, str]]) -> set[tuple[int, str]]:
    """The distinct reasons convene gave in its refusals' short bodies."""
    reasons = set()
    for status, _, text in answers:
        if text.startswith('{"ok": false'):
            reasons.add((status, str(json.loads(text)["error"])))
    return reasons


def test_every_route_refuses_hostile_requests_without_5xx_or_a_log_flood(
    live_everything: tuple[LoopThread, Rig], caplog: pytest.LogCaptureFixture
) -> None:
    loops, rig = live_everything
    caplog.set_level(logging.INFO)
    caplog.clear()
    sent: list[tuple[str, str, bytes, dict[str, str]]] = []
    answers: list[tuple[int, str, str]] = []

    def one(method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        status, text = loops.run(send(rig.session, method, rig.base + path, body, headers))
        answers.append((status, f"{method} {path[:60]}", text))

    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
        ],
    )
    @given(
        route=st.sampled_from(ROUTES),
        auth=st.sampled_from(AUTH),
        data=st.data(),
        junk=header_text,
        query=queries,
        token=tokens,
    )
    def one_request(
        route: tuple[str, str], auth: str, data: st.DataObject, junk: str, query: str, token: str
    ) -> None:
        method, pattern = route
        body = b""
        if method == "POST":
            body = data.draw(hostile_bodies if auth == "signed" else any_bodies)
        if pattern.startswith("/webhooks/metered") and auth == "signed":
            token = metered_path().rsplit("/", 1)[1]  # the right token; its room, then garbage
            body = b'{"roomName": "standup-1a2b3c4d", "x": ' + body
        path = pattern.replace("{token}", token) + (query if method == "GET" else "")
        headers = hostile_headers(rig, pattern, auth, body, junk)
        sent.append((method, path, body, headers))
        one(method, path, body, headers)

    one_request()
    assert [a[:2] for a in answers if a[0] >= 500] == []
    assert {400, 401, 413} <= {status for status, _, _ in answers}  # every refusal was reached
    assert [a[1] for a in answers if any(secret in a[2] for secret in SECRETS)] == []
    assert problems_in_log(caplog) == []

    # Bounded: at most one line per distinct reason, and the same hostile traffic
    # again adds none (the next minute's summary would be the only one).
    lines = len(warnings_and_worse(caplog))
    assert lines <= len(refusal_reasons(answers)), [r.getMessage() for r in caplog.records]
    for method, path, body, headers in sent:
        one(method, path, body, headers)
    assert [a[:2] for a in answers if a[0] >= 500] == []
    assert len(warnings_and_worse(caplog)) == lines
