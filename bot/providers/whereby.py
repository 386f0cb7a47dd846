"""Whereby Embedded: transient rooms through the REST API (`/v1/meetings`).

    POST   /meetings            201 Meeting (endDate required; fields=[hostRoomUrl])
    GET    /meetings?cursor=    200 {results, cursor}; cursor is null on the last page
    GET    /meetings/{id}       200 Meeting | 404
    DELETE /meetings/{id}       204, idempotent

Errors follow `bot.providers.errors` through `ProviderHTTP`:

    ProviderError
    ├── AuthError        401 (key wrong or revoked), 403 (not allowed)
    ├── NotFound         404 on DELETE counts as already gone
    ├── RateLimited      429 with Retry-After, retried by ProviderHTTP
    ├── Unavailable      5xx, timeouts; Unreadable, a 201 convene cannot read: the
    │                    room may exist, so it is recovered (never two rooms)
    └── InvalidRequest   400/422

Personal links are the room URL with `?displayName=` and `?externalId=`
(`Person.key`), the URL parameters Whereby reads on joining; the externalId
comes back in webhooks and `/insights/participants`. They are built from the
shared roomUrl, never the hostRoomUrl, and need no API call.

`room_id` is Whereby's `meetingId`. `startDate` is not sent: the OpenAPI marks it
deprecated and ignored (a room opens at creation and lasts until endDate + 1 h).

Recovering a create whose outcome is unknown. If the answer still names a
meetingId, `GET /meetings/{id}` reads the room (and a room that cannot be read
is deleted). Otherwise convene looks for its own room: the roomNamePrefix ends
in an 8-hex nonce made for this request, so a meeting whose roomName starts with
that prefix and whose endDate is ours is the one. The OpenAPI gives
`GET /meetings` no filter (only cursor, limit, fields) and no order, so no page
can be skipped and no time window can end the search early (`/insights/rooms`
filters by roomName but returns neither meetingId nor links). The search walks
every page with the cursor, 100 meetings a page, until it finds the room or the
cursor runs out. That is bounded by the number of open rooms, which Whereby
keeps finite (it deletes each an hour after its endDate), and capped at
SEARCH_PAGES pages (20,000 open rooms) and SEARCH_SECONDS: each page is one GET,
1 point of Whereby's per-minute budget (100 on Build plans, 1,000 on Grow). A
cursor that repeats ends the search too. A search that fails or runs out (or a
POST still in flight when it ends) leaves the create reported as Unavailable;
such a room, whose links nobody holds, closes by itself an hour after endDate.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Person, Room, RoomSpec
from bot.providers import LABELS
from bot.providers.http import (
    READ_ERRORS,
    ProviderHTTP,
    field,
    identifier,
    identifier_or_none,
    link,
    payload,
)

log = logging.getLogger(__name__)

NAME = "whereby"
LABEL = LABELS[NAME]
PREFIX_MAX = 39  # roomNamePrefix: lowercase [a-z0-9], at most 39 characters
GROUP_THRESHOLD = 4  # roomMode "normal" is for meetings of up to 4 participants
NONCE_CHARS = 8  # 32 random bits: what tells our room from others with the same title and end
PAGE_SIZE = 100  # the most GET /meetings returns per page
SEARCH_PAGES = 200  # at most 20,000 open rooms searched for a create of unknown outcome
SEARCH_SECONDS = 60.0


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
    capabilities = Capabilities(host_link=True, personal_link=True)

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """The shared room URL with the person's name and key; any parameter that
        could grant more (a `roomKey`) is dropped rather than passed on."""
        parts = urlsplit(join_url)
        kept = [
            (key, value)
            for key, value in parse_qsl(parts.query)
            if key not in ("roomKey", "displayName", "externalId")
        ]
        kept += [("displayName", person.name or person.key), ("externalId", person.key)]
        return urlunsplit(parts._replace(query=urlencode(kept), fragment=""))

    def meeting_body(self, spec: RoomSpec) -> dict[str, Any]:
        return {
            "endDate": whereby_time(spec.end),
            "roomNamePrefix": request_prefix(spec.title),
            "roomMode": "group" if spec.invitee_count > GROUP_THRESHOLD else "normal",
            "fields": ["hostRoomUrl"],
        }

    async def create_room(self, spec: RoomSpec) -> Room:
        body = self.meeting_body(spec)
        return await self.http.create(
            "/meetings", body, pick=self._room, settle=lambda answer: self._settle(body, answer)
        )

    async def _settle(self, body: dict[str, Any], answer: Any) -> Room | None:
        """Find the room a create of unknown outcome made, or delete what cannot be read."""
        meeting_id = identifier_or_none(field(answer, "meetingId"))
        meeting: Any
        if meeting_id is not None:
            response = await self.http.quietly(
                "read the room it created",
                self.http.get_or_none(_path(meeting_id), params={"fields": "hostRoomUrl"}),
            )
            meeting = payload(response) if response is not None else None
            if identifier_or_none(field(meeting, "meetingId")) != meeting_id:
                meeting = None  # not the room asked for: unusable
        else:
            meeting = await self.http.quietly("find the room it created", self._find_created(body))
            meeting_id = identifier_or_none(field(meeting, "meetingId"))
        try:
            return self._room(meeting)
        except READ_ERRORS:
            if meeting_id is not None:
                await self.http.quietly("delete a room it cannot use", self.end_room(meeting_id))
            return None

    async def _find_created(self, body: dict[str, Any]) -> Any:
        """Page through the open meetings for ours (its prefix and endDate); see the
        module docstring for why every page and for the bound."""
        wanted_end = _parse_time(body["endDate"])
        prefix = body["roomNamePrefix"]
        deadline = time.monotonic() + SEARCH_SECONDS
        params = {"limit": str(PAGE_SIZE), "fields": "hostRoomUrl"}
        seen: set[str] = set()
        for _ in range(SEARCH_PAGES):
            page = payload(await self.http.request("GET", "/meetings", params=params))
            results = field(page, "results")
            for meeting in results if isinstance(results, list) else []:
                name = field(meeting, "roomName")
                if (
                    isinstance(name, str)
                    and name.lstrip("/").startswith(prefix)
                    and _parse_time(field(meeting, "endDate")) == wanted_end
                ):
                    return meeting
            cursor = field(page, "cursor")
            if not isinstance(cursor, str) or not cursor or cursor in seen:
                return None
            if time.monotonic() > deadline:
                log.warning("Whereby search for a created room stopped at its time limit")
                return None
            seen.add(cursor)
            params["cursor"] = cursor
        log.warning("Whereby search for a created room stopped after %d pages", SEARCH_PAGES)
        return None

    def _room(self, meeting: Any) -> Room:
        """A Room from a Meeting object; raises a READ_ERRORS error when it is not one."""
        host = meeting.get("hostRoomUrl")
        return Room(
            room_id=identifier(meeting["meetingId"]),
            join_url=link(meeting["roomUrl"]),
            host_url=link(host) if host else None,
            host_note=None
            if host
            else f"{self.label} did not return a host link for this room; "
            "join with the regular link.",
        )

    async def end_room(self, room_id: str) -> None:
        """DELETE is idempotent at Whereby; a 404/410 also means already gone."""
        await self.http.delete(_path(room_id))

    async def cancel_room(self, room_id: str) -> None:
        """Whereby has no cancel: deleting the room is the same for a meeting never held."""
        await self.end_room(room_id)

    async def check(self) -> None:
        await self.http.request("GET", "/meetings", params={"limit": "1"})


def _path(meeting_id: str) -> str:
    return f"/meetings/{quote(meeting_id, safe='')}"


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> Whereby:
    """`clock` is unused: a room lasts until the endDate sent, so no time is read."""
    headers = {"Authorization": f"Bearer {settings.whereby_api_key or ''}"}
    return Whereby(ProviderHTTP(client, settings.whereby_api_url, LABEL, headers=headers))
