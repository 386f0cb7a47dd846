"""Upclass meet (https://meet.upclass.ai/api/v1/, header X-API-KEY).

Every room is a *secured* meeting with the organizer registered in the create
body as a participant with role `host`; that participant's personal join_url
(it carries a token) is the host link, and the meeting's own join_url goes to
the channel. `feedback_required` only works on secured meetings, which is a
second reason to always secure them. Every path ends with a slash, as the
API requires. The room id is Upclass's meeting code, e.g. "ABCD-EFGH-IJKL".

Its `cancel_room` is a real cancel (Upclass bills nothing for a meeting nobody
joined, but cancels only those; otherwise it ends the meeting). Besides the
protocol it offers `add_participant` (a personal link for one more person).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import ProviderHTTP

NAME = "upclass"
LABEL = LABELS[NAME]
GRACE = timedelta(hours=1)  # keep an overrunning meeting usable for an hour

OUT_OF_CREDITS = (
    "Upclass says this account is out of credits; ask an admin to top up or switch "
    "provider with /meet config provider <name>."
)
INACTIVE_KEY = (
    "Upclass says convene's API key is inactive; ask an admin to check the key with "
    "Upclass or switch provider with /meet config provider <name>."
)
DUPLICATE = (
    "Upclass says this person is already registered for the meeting, so convene "
    "could not register them again."
)
UNREADABLE = "Upclass answered in a way convene did not understand; try again in a minute."
CLOSED = ("ended", "expired")  # expired: cancelled, or past expires_at


class CannotCancel(errors.Conflict):
    """Upclass cancels only meetings nobody has joined yet."""

    default = "{provider} cannot cancel a meeting someone has already joined."


class UpclassHTTP(ProviderHTTP):
    """Reads Upclass's `{"error", "detail"}` bodies for the cases a status can't tell."""

    def classify(self, response: httpx.Response, retry_after: float | None) -> errors.ProviderError:
        status = response.status_code
        if _error_field(response) == "Cannot cancel meeting":
            return CannotCancel(self.label)
        if status == 402:
            return errors.QuotaError(self.label, OUT_OF_CREDITS)
        if status == 403:
            return errors.AuthError(self.label, INACTIVE_KEY)
        if status == 409:
            return errors.Conflict(self.label, DUPLICATE)
        return super().classify(response, retry_after)


class UpclassProvider:
    name = NAME
    label = LABEL
    capabilities = Capabilities(host_link=True)

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http

    async def create_room(self, spec: RoomSpec) -> Room:
        body: dict[str, Any] = {
            "expires_at": _iso(spec.end + GRACE),
            "is_secured": True,
            "feedback_required": spec.feedback,
            "participants": [_participant(spec.organizer_id, spec.organizer_name, "host")],
        }
        if spec.title:
            body["topic"] = spec.title
        if not spec.instant:
            body["start_date_time"] = _iso(spec.start)
        meeting = _json(await self.http.request("POST", "meetings/", json=body))
        code, join_url = meeting.get("meeting_code"), meeting.get("join_url")
        if not isinstance(code, str) or not isinstance(join_url, str):
            raise errors.ProviderError(LABEL, UNREADABLE)
        host_url = _host_link(meeting.get("participants"), spec.organizer_id)
        if host_url is None:  # not echoed back: register the organizer explicitly
            host_url = await self.add_participant(
                code, spec.organizer_id, spec.organizer_name, host=True
            )
        return Room(room_id=code, join_url=join_url, host_url=host_url)

    async def add_participant(
        self, room_id: str, user_id: str, name: str = "", *, host: bool = False
    ) -> str:
        """Register one person and return their personal join link.

        Registering someone twice is answered with their existing link, so a
        retry or a second "send me my link" is harmless.
        """
        role = "host" if host else "attendee"
        try:
            response = await self.http.request(
                "POST",
                f"{_meeting(room_id)}participants/",
                json=_participant(user_id, name, role),
                idempotent=True,
            )
        except errors.Conflict:
            response = await self.http.request(
                "GET", f"{_meeting(room_id)}participants/{quote(user_id, safe='')}/"
            )
        link = _json(response).get("join_url")
        if not isinstance(link, str):
            raise errors.ProviderError(LABEL, UNREADABLE)
        return link

    async def end_room(self, room_id: str) -> None:
        try:
            await self.http.request("DELETE", _meeting(room_id))
        except errors.NotFound:
            return
        except (errors.InvalidRequest, errors.Conflict):
            if not await self._ended(room_id):
                raise

    async def cancel_room(self, room_id: str) -> None:
        """Cancel a meeting nobody joined; end it instead once someone has."""
        try:
            await self.http.request("POST", f"{_meeting(room_id)}cancel/", idempotent=True)
        except errors.NotFound:
            return
        except CannotCancel:
            await self.end_room(room_id)
        except (errors.InvalidRequest, errors.Conflict):
            if not await self._ended(room_id):
                raise

    async def _ended(self, room_id: str) -> bool:
        """Upclass may refuse to end or cancel a closed meeting; closed is what we wanted."""
        response = await self.http.get_or_none(_meeting(room_id))
        return response is None or _json(response).get("status") in CLOSED

    async def check(self) -> None:
        await self.http.request("GET", "meetings/", params={"limit": "1"})


def _meeting(room_id: str) -> str:
    return f"meetings/{quote(room_id, safe='')}/"


def _participant(user_id: str, name: str, role: str) -> dict[str, str]:
    return {"display_name": (name or user_id)[:100], "external_user_id": user_id, "role": role}


def _host_link(participants: Any, organizer_id: str) -> str | None:
    for person in participants if isinstance(participants, list) else []:
        if (
            isinstance(person, dict)
            and person.get("external_user_id") == organizer_id
            and person.get("role") == "host"
            and isinstance(person.get("join_url"), str)
        ):
            return str(person["join_url"])
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise errors.ProviderError(LABEL, UNREADABLE)
    return body


def _error_field(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> UpclassProvider:
    """`clock` is unused: Upclass itself knows whether a meeting is over."""
    headers = {"X-API-KEY": settings.upclass_api_key or ""}
    return UpclassProvider(UpclassHTTP(client, settings.upclass_api_url, LABEL, headers=headers))
