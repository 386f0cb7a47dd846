"""What an adversary sends convene's HTTP server: signed and unsigned bodies for each
route, nested JSON, oversized bodies. Shared by the hostile-input tests and the fuzz.

Signatures are computed here from the raw bytes (not through the Slack emulator's
client), so a test can sign bytes that are not UTF-8, sign at any moment of the
app's clock, and add any header.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from datetime import datetime
from typing import Any

import aiohttp
import pytest

from bot.inbound_limits import MAX_BODY_BYTES
from bot.providers.webhooks import metered_webhook_token
from tests.emulators import slack as emu

WHEREBY_SECRET = "whsec-hostile-secret"
EYESON_KEY = "eyeson-hostile-key"
METERED_KEY = "metered-hostile-key"
WEBHOOKS: dict[str, Any] = {
    "whereby_webhook_secret": WHEREBY_SECRET,
    "eyeson_api_key": EYESON_KEY,
    "metered_secret_key": METERED_KEY,
}
OAUTH: dict[str, Any] = {
    "slack_bot_token": None,
    "slack_client_id": emu.CLIENT_ID,
    "slack_client_secret": emu.CLIENT_SECRET,
}
SECRETS = (emu.SIGNING_SECRET, WHEREBY_SECRET, EYESON_KEY, METERED_KEY, emu.CLIENT_SECRET)

NESTED = b"[" * 50_000
OVERSIZED = b"[" * (MAX_BODY_BYTES + 1)
TRACEBACK = re.compile(r"Traceback|File \"|RecursionError|JSONDecodeError")


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


def slack_headers(
    body: bytes,
    timestamp: int | str,
    *,
    secret: str = emu.SIGNING_SECRET,
    content_type: str = "application/x-www-form-urlencoded",
    **extra: str,
) -> dict[str, str]:
    """Headers as Slack signs them: HMAC-SHA256 of b"v0:<ts>:" + body."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": f"v0={digest}",
        **extra,
    }


def whereby_headers(body: bytes, timestamp: int, secret: str = WHEREBY_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Whereby-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


def eyeson_headers(body: bytes, key: str = EYESON_KEY) -> dict[str, str]:
    return {"X-Eyeson-Signature": hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}


def metered_path(room: str = "standup-1a2b3c4d", key: str = METERED_KEY) -> str:
    return f"/webhooks/metered/{metered_webhook_token(key, room)}"


async def send(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    async with session.request(
        method, url, data=body, headers=headers or {}, allow_redirects=False
    ) as response:
        return response.status, await response.text()


def problems_in_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records that show a traceback or quote a secret: none are allowed."""
    found = []
    for record in caplog.records:
        text = record.getMessage()
        if record.exc_info or TRACEBACK.search(text):
            found.append(f"{record.name}: traceback: {text[:120]}")
        if any(secret in text for secret in SECRETS):
            found.append(f"{record.name}: quotes a secret")
    return found


def warnings_and_worse(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.WARNING]
