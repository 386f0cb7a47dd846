"""The bounded parsers, the refusal log, the replay memory and the OAuth query checks:
the pieces every inbound route leans on, tested alone."""

from __future__ import annotations

import json
import logging
import time

import pytest
from multidict import MultiDict

from adapters.slack.oauth import check_callback_query
from adapters.slack.request_gate import check_shape
from bot.inbound_limits import (
    MAX_BODY_BYTES,
    RefusalLog,
    Refused,
    nesting_within,
    parse_form,
    parse_json,
    parse_json_object,
)
from tests.moments import next_monday_at

NOW = next_monday_at(9)


# --- depth pre-scan -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth", "within"),
    [
        ("[]", 1, True),
        ("[[]]", 1, False),
        ('{"a": [{"b": [1, 2]}]}', 4, True),
        ('{"a": [{"b": [1, 2]}]}', 3, False),
        ('["[[[[[[", "{{{{{{"]', 1, True),  # brackets inside strings do not nest
        ('["\\"[[[[", "\\\\"]', 1, True),  # nor after an escaped quote
        ("[" * 10 + "]" * 10, 10, True),
        ("[" * 11 + "]" * 11, 10, False),
        ("]" + "[]" * 40, 5, False),  # a stray closer
        ("[" * 40, 5, False),  # unclosed
        ("[][][]" * 40, 1, True),
    ],
)
def test_nesting_within_counts_only_structure(text: str, depth: int, within: bool) -> None:
    assert nesting_within(text.encode(), depth) is within


def test_a_megabyte_of_brackets_is_refused_before_json_and_fast() -> None:
    """The finding: 50,000 `[` reached json.loads and raised RecursionError."""
    for body in (b"[" * MAX_BODY_BYTES, b'{"a":' * 200_000, b"[" * 50_000):
        started = time.perf_counter()
        with pytest.raises(Refused) as refused:
            parse_json(body)
        assert refused.value.status == 400
        assert time.perf_counter() - started < 0.5


def test_the_pre_scan_stays_cheap_on_its_worst_shallow_inputs() -> None:
    """Many pairs, or many groups exactly at the limit (one pass per level)."""
    at_limit = b"[" * 64 + b"]" * 64
    for body in (b"[]" * (MAX_BODY_BYTES // 2), at_limit * (MAX_BODY_BYTES // len(at_limit))):
        started = time.perf_counter()
        assert nesting_within(body, 64) is True
        assert time.perf_counter() - started < 1.0


def test_parse_json_refuses_what_json_refuses_and_keeps_what_it_accepts() -> None:
    payload = {"type": "block_actions", "actions": [{"value": "[[[{"}], "n": 1}
    assert parse_json(json.dumps(payload)) == payload
    for bad in (b"", b"{", b"\xff\xfe", b"NaN-ish", b'{"a": 1}}'):
        with pytest.raises(Refused):
            parse_json(bad)
    with pytest.raises(Refused, match="object"):
        parse_json_object(b"[1]")


def test_parse_form_bounds_the_field_count() -> None:
    assert parse_form("a=1&b=&c=3") == {"a": "1", "b": "", "c": "3"}
    with pytest.raises(Refused):
        parse_form("&".join(f"f{n}=1" for n in range(500)))


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("payload=x", None),
        ("payload=%5B1%5D", None),
        ("payload=" + "%5B" * 100, None),
        ('{"a": 1', "application/json"),
        ("[1]", "application/json; charset=utf-8"),
        ("{" * 100, "text/plain"),
        ("[[[[", "text/plain"),  # a form of one empty field to bolt, not Slack's
        ("team_id=T1&user_id=U1", None),
        ('{"event": {}}', "application/json"),
        ("", None),
    ],
)
def test_check_shape_refuses_what_bolt_would_choke_on(body: str, content_type: str | None) -> None:
    with pytest.raises(Refused):
        check_shape(body, content_type)


def test_check_shape_lets_slacks_own_shapes_through() -> None:
    check_shape("command=%2Fmeet&text=hi&team_id=T1", "application/x-www-form-urlencoded")
    check_shape("payload=%7B%22type%22%3A%22block_actions%22%7D", None)
    check_shape('{"type": "event_callback", "event": {}}', "application/json")
    check_shape("ssl_check=1&token=x", None)


# --- the refusal log ------------------------------------------------------------------


def test_refusal_log_logs_each_reason_once_then_counts_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seconds = [0.0]
    refusals = RefusalLog(logging.getLogger("test.refusals"), clock=lambda: seconds[0])
    caplog.set_level(logging.INFO, logger="test.refusals")
    for _ in range(500):
        refusals.note("Slack signature does not match", 401)
        refusals.note("request body too large", 413)
    assert len(caplog.records) == 2
    seconds[0] = 61.0
    refusals.note("Slack signature does not match", 401)
    assert len(caplog.records) == 3
    summary = caplog.records[-1].getMessage()
    assert "999 more" in summary and "401 Slack signature does not match x500" in summary
    refusals.note("request body too large", 413)
    assert len(caplog.records) == 3  # the next summary waits another minute


# --- replay memory --------------------------------------------------------------------


# --- OAuth ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"error": "<b>call us</b>"},
        {"code": "x", "state": "é"},
        {"code": "x" * 300, "state": "s"},
        {"state": "s\x00"},
    ],
)
def test_callback_query_shapes(query: dict[str, str]) -> None:
    with pytest.raises(Refused):
        check_callback_query("", MultiDict(query))


def test_callback_query_refuses_repeats_and_length_and_takes_slacks_own() -> None:
    with pytest.raises(Refused):
        check_callback_query("", MultiDict([("code", "a"), ("code", "b")]))
    with pytest.raises(Refused):
        check_callback_query("x" * 3000, MultiDict())
    check_callback_query("", MultiDict({"code": "123.456.abc-DEF_0", "state": "4f0e-uuid"}))
    check_callback_query("", MultiDict({"error": "access_denied", "state": "s"}))


