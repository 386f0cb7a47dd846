"""Upclass meet (https://meet.upclass.ai/api/v1/, header X-API-KEY).

Every room is a *secured* meeting with the organizer registered in the create
body as a participant with role `host`; that participant's personal join_url
(it carries a token) is the host link, and the meeting's own join_url goes to
the channel. `feedback_required` only works on secured meetings, which is a
second reason to always secure them. Every path ends with a slash, as the
API requires. The room id is Upclass's meeting code, e.g. "ABCD-EFGH-IJKL".

Its `cancel_room` is a real cancel (Upclass bills nothing for a meeting nobody
joined, but cancels only those; otherwise it ends the meeting). Its
`personal_link` registers the person as an attendee (`Person.key` as
external_user_id) and returns their own join_url; `add_participant` does the
registering, for the host too. Upclass sends no webhooks, so attendance cannot
come from it.

A create whose outcome is unknown (timeout, 5xx, a 2xx convene cannot read) is
never repeated. If the answer still names its meeting_code, `GET
/meetings/{code}/` recovers the meeting (join_url, and the host's link from
registered_participants); a meeting that cannot be read is cancelled. Without
a code it cannot be found: Upclass chooses the code, `GET /meetings/` filters by
status only, and nothing convene sends (topic, times, the organizer's id) tells
one request's meeting from another's, e.g. a series posting the same title in
several channels at 09:30, so convene reports Unavailable rather than guess.
Nobody holds that meeting's links, Upclass bills participant time only, and it
expires at expires_at. A meeting whose host cannot be registered is cancelled
too: a secured meeting without its host link is not half-made.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Person, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import (
    READ_ERRORS,
    ProviderHTTP,
    field,
    identifier_or_none,
    link,
    payload,
    text,
)

log = logging.getLogger(__name__)

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
    capabilities = Capabilities(host_link=True, personal_link=True)

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
        meeting = await self.http.create(
            "meetings/",
            body,
            pick=lambda answer: _read_meeting(answer, "participants"),
            settle=self._settle,
        )
        host_url = _host_link(meeting.people, spec.organizer_id)
        if host_url is None:  # not echoed back: register the organizer explicitly
            try:
                host_url = await self.add_participant(
                    meeting.code, spec.organizer_id, spec.organizer_name, host=True
                )
            except errors.ProviderError:
                await self.http.quietly(
                    "cancel a meeting without its host", self.cancel_room(meeting.code)
                )
                raise
        return Room(room_id=meeting.code, join_url=meeting.join_url, host_url=host_url)

    async def _settle(self, answer: Any) -> _Meeting | None:
        """Recover by the meeting_code a create of unknown outcome still named, or
        cancel it; without a code there is nothing to go by (module docstring)."""
        code = identifier_or_none(field(answer, "meeting_code"))
        if code is None:
            return None
        response = await self.http.quietly(
            "read the meeting it created", self.http.get_or_none(_meeting(code))
        )
        found = payload(response) if response is not None else None
        if field(found, "status") in CLOSED:
            return None  # closed already: nothing left open
        try:
            meeting = _read_meeting(found, "registered_participants")
            if meeting.code == code:
                return meeting
        except READ_ERRORS:
            pass
        await self.http.quietly("cancel a meeting it cannot use", self.cancel_room(code))
        return None

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
        return self.http.read(response, lambda answer: _join_link(answer, host=host))

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """The person's own attendee link; an earlier registration is reused, but
        never one registered as host."""
        return await self.add_participant(room_id, person.key, person.name)

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
        return response is None or field(payload(response), "status") in CLOSED

    async def check(self) -> None:
        await self.http.request("GET", "meetings/", params={"limit": "1"})


class _Meeting(NamedTuple):
    code: str
    join_url: str
    people: Any  # the registered participants, as the answer gave them


def _read_meeting(answer: Any, people: str) -> _Meeting:
    """A meeting from a create (`participants`) or GET (`registered_participants`)
    answer; raises a READ_ERRORS error when it is not one."""
    return _Meeting(text(answer["meeting_code"]), link(answer["join_url"]), answer.get(people))


def _meeting(room_id: str) -> str:
    return f"meetings/{quote(room_id, safe='')}/"


def _participant(user_id: str, name: str, role: str) -> dict[str, str]:
    return {"display_name": (name or user_id)[:100], "external_user_id": user_id, "role": role}


def _join_link(answer: Any, *, host: bool) -> str:
    """A participant's join_url; an attendee's request answered with a host's
    registration (the same external id) is refused, so no host link leaks."""
    if not host and answer.get("role") == "host":
        raise errors.Conflict(LABEL, DUPLICATE)
    return link(answer["join_url"])


def _host_link(participants: Any, organizer_id: str) -> str | None:
    for person in participants if isinstance(participants, list) else []:
        if field(person, "external_user_id") == organizer_id and field(person, "role") == "host":
            try:
                return link(field(person, "join_url"))
            except READ_ERRORS:
                return None
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error_field(response: httpx.Response) -> str | None:
    error = field(payload(response), "error")
    return error if isinstance(error, str) else None


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> UpclassProvider:
    """`clock` is unused: Upclass itself knows whether a meeting is over."""
    headers = {"X-API-KEY": settings.upclass_api_key or ""}
    return UpclassProvider(UpclassHTTP(client, settings.upclass_api_url, LABEL, headers=headers))
