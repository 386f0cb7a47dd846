"""Whereby Embedded: transient rooms through the REST API (`/v1/meetings`).

    POST   /meetings            201 Meeting (endDate required; fields=[hostRoomUrl])
    GET    /meetings?cursor=    200 {results, cursor}; cursor is null on the last page
    DELETE /meetings/{id}       204, idempotent

Errors follow `bot.providers.errors` through `ProviderHTTP`:

    ProviderError
    ├── AuthError        401 (key wrong or revoked), 403 (not allowed)
    ├── NotFound         404 on DELETE counts as already gone
    ├── RateLimited      429 with Retry-After, retried by ProviderHTTP
    ├── Unavailable      5xx, timeouts; a create that may have happened is
    │                    first looked for in the meeting list (never two rooms)
    └── InvalidRequest   400/422

`room_id` is Whereby's `meetingId`. The roomNamePrefix carries a 6-hex nonce so a
create that timed out is found in the list by (endDate, prefix) and never
confused with another request. `startDate` is not sent: the OpenAPI marks
it deprecated and ignored (a room opens at creation and lasts until endDate + 1 h).
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import ProviderHTTP

log = logging.getLogger(__name__)

NAME = "whereby"
LABEL = LABELS[NAME]
PREFIX_MAX = 39  # roomNamePrefix: lowercase [a-z0-9], at most 39 characters
GROUP_THRESHOLD = 4  # roomMode "normal" is for meetings of up to 4 participants
NONCE_CHARS = 6
LIST_PAGES = 10  # pages of 100 scanned when recovering a create that timed out


def room_name_prefix(title: str) -> str:
    """Whereby's prefix rule: lowercase letters and digits only, 39 at most."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    prefix = re.sub(r"[^a-z0-9]", "", ascii_title.lower())[:PREFIX_MAX]
    return prefix or "meeting"


def request_prefix(title: str) -> str:
    """The title's prefix plus a short nonce, so a create that timed out can be
    told apart in the list from another request with the same title and end."""
    return room_name_prefix(title)[: PREFIX_MAX - NONCE_CHARS] + secrets.token_hex(NONCE_CHARS // 2)


def whereby_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


class Whereby:
    name = NAME
    label = LABEL
    capabilities = Capabilities(host_link=True)

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http

    def meeting_body(self, spec: RoomSpec) -> dict[str, Any]:
        return {
            "endDate": whereby_time(spec.end),
            "roomNamePrefix": request_prefix(spec.title),
            "roomMode": "group" if spec.invitee_count > GROUP_THRESHOLD else "normal",
            "fields": ["hostRoomUrl"],
        }

    async def create_room(self, spec: RoomSpec) -> Room:
        body = self.meeting_body(spec)
        try:
            response = await self.http.request("POST", "/meetings", json=body)
        except errors.Unavailable:
            # The create may have happened; a second POST could make two rooms.
            found = await self._find_created(body)
            if found is None:
                raise
            log.info("Whereby create recovered from the meeting list")
            return self._room(found)
        return self._room(self._meeting(response))

    async def _find_created(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """Look for the meeting our unanswered POST created (same endDate and prefix)."""
        wanted_end = _parse_time(body["endDate"])
        prefix = body["roomNamePrefix"]
        cursor: str | None = None
        try:
            for _ in range(LIST_PAGES):
                params = {"limit": "100", "fields": "hostRoomUrl"}
                if cursor:
                    params["cursor"] = cursor
                page = (await self.http.request("GET", "/meetings", params=params)).json()
                results = page.get("results") if isinstance(page, dict) else None
                for meeting in results if isinstance(results, list) else []:
                    if not isinstance(meeting, dict):
                        continue
                    name = str(meeting.get("roomName", "")).lstrip("/")
                    if (
                        _parse_time(meeting.get("endDate")) == wanted_end
                        and name.startswith(prefix)
                        and meeting.get("meetingId")
                        and meeting.get("roomUrl")
                    ):
                        return meeting
                cursor = page.get("cursor") if isinstance(page, dict) else None
                if not cursor:
                    return None
        except (errors.ProviderError, ValueError):
            return None
        return None

    def _meeting(self, response: httpx.Response) -> dict[str, Any]:
        try:
            meeting = response.json()
        except ValueError:
            meeting = None
        if not isinstance(meeting, dict) or not meeting.get("meetingId"):
            raise errors.Unavailable(
                self.label, f"{self.label} sent an answer convene could not read; try again."
            )
        return meeting

    def _room(self, meeting: dict[str, Any]) -> Room:
        host = meeting.get("hostRoomUrl")
        return Room(
            room_id=str(meeting["meetingId"]),
            join_url=str(meeting["roomUrl"]),
            host_url=str(host) if host else None,
            host_note=None
            if host
            else f"{self.label} did not return a host link for this room; "
            "join with the regular link.",
        )

    async def end_room(self, room_id: str) -> None:
        """DELETE is idempotent at Whereby; a 404/410 also means already gone."""
        await self.http.delete(f"/meetings/{room_id}")

    async def cancel_room(self, room_id: str) -> None:
        """Whereby has no cancel: deleting the room is the same for a meeting never held."""
        await self.end_room(room_id)

    async def check(self) -> None:
        await self.http.request("GET", "/meetings", params={"limit": "1"})


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> Whereby:
    """`clock` is unused: a room lasts until the endDate sent, so no time is read."""
    headers = {"Authorization": f"Bearer {settings.whereby_api_key or ''}"}
    return Whereby(ProviderHTTP(client, settings.whereby_api_url, LABEL, headers=headers))
