"""`GET /calendar/<token>.ics` (one meeting) and `GET /calendar/feed/<token>.ics`
(a person's feed): verify the signed token, then ask for the file.

The token is checked before anything is looked up, and every failure (forged,
expired, meant for the other route, or a genuine token whose meeting is gone)
gets the same 404, so ids cannot be probed. Refusals are counted by one
`RefusalLog`, so a flood of forged tokens costs a log line a minute; the token
itself never reaches a log (the server keeps no access log, and reasons are
fixed phrases). Answers carry an ETag, so a calendar app polling the feed gets
a 304 while nothing changed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.calendar import FEED, MEETING, verify
from bot.inbound_limits import RefusalLog, refusal
from bot.ports import Clock

log = logging.getLogger(__name__)

FileLookup = Callable[[str], Awaitable[bytes | None]]  # verified subject -> .ics, or None

NOT_FOUND = "no such calendar"
CALENDAR_TYPE = "text/calendar"
MEETING_CACHE = "private, no-cache"  # always revalidated: a move or cancel shows at once
FEED_CACHE = "private, max-age=900"  # apps poll hourly or so; a quarter hour is fresh enough


def add_calendar_routes(
    app: web.Application,
    *,
    secret: str,
    clock: Clock,
    meeting_file: FileLookup,
    feed_file: FileLookup,
) -> None:
    """Serve both routes; `meeting_file(meeting_id)` and `feed_file(FeedOwner.subject)`
    get only subjects convene signed, and answer None for what no longer exists."""
    refusals = RefusalLog(log, what="refused calendar request")

    def route(purpose: str, lookup: FileLookup, cache: str) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            subject = verify(secret, purpose, request.match_info["token"], clock())
            if subject is None:
                return _not_found(refusals, f"{purpose} calendar: bad or expired token")
            body = await lookup(subject)
            if body is None:
                return _not_found(refusals, f"{purpose} calendar: nothing for a valid token")
            return _calendar(request, body, cache, _filename(purpose, subject))

        return handle

    app.router.add_get("/calendar/{token}.ics", route(MEETING, meeting_file, MEETING_CACHE))
    app.router.add_get("/calendar/feed/{token}.ics", route(FEED, feed_file, FEED_CACHE))


def _not_found(refusals: RefusalLog, reason: str) -> web.Response:
    """One answer for every failure; the log keeps the (fixed) reason."""
    refusals.note(reason, 404)
    return refusal(404, NOT_FOUND)


def _filename(purpose: str, subject: str) -> str | None:
    """A meeting's file downloads as `convene-<id>.ics`; a feed is shown, not saved."""
    if purpose != MEETING:
        return None
    safe = re.sub(r"[^A-Za-z0-9_-]", "", subject)[:40]
    return f"convene-{safe or 'meeting'}.ics"


def _calendar(request: web.Request, body: bytes, cache: str, filename: str | None) -> web.Response:
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {
        "Cache-Control": cache,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # the URL is the credential
    }
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    matches = request.if_none_match or ()
    if any(tag.value in (etag, "*") for tag in matches):
        response = web.Response(status=304, headers=headers)
    else:
        response = web.Response(
            body=body, content_type=CALENDAR_TYPE, charset="utf-8", headers=headers
        )
    response.etag = etag
    return response
