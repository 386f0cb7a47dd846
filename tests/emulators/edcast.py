"""A loopback EdCast developer API, as documented in its public API page.

Serves under /api/developer/v1, checks X-API-Key, wraps every answer in the
`{success, data}` envelope, validates create bodies (unknown fields included,
so a misspelt field fails loudly), caps free-tier meetings at 10 minutes, and
counts creates per month: the 11th answers the documented 403 "Monthly limit
reached". Deleted meetings disappear from the list, as the docs say.
"""

from __future__ import annotations

import itertools
import secrets
import string
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.emulators.base import Emulator

PREFIX = "/api/developer/v1"
JOIN_HOST = "https://edcast.test"
FREE_LENGTH = timedelta(minutes=10)
CREATE_FIELDS = {"type": str, "title": str, "end_date": str}


class Refused(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        self.response = web.json_response(
            {"success": False, "error": error, "message": message}, status=status
        )


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class EdCastEmulator(Emulator):
    def __init__(
        self, api_key: str = "sk_live_testkey0000", monthly_limit: int | None = 10
    ) -> None:
        self.api_key = api_key
        self.active = True
        self.monthly_limit = monthly_limit  # None: a paid plan
        self.created_this_month = 0
        self.meetings: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(1245)
        super().__init__()
        self.app.middlewares.append(_refusals)

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(PREFIX + "/meetings", self.create)
        router.add_get(PREFIX + "/meetings", self.list_meetings)
        router.add_delete(PREFIX + "/meetings/{id}", self.delete)

    def new_month(self) -> None:
        self.created_this_month = 0

    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("X-API-Key") != self.api_key:
            raise Refused(401, "Invalid API Key", "X-API-Key is missing, invalid, or revoked.")
        if not self.active:
            raise Refused(403, "Account inactive", "Your organization has been deactivated.")

    async def create(self, request: web.Request) -> web.Response:
        self._authorize(request)
        if request.content_type != "application/json":
            raise Refused(400, "Validation error", "Content-Type must be application/json.")
        try:
            body = await request.json()
        except ValueError:
            raise Refused(400, "Validation error", "Body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise Refused(400, "Validation error", "Body must be a JSON object.")
        for name, value in body.items():
            if name not in CREATE_FIELDS or not isinstance(value, CREATE_FIELDS[name]):
                raise Refused(400, "Validation error", f"Field {name!r} is not accepted.")
        kind = body.get("type", "instant")
        if kind not in ("instant", "normal"):
            raise Refused(400, "Validation error", "type must be instant or normal.")
        now = datetime.now(UTC)
        end = now + FREE_LENGTH
        if "end_date" in body:
            try:
                wanted = datetime.fromisoformat(body["end_date"].replace("Z", "+00:00"))
            except ValueError:
                raise Refused(400, "Validation error", "end_date must be ISO 8601.") from None
            if wanted.tzinfo is None:
                wanted = wanted.replace(tzinfo=UTC)
            end = min(wanted, end) if self.monthly_limit is not None else wanted
        if self.monthly_limit is not None and self.created_this_month >= self.monthly_limit:
            raise Refused(
                403,
                "Monthly limit reached",
                "Free tier organizations can only create 10 meetings per month via the API.",
            )
        self.created_this_month += 1
        code = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))
        meeting = {
            "id": next(self._ids),
            "title": body.get("title", "Instant Meeting"),
            "meeting_code": code,
            "join_link": f"{JOIN_HOST}/{code}",
            "visibility": "public",
            "start_time": _iso(now),
            "end_time": _iso(end),
            "created_at": _iso(now),
        }
        self.meetings[meeting["id"]] = meeting
        return web.json_response({"success": True, "data": meeting}, status=201)

    async def list_meetings(self, request: web.Request) -> web.Response:
        self._authorize(request)
        rows = sorted(self.meetings.values(), key=lambda m: m["id"], reverse=True)
        return web.json_response({"success": True, "count": len(rows), "data": rows})

    async def delete(self, request: web.Request) -> web.Response:
        self._authorize(request)
        raw = request.match_info["id"]
        meeting_id = int(raw) if raw.isdigit() else -1
        if self.meetings.pop(meeting_id, None) is None:
            raise Refused(404, "Meeting not found", "ID doesn't exist or belongs to another org.")
        return web.json_response(
            {"success": True, "message": "Meeting and associated join link deleted successfully"}
        )


@web.middleware
async def _refusals(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Handlers raise Refused with the documented error body; answer with it."""
    try:
        return await handler(request)
    except Refused as refused:
        return refused.response
