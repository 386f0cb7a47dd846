"""EdCast developer API (https://api.edcast.online/api/developer/v1, header X-API-Key).

EdCast gives each meeting one public join link and no host link, so the
organizer gets a `host_note` saying so; there are no personal links either.
Scheduled meetings are created as type "normal" with an `end_date`; the API
documents no start field, so rooms are not scheduled ahead and open when
created. Instant meetings are type "instant".
There is no cancel: cancelling deletes the meeting like ending. The room id
is EdCast's numeric meeting id as a string; the 10-character meeting code is
kept in `Room.extra`.

Every answer is a `{success, data}` envelope: `success: false` is a failure
even when the status is 200, and errors name themselves in an `error` field,
which is how the free plan's monthly limit (a 403) is told apart from an
inactive account (also a 403).

A create whose outcome is unknown (timeout, 5xx, a 2xx convene cannot read) is
never repeated. If the answer still names the meeting's `id`, the meeting is
recovered from `GET /meetings` (every meeting, newest first, one answer) by
that id, or deleted when it cannot be read there. Without an id it cannot be
found: EdCast chooses id and code, the list has no filter, and a title and
times do not tell one request's meeting from another's (a series posting the
same title in several channels at once), so convene reports Unavailable rather
than guess. Nobody holds that meeting's link; it ends at its end_time (ten
minutes on the free plan) but counts toward the plan's monthly meetings.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import quote

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Person, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import (
    READ_ERRORS,
    ProviderHTTP,
    error_for_status,
    field,
    identifier,
    identifier_or_none,
    link,
    payload,
)

NAME = "edcast"
LABEL = LABELS[NAME]

HOST_NOTE = (
    "EdCast gives one link for everyone, so there is no separate host link: join with "
    "the same link as the channel."
)
MONTHLY_LIMIT = (
    "EdCast's free plan allows 10 API meetings a month and this workspace has used them; "
    "ask an admin to upgrade or switch provider with /meet config provider <name>."
)
ACCOUNT_INACTIVE = (
    "EdCast says this organization's account is inactive; ask an admin to check the "
    "EdCast account or switch provider with /meet config provider <name>."
)
FAILED = "EdCast could not handle the request; try again in a minute."

# The documented `error` values and the status each one stands for, used when
# a failure arrives with status 200 and `success: false`.
KNOWN_ERRORS = {
    "invalid api key": 401,
    "account inactive": 403,
    "monthly limit reached": 403,
    "validation error": 400,
    "meeting not found": 404,
    "internal server error": 500,
}


def error_for(status: int, body: Any, retry_after: float | None = None) -> errors.ProviderError:
    """Map a failed answer (by status, refined by the `error` field) to the error tree."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error.strip().lower() if isinstance(error, str) else ""
    if error == "monthly limit reached":
        return errors.QuotaError(LABEL, MONTHLY_LIMIT)
    if status < 400:
        status = KNOWN_ERRORS.get(error, 0)
        if not status:
            return errors.ProviderError(LABEL, FAILED)
    if status == 403:
        return errors.AuthError(LABEL, ACCOUNT_INACTIVE)
    return error_for_status(LABEL, status, retry_after)


class EdCastHTTP(ProviderHTTP):
    def classify(self, response: httpx.Response, retry_after: float | None) -> errors.ProviderError:
        return error_for(response.status_code, payload(response), retry_after)


class EdCastProvider:
    name = NAME
    label = LABEL
    capabilities = Capabilities()  # one link for everyone: no host link

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http

    async def create_room(self, spec: RoomSpec) -> Room:
        body: dict[str, Any] = {"type": "instant" if spec.instant else "normal"}
        if spec.title:
            body["title"] = spec.title
        if not spec.instant:
            body["end_date"] = spec.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return await self.http.create(
            "meetings", body, pick=lambda answer: _room(_data(answer)), settle=self._settle
        )

    async def _settle(self, answer: Any) -> Room | None:
        """Recover by the id a create of unknown outcome still named, or delete it;
        without an id there is nothing to go by (module docstring)."""
        meeting_id = identifier_or_none(field(answer, "data", "id"))
        if meeting_id is None:
            return None
        response = await self.http.quietly(
            "list meetings to find the one it created", self.http.request("GET", "meetings")
        )
        try:
            listed = _data(payload(response) if response is not None else None)
            for meeting in listed if isinstance(listed, list) else []:
                if identifier_or_none(field(meeting, "id")) == meeting_id:
                    return _room(meeting)
        except (errors.ProviderError, *READ_ERRORS):
            pass
        await self.http.quietly("delete a meeting it cannot use", self.end_room(meeting_id))
        return None

    async def end_room(self, room_id: str) -> None:
        response = await self.http.delete(f"meetings/{quote(room_id, safe='')}")
        if response is not None and response.content:  # a bare 204 is done too
            self.http.read(response, _data)

    async def cancel_room(self, room_id: str) -> None:
        await self.end_room(room_id)

    async def check(self) -> None:
        self.http.read(await self.http.request("GET", "meetings"), _data)

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """EdCast documents one public link per meeting and nothing per person."""
        return None


def _data(answer: Any) -> Any:
    """The `data` of a 2xx envelope; `success` other than true is the failure it names."""
    if answer["success"] is not True:
        raise error_for(200, answer)
    return answer.get("data")


def _room(data: Any) -> Room:
    """A Room from a meeting object; raises a READ_ERRORS error when it is not one."""
    code = data.get("meeting_code")
    return Room(
        room_id=identifier(data["id"]),
        join_url=link(data["join_link"]),
        host_note=HOST_NOTE,
        extra={"meeting_code": code} if isinstance(code, str) else {},
    )


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> EdCastProvider:
    """`clock` is unused: a meeting's end is sent as its end_date, not compared."""
    headers = {"X-API-Key": settings.edcast_api_key or ""}
    return EdCastProvider(EdCastHTTP(client, settings.edcast_api_url, LABEL, headers=headers))
