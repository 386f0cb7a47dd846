"""What a request to `POST /slack/events` must pass before bolt sees it.

In order, each step cheap and none parsing what it has not verified:

1. size: at most MAX_BODY_BYTES (413);
2. headers: `X-Slack-Request-Timestamp` plain ASCII digits, `X-Slack-Signature`
   `v0=` and 64 hex digits (401, without an exception);
3. window: the timestamp within Slack's 5 minutes of convene's clock (401);
4. signature: slack_sdk's `SignatureVerifier` over the raw body (401);
5. shape: the body parses the way bolt will parse it, within depth and field
   bounds, into one of the shapes Slack sends (400);
6. replay: a signature seen before inside its window, or a Slack retry
   (`X-Slack-Retry-Num`) of a body already handled, is acknowledged (200, empty)
   and not dispatched.

Bolt's own signature check is switched off (`request_verification_enabled=False`):
it reads the machine's clock, and this one reads the service's.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web
from slack_sdk.signature import Clock as SignatureClock
from slack_sdk.signature import SignatureVerifier

from bot.inbound_limits import Refused, parse_form, parse_json_object, read_body
from bot.observability import WEBHOOK_VERIFICATIONS_FAILED

WINDOW_SECONDS = 300  # Slack's: "more than five minutes from local time" is a replay
_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # [0-9], not \d: no other scripts' digits
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class ServiceClock(SignatureClock):
    """slack_sdk's verifier clock, reading convene's one clock."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now

    def now(self) -> float:
        return self._now().timestamp()


class SlackRequestGate:
    def __init__(
        self,
        signing_secret: str,
        now: Callable[[], datetime],
        first_time: Callable[[str], Awaitable[bool]],
    ) -> None:
        """`first_time(key)`: True the first time a key is recorded, by any replica."""
        self._now = now
        self._verifier = SignatureVerifier(signing_secret, ServiceClock(now))
        self._first_time = first_time

    async def admit(self, request: web.Request) -> str | None:
        """The verified body to hand to bolt; None for a replay to acknowledge and
        drop. Raises Refused for everything else (a failed verification is counted)."""
        try:
            return await self._admit(request)
        except Refused as refused:
            if refused.status == 401:
                WEBHOOK_VERIFICATIONS_FAILED.labels(source="slack").inc()
            raise

    async def _admit(self, request: web.Request) -> str | None:
        try:
            body = await read_body(request)
        except Refused as refused:
            raise Refused(refused.status, f"Slack {refused.reason}") from None
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (_TIMESTAMP.fullmatch(timestamp) and _SIGNATURE.fullmatch(signature)):
            raise Refused(401, "Slack signature headers missing or malformed")
        now = self._now()
        if abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
            raise Refused(401, "Slack request timestamp outside the 5-minute window")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Refused(401, "Slack signature does not match") from exc
        if not self._verifier.is_valid(text, timestamp, signature):
            raise Refused(401, "Slack signature does not match")
        try:
            check_shape(text, request.headers.get("Content-Type"))
        except Refused as refused:
            raise Refused(refused.status, f"Slack request: {refused.reason}") from None
        if not await self._first_time(f"slack-signature:{timestamp}:{signature}"):
            return None
        digest = hashlib.sha256(body).hexdigest()
        handled = not await self._first_time(f"slack-body:{digest}")
        if handled and "X-Slack-Retry-Num" in request.headers:
            return None
        return text


def check_shape(text: str, content_type: str | None) -> None:
    """Parse as bolt's `parse_body` will (JSON when declared or when the body starts
    with `{`; else a form, whose `payload` field is JSON), but bounded, and insist on
    what Slack sends over HTTP: an Events API object with a `type`, or a form with a
    slash command's `command`, an interaction's `payload` object, or `ssl_check`.
    Refused(400) otherwise."""
    declared = (content_type or "").split(";")[0]
    if declared == "application/json" or text.startswith("{"):
        if not isinstance(parse_json_object(text).get("type"), str):
            raise Refused(400, "not a Slack event")
        return
    fields = parse_form(text)
    if "payload" in fields:
        parse_json_object(fields["payload"])
    elif "command" not in fields and "ssl_check" not in fields:
        raise Refused(400, "not a Slack command or interaction")
