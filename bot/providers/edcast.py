"""EdCast developer API (https://api.edcast.online/api/developer/v1, header X-API-Key).

EdCast gives each meeting one public join link and no host link, so the
organizer gets a `host_note` saying so. Scheduled meetings are created as type
"normal" with an `end_date`; the API documents no start field, so rooms are not
scheduled ahead and open when created. Instant meetings are type "instant".
There is no cancel: cancelling deletes the meeting like ending. The room id
is EdCast's numeric meeting id as a string; the 10-character meeting code is
kept in `Room.extra`.

Every answer is a `{success, data}` envelope: `success: false` is a failure
even when the status is 200, and errors name themselves in an `error` field,
which is how the free plan's monthly limit (a 403) is told apart from an
inactive account (also a 403).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any
from urllib.parse import quote

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import ProviderHTTP, error_for_status

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
UNREADABLE = "EdCast answered in a way convene did not understand; try again in a minute."
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
        return error_for(response.status_code, _body(response), retry_after)


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
        data = _unwrap(await self.http.request("POST", "meetings", json=body)).get("data")
        if not isinstance(data, dict):
            raise errors.ProviderError(LABEL, UNREADABLE)
        meeting_id, join_link = data.get("id"), data.get("join_link")
        if meeting_id is None or not isinstance(join_link, str):
            raise errors.ProviderError(LABEL, UNREADABLE)
        code = data.get("meeting_code")
        extra = {"meeting_code": code} if isinstance(code, str) else {}
        return Room(room_id=str(meeting_id), join_url=join_link, host_note=HOST_NOTE, extra=extra)

    async def end_room(self, room_id: str) -> None:
        response = await self.http.delete(f"meetings/{quote(room_id, safe='')}")
        if response is not None:
            _unwrap(response)

    async def cancel_room(self, room_id: str) -> None:
        await self.end_room(room_id)

    async def check(self) -> None:
        _unwrap(await self.http.request("GET", "meetings"))


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _unwrap(response: httpx.Response) -> dict[str, Any]:
    """The envelope of a 2xx answer; `success` other than true is a failure."""
    if response.status_code == 204 and not response.content:
        return {"success": True}
    body = _body(response)
    if not isinstance(body, dict) or "success" not in body:
        raise errors.ProviderError(LABEL, UNREADABLE)
    if body["success"] is not True:
        raise error_for(response.status_code, body)
    return body


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> EdCastProvider:
    """`clock` is unused: a meeting's end is sent as its end_date, not compared."""
    headers = {"X-API-Key": settings.edcast_api_key or ""}
    return EdCastProvider(EdCastHTTP(client, settings.edcast_api_url, LABEL, headers=headers))
