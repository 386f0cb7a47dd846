"""A loopback Upclass meet API, as documented in its public API page.

Serves under /api/v1/ with the documented trailing slashes (a path without one
is a 404), checks X-API-KEY, validates create bodies (unknown fields included,
so a misspelt field fails loudly), keeps meetings in memory, and answers with
the documented bodies. Where the docs show a body but no status ("Cannot cancel
meeting") or say nothing (ending an ended meeting), it answers 400, the status
the docs give for refused requests.
"""

from __future__ import annotations

import itertools
import secrets
import string
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.emulators.base import Emulator

PREFIX = "/api/v1"
JOIN_HOST = "https://meet.upclass.test"
CREATE_FIELDS = {
    "topic": str,
    "start_date_time": str,
    "expires_at": str,
    "is_secured": bool,
    "record_on_cloud": bool,
    "feedback_required": bool,
    "participants": list,
}
PARTICIPANT_FIELDS = {"display_name": str, "external_user_id": str, "email": str, "role": str}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, error: str, detail: str, **extra: Any) -> web.Response:
    return web.json_response({"error": error, "detail": detail, **extra}, status=status)


class Refused(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


@dataclass
class Meeting:
    code: str
    body: dict[str, Any]
    status: str = "active"  # active | ended | expired
    started_at: str | None = None
    ended_at: str | None = None
    participants: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def join_url(self) -> str:
        return f"{JOIN_HOST}/{self.code}/"

    def summary(self) -> dict[str, Any]:
        return {
            "meeting_code": self.code,
            "join_url": self.join_url,
            "topic": self.body.get("topic", ""),
            "status": self.status,
            "is_secured": self.body.get("is_secured", False),
            "record_on_cloud": self.body.get("record_on_cloud", False),
            "feedback_required": self.body.get("feedback_required", False),
            "created_at": _now(),
            "start_date_time": self.body.get("start_date_time"),
            "expires_at": self.body.get("expires_at"),
        }


class UpclassEmulator(Emulator):
    def __init__(self, api_key: str = "uc_test_key", credits: float = 150.0) -> None:
        self.api_key = api_key
        self.active_key = True
        self.credits = credits
        self.meetings: dict[str, Meeting] = {}
        self._ids = itertools.count(1)
        super().__init__()
        self.app.middlewares.append(_refusals)

    def routes(self, router: web.UrlDispatcher) -> None:
        meeting = PREFIX + "/meetings/{code}/"
        router.add_post(PREFIX + "/meetings/", self.create)
        router.add_get(PREFIX + "/meetings/", self.list_meetings)
        router.add_get(meeting, self.get_meeting)
        router.add_delete(meeting, self.end_meeting)
        router.add_post(meeting + "cancel/", self.cancel)
        router.add_post(meeting + "participants/", self.register)
        router.add_get(meeting + "participants/", self.list_participants)
        router.add_get(meeting + "participants/{user}/", self.get_participant)
        router.add_delete(meeting + "participants/{user}/", self.remove_participant)

    # --- test controls -------------------------------------------------------

    def mark_joined(self, code: str) -> None:
        """Someone opened the meeting: from now on it cannot be cancelled."""
        self.meetings[code].started_at = _now()

    # --- helpers ------------------------------------------------------------

    def _authorize(self, request: web.Request) -> None:
        if request.headers.get("X-API-KEY") != self.api_key:
            raise Refused(_error(401, "Invalid API key", "The provided API key is not valid"))
        if not self.active_key:
            raise Refused(_error(403, "API key inactive", "This API key has been deactivated"))

    def _meeting(self, request: web.Request) -> Meeting:
        self._authorize(request)
        meeting = self.meetings.get(request.match_info["code"])
        if meeting is None:
            raise Refused(_error(404, "Meeting not found", "No meeting with this code exists"))
        return meeting

    async def _json(self, request: web.Request) -> dict[str, Any]:
        if request.content_type != "application/json":
            raise Refused(_error(400, "Bad request", "Content-Type must be application/json"))
        try:
            body = await request.json()
        except ValueError:
            raise Refused(_error(400, "Bad request", "Body is not valid JSON")) from None
        if not isinstance(body, dict):
            raise Refused(_error(400, "Bad request", "Body must be a JSON object"))
        return body

    def _register(self, meeting: Meeting, person: Any) -> dict[str, Any]:
        _check_fields(person, PARTICIPANT_FIELDS)
        name, user = person.get("display_name"), person.get("external_user_id")
        if not name or len(name) > 100 or not user:
            raise Refused(
                _error(400, "Bad request", "display_name (max 100) and external_user_id required")
            )
        if person.get("role", "attendee") not in ("host", "attendee"):
            raise Refused(_error(400, "Bad request", "role must be host or attendee"))
        if user in meeting.participants:
            raise Refused(
                _error(
                    409,
                    "Participant already registered",
                    f'A participant with external_user_id "{user}" is already registered '
                    "for this meeting",
                )
            )
        token = secrets.token_urlsafe(16)
        record = {
            "id": next(self._ids),
            "display_name": name,
            "external_user_id": user,
            "email": person.get("email"),
            "role": person.get("role", "attendee"),
            "participant_code": "".join(
                secrets.choice(string.ascii_uppercase + string.digits) for _ in range(6)
            ),
            "join_url": f"{meeting.join_url}?token={token}",
            "created_at": _now(),
        }
        meeting.participants[user] = record
        return record

    # --- endpoints ------------------------------------------------------------

    async def create(self, request: web.Request) -> web.Response:
        self._authorize(request)
        body = await self._json(request)
        _check_fields(body, CREATE_FIELDS)
        for name in ("start_date_time", "expires_at"):
            if name in body:
                _parse_iso(body[name], name)
        secured = body.get("is_secured", False)
        if (body.get("feedback_required") or body.get("participants")) and not secured:
            raise Refused(
                _error(
                    400,
                    "Meeting is not secured",
                    "Participant registration and feedback are only available for secured "
                    "meetings. Enable is_secured when creating the meeting.",
                )
            )
        if self.credits <= 0:
            raise Refused(
                _error(402, "Insufficient credits", "Your credits balance is too low to create")
            )
        code = "-".join(
            "".join(secrets.choice(string.ascii_uppercase) for _ in range(4)) for _ in range(3)
        )
        meeting = Meeting(code=code, body=body)
        registered = [self._register(meeting, person) for person in body.get("participants", [])]
        self.meetings[code] = meeting
        payload = {
            **meeting.summary(),
            "customer": "convene-tests",
            "credits_balance": self.credits,
            "billing_info": {
                "note": "Billing starts after 10 minutes of participant time. 1 credit = 1 hour.",
                "min_billable_minutes": 10,
            },
            "participants": registered,
        }
        del payload["status"]
        return web.json_response(payload, status=201)

    async def list_meetings(self, request: web.Request) -> web.Response:
        self._authorize(request)
        limit = int(request.query.get("limit", "50"))
        offset = int(request.query.get("offset", "0"))
        if not 1 <= limit <= 100:
            raise Refused(_error(400, "Bad request", "limit must be 1-100"))
        wanted = request.query.get("status")
        rows = [m.summary() for m in self.meetings.values() if wanted in (None, m.status)]
        page = rows[offset : offset + limit]
        return web.json_response(
            {"meetings": page, "count": len(rows), "limit": limit, "offset": offset}
        )

    async def get_meeting(self, request: web.Request) -> web.Response:
        meeting = self._meeting(request)
        people = list(meeting.participants.values())
        return web.json_response(
            {
                **meeting.summary(),
                "ended_at": meeting.ended_at,
                "participant_count": 1 if meeting.started_at else 0,
                "registered_participant_count": len(people),
                "registered_participants": people,
            }
        )

    async def end_meeting(self, request: web.Request) -> web.Response:
        meeting = self._meeting(request)
        if meeting.status != "active":
            raise Refused(_error(400, "Meeting is not active", "This meeting already ended"))
        meeting.status, meeting.ended_at = "ended", _now()
        return web.json_response(
            {
                "message": "Meeting ended successfully",
                "meeting_code": meeting.code,
                "ended_at": meeting.ended_at,
            }
        )

    async def cancel(self, request: web.Request) -> web.Response:
        meeting = self._meeting(request)
        if meeting.started_at:
            raise Refused(
                _error(
                    400,
                    "Cannot cancel meeting",
                    "This meeting has already been started by a participant and cannot "
                    "be cancelled.",
                    started_at=meeting.started_at,
                )
            )
        if meeting.status != "active":
            raise Refused(_error(400, "Meeting is not active", "This meeting already ended"))
        meeting.status = "expired"
        return web.json_response(
            {
                "message": "Meeting cancelled successfully",
                "meeting_code": meeting.code,
                "status": "expired",
            }
        )

    async def register(self, request: web.Request) -> web.Response:
        meeting = self._meeting(request)
        body = await self._json(request)
        if not meeting.body.get("is_secured"):
            raise Refused(
                _error(
                    400,
                    "Meeting is not secured",
                    "Participant registration is only available for secured meetings.",
                )
            )
        return web.json_response(self._register(meeting, body), status=201)

    async def list_participants(self, request: web.Request) -> web.Response:
        meeting = self._meeting(request)
        people = list(meeting.participants.values())
        return web.json_response(
            {
                "meeting_code": meeting.code,
                "is_secured": meeting.body.get("is_secured", False),
                "participants": people,
                "count": len(people),
            }
        )

    async def get_participant(self, request: web.Request) -> web.Response:
        person = self._person(request)
        return web.json_response({**person, "sessions": []})

    async def remove_participant(self, request: web.Request) -> web.Response:
        person = self._person(request)
        del self._meeting(request).participants[person["external_user_id"]]
        return web.json_response(
            {
                "message": "Participant removed successfully",
                "display_name": person["display_name"],
                "external_user_id": person["external_user_id"],
            }
        )

    def _person(self, request: web.Request) -> dict[str, Any]:
        person = self._meeting(request).participants.get(request.match_info["user"])
        if person is None:
            raise Refused(_error(404, "Participant not found", "No such participant"))
        return person


@web.middleware
async def _refusals(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Handlers raise Refused with the documented error body; answer with it."""
    try:
        return await handler(request)
    except Refused as refused:
        return refused.response


def _check_fields(body: Any, allowed: Mapping[str, type]) -> None:
    if not isinstance(body, dict):
        raise Refused(_error(400, "Bad request", "Expected a JSON object"))
    for name, value in body.items():
        if name not in allowed:
            raise Refused(_error(400, "Bad request", f"Unknown field {name!r}"))
        if not isinstance(value, allowed[name]):
            raise Refused(_error(400, "Bad request", f"{name} has the wrong type"))


def _parse_iso(value: str, name: str) -> datetime:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(_error(400, "Bad request", f"{name} must be ISO 8601")) from None
