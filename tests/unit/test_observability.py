"""What an operator reads: log lines without secrets, JSON lines with their
context, and metrics that come back out of the exposition they were put in."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta

import jwt
import pytest
from cryptography.fernet import Fernet
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import LogFormat, Settings
from bot.observability import (
    CLAIMS_TAKEN_OVER,
    COMMANDS,
    configure_logging,
    current_context,
    log_context,
)

CONFIGURED = "whereby-key-Zq81xV"
CONFIGURED_ODD = "p@ss/w0rd+x"  # a value that changes when percent-encoded
log = logging.getLogger("convene.test")

# (case, text logged, the part that must not reach the log)
SECRETS = [
    ("configured value", f"calling with {CONFIGURED}", CONFIGURED),
    ("configured value, percent-encoded", "q=p%40ss%2Fw0rd%2Bx&r=1", "w0rd"),
    ("Slack bot token", "token xoxb-1111-2222-AbCdEfGh", "AbCdEfGh"),
    ("Slack user token", "token xoxp-1111-2222-3333-QrStUv", "QrStUv"),
    ("Slack app token", "socket xapp-1-A0B1C2-1234-a1b2c3d4", "a1b2c3d4"),
    ("Bearer header", "Authorization: Bearer s3cr3t-opaque.value", "s3cr3t-opaque"),
    ("Fernet token", Fernet(Fernet.generate_key()).encrypt(b"host").decode(), "gAAAAA"),
    ("JWT", jwt.encode({"room": "standup"}, "k" * 32, algorithm="HS256"), "eyJ"),
    (
        "Jitsi host link fragment",
        "host https://meet.jit.si/standup-x1#userInfo.displayName=%22Ana%22",
        "displayName",
    ),
    ("Jitsi ?jwt=", "https://meet.example.org/standup?jwt=opaque123abc", "opaque123abc"),
    ("Whereby roomKey", "https://acme.whereby.com/room-1?roomKey=host-9f8e7d", "host-9f8e7d"),
    ("Upclass ?token=", "https://meet.upclass.ai/ABCD-EFGH/?token=xK9m2pL", "xK9m2pL"),
    ("Metered ?secretKey=", "https://acme.metered.live/api/v1/room?secretKey=sk_77", "sk_77"),
    ("eyeson bare key", "https://app.eyeson.team/?a1b2c3d4e5f6g7h8i9j0", "a1b2c3d4e5"),
    ("signed ?t=", "https://bot.example.com/calendar?t=tok-55aa", "tok-55aa"),
    ("Slack response_url", "https://hooks.slack.com/commands/T1/22/Ab9xYz", "Ab9xYz"),
    ("database password", "postgresql://convene:pw-9981@db:5432/convene", "pw-9981"),
    ("calendar path", "GET /calendar/c1.sig-77aa.ics", "sig-77aa"),
    ("calendar feed", "https://bot.example.com/calendar/feed/p9.sig-66bb.ics", "sig-66bb"),
    ("Metered webhook path", "POST /webhooks/metered/mtok-4411", "mtok-4411"),
    ("loose pair", "refused: token=loose-8a8a in body", "loose-8a8a"),
]


@pytest.fixture(autouse=True)
def restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def install(fmt: LogFormat) -> io.StringIO:
    stream = io.StringIO()
    configure_logging(fmt, logging.INFO, [CONFIGURED, CONFIGURED_ODD, None, ""], stream=stream)
    return stream


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize(("case", "text", "secret"), SECRETS, ids=[s[0] for s in SECRETS])
def test_each_secret_shape_is_redacted(fmt: LogFormat, case: str, text: str, secret: str) -> None:
    stream = install(fmt)
    log.warning("outcome: %s", text)
    written = stream.getvalue()
    assert secret not in written
    assert "[redacted]" in written and "outcome:" in written


def test_a_join_link_and_ordinary_words_stay_readable() -> None:
    stream = install("text")
    log.info(
        "posted https://meet.jit.si/standup-x1 and https://api.example.com/list?status=active "
        "from bot.providers.http at=5"
    )
    written = stream.getvalue()
    assert "https://meet.jit.si/standup-x1 " in written
    assert "?status=active" in written and "bot.providers.http at=5" in written
    assert "[redacted]" not in written


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_in_exceptions_and_extra_fields_are_redacted(fmt: LogFormat) -> None:
    stream = install(fmt)
    try:
        raise RuntimeError(f"provider refused key {CONFIGURED}")
    except RuntimeError:
        log.exception(
            "create failed",
            extra={"url": "https://m.example.org/r?jwt=abc123zz", "meta": {"t": "xoxb-1-2-QQ"}},
        )
    written = stream.getvalue()
    assert CONFIGURED not in written and "abc123zz" not in written and "xoxb-1-2-QQ" not in written
    assert "RuntimeError" in written and "create failed" in written


def test_json_lines_parse_and_carry_context_fields() -> None:
    stream = install("json")
    with log_context(request_id="req-1", platform="slack"):
        log.info("acknowledged", extra={"meeting_id": "k3f9qa"})
        with log_context(meeting_id="m-2"):
            log.warning("reminder sent %d minutes late", 2)
        log.info("done")
    log.info("outside")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [line["message"] for line in lines] == [
        "acknowledged",
        "reminder sent 2 minutes late",
        "done",
        "outside",
    ]
    first, nested, after, outside = lines
    assert (first["request_id"], first["platform"], first["meeting_id"]) == (
        "req-1",
        "slack",
        "k3f9qa",
    )
    assert (nested["meeting_id"], nested["level"], nested["logger"]) == (
        "m-2",
        "WARNING",
        "convene.test",
    )
    assert "meeting_id" not in after and after["request_id"] == "req-1"
    assert "request_id" not in outside
    stamp = datetime.fromisoformat(first["time"])
    assert stamp.utcoffset() == timedelta(0)


async def test_context_follows_a_request_into_its_tasks() -> None:
    stream = install("json")

    async def work() -> None:
        await asyncio.sleep(0)
        log.info("in a task")

    with log_context(request_id="req-9"):
        await asyncio.create_task(work())
    assert current_context() == {}
    assert json.loads(stream.getvalue())["request_id"] == "req-9"


def test_text_lines_carry_context_as_key_value() -> None:
    stream = install("text")
    with log_context(request_id="req-3", meeting_id="k3f9qa"):
        log.warning("card posted")
    line = stream.getvalue().strip()
    assert line.endswith("card posted request_id=req-3 meeting_id=k3f9qa")
    assert " WARNING convene.test: " in line


def test_settings_name_every_secret_they_hold() -> None:
    settings = Settings.from_env(
        {
            "CONVENE_DB": "postgresql://convene:db-pass-1@db/convene",
            "SLACK_BOT_TOKEN": "xoxb-t",
            "SLACK_SIGNING_SECRET": "sign-s",
            "DISCORD_TOKEN": "disc-t",
            "WHEREBY_API_KEY": "wb-k",
            "METERED_APP": "acme",
            "METERED_SECRET_KEY": "met-k",
            "JITSI_APP_ID": "app-id-public",
            "JITSI_APP_SECRET": "jit-s",
        }
    )
    assert set(settings.secret_values()) == {
        "db-pass-1",
        "xoxb-t",
        "sign-s",
        "disc-t",
        "wb-k",
        "met-k",
        "jit-s",
    }


def sample(name: str, labels: dict[str, str]) -> float:
    """A sample read back from the text exposition, as a scraper would."""
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def test_a_counter_increment_shows_in_the_exposition() -> None:
    labels = {"platform": "discord", "outcome": "refused"}
    before = sample("convene_commands_total", labels)
    COMMANDS.labels(**labels).inc()
    assert sample("convene_commands_total", labels) == before + 1
    taken = sample("convene_claims_taken_over_total", {})
    CLAIMS_TAKEN_OVER.inc()
    assert sample("convene_claims_taken_over_total", {}) == taken + 1


def test_every_metric_of_the_operators_view_is_exposed() -> None:
    names = {f.name for f in text_string_to_metric_families(generate_latest(REGISTRY).decode())}
    assert {
        "convene_commands",
        "convene_provider_calls",
        "convene_provider_call_duration_seconds",
        "convene_reminder_lateness_seconds",
        "convene_claims_taken_over",
        "convene_timers_planned",
        "convene_webhook_verifications_failed",
    } <= names
