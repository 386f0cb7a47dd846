"""What every inbound HTTP request must get past before convene believes or parses it.

The order on every route is: size limit, then signature or token and timestamp
window, and only then a parser with a nesting bound. A request that fails any
step is `Refused` with a fixed, short reason (never an echo of what was sent)
and a 400/401/413, and is counted by a `RefusalLog` rather than logged each
time, so a flood of garbage costs a line a minute, not a line a request.

    Refused(status, reason)   413 too large, 401 unauthenticated, 400 malformed
    read_body                 the raw bytes, at most MAX_BODY_BYTES
    parse_json / parse_form   bounded: depth, field count; Refused(400) on anything else
    RefusalLog                first refusal of each reason, then counts once a minute
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

MAX_BODY_BYTES = 1024 * 1024  # the HTTP server's client_max_size; Slack's payloads are far smaller
MAX_DEPTH = 64  # Slack's deepest payloads (rich text in a view) nest about ten levels
MAX_FORM_FIELDS = 100  # a slash command posts about fifteen


class Refused(Exception):
    """The request is turned away. `reason` is a fixed phrase, safe to log and to answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def refusal(status: int, reason: str) -> web.Response:
    """A short answer naming the reason; no request data in it."""
    return web.json_response({"ok": False, "error": reason}, status=status)


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused (413) by its declared length before any byte is read,
    or as soon as more than `limit` bytes have arrived (chunked uploads)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Refused(413, "request body too large")
    body = bytearray()
    while chunk := await request.content.readany():
        body += chunk
        if len(body) > limit:
            raise Refused(413, "request body too large")
    return bytes(body)


# --- bounded parsing --------------------------------------------------------------------

_ESCAPE = re.compile(rb"\\.", re.S)
_STRING = re.compile(rb'"[^"]*"')  # linear: after escapes are gone, a string holds no quote
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_AS_SQUARE = bytes.maketrans(b"{}", b"[]")  # depth does not care which kind of bracket


def nesting_within(data: bytes, max_depth: int = MAX_DEPTH) -> bool:
    """True when `data`'s brackets are balanced and nest at most `max_depth` deep.

    A cheap pre-scan, so that a megabyte of `[[[[` never reaches json: strings
    are dropped, only brackets kept, and each pass removes the innermost pairs
    (all C-speed); anything left after `max_depth` passes is too deep or unclosed.
    `[}` counts as a pair: json refuses it, at the depth counted here."""
    if data.count(b"[") + data.count(b"{") <= max_depth:
        return True
    brackets = _STRING.sub(b"", _ESCAPE.sub(b"", data)).translate(_AS_SQUARE, _NOT_BRACKETS)
    for _ in range(max_depth):
        if not brackets:
            return True
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            return False  # an unclosed "[" or a stray "]"
        brackets = shorter
    return not brackets


def parse_json(text: str | bytes, max_depth: int = MAX_DEPTH) -> Any:
    """json.loads behind the depth pre-scan; Refused(400) for anything json refuses."""
    try:
        data = text.encode() if isinstance(text, str) else text
        if not nesting_within(data, max_depth):
            raise Refused(400, "body nests too deeply or is malformed")
        return json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeError is a ValueError
        raise Refused(400, "body is not valid JSON") from exc


def parse_json_object(text: str | bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    payload = parse_json(text, max_depth)
    if not isinstance(payload, dict):
        raise Refused(400, "body is not a JSON object")
    return payload


def parse_form(text: str, max_fields: int = MAX_FORM_FIELDS) -> dict[str, str]:
    """An urlencoded form, refusing (400) more than `max_fields` fields."""
    try:
        return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=max_fields))
    except ValueError as exc:
        raise Refused(400, "form has too many fields") from exc


# --- logging refusals without a flood ---------------------------------------------------


class RefusalLog:
    """Logs the first refusal of each reason, then at most one line a minute with
    the counts since. Reasons are fixed phrases, so the set of them stays small.

    Minutes here are real seconds (`time.monotonic`): this throttles log output,
    which is read in real time; it decides nothing about meetings."""

    def __init__(
        self,
        logger: logging.Logger,
        *,
        what: str = "refused inbound request",
        every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._what = what
        self._every = every
        self._clock = clock
        self._first_seen: set[str] = set()
        self._pending: Counter[str] = Counter()
        self._last_summary = clock()

    def note(self, reason: str, status: int, exc_info: BaseException | None = None) -> None:
        """Count one refusal; `exc_info` (a bug, not bad input) is logged with the first."""
        key = f"{status} {reason}"
        if key not in self._first_seen:
            self._first_seen.add(key)
            self._log.warning(
                "%s: %s (more like it are counted, logged at most once a minute)",
                self._what,
                key,
                exc_info=exc_info,
            )
            return
        self._pending[key] += 1
        now = self._clock()
        if now - self._last_summary >= self._every:
            counts = ", ".join(f"{k} x{n}" for k, n in self._pending.most_common())
            self._log.warning(
                "%s: %d more in the last %.0fs: %s",
                self._what,
                sum(self._pending.values()),
                now - self._last_summary,
                counts,
            )
            self._pending.clear()
            self._last_summary = now
