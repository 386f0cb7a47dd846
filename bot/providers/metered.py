"""Metered video: private rooms with an admin token for the host.

    POST   /room               create {roomName, privacy, expireUnixSec, ...}
    GET    /room/{roomName}    the room | 404
    DELETE /room/{roomName}    archives the room | 404
    GET    /rooms              all rooms (check() only; not on the create-room page)
    POST   /token              {roomName, isAdmin, name, externalUserId} -> {token}

Auth is `?secretKey=` on every call, so no URL is ever logged (ProviderHTTP
logs method and path only). Failures answer `{"success": false, "message": …}`.

    ProviderError
    ├── AuthError        401/403: secret key wrong or revoked
    ├── QuotaError       402: plan limits
    ├── NotFound         404 (the room is gone)
    ├── RateLimited      429
    ├── Unavailable      5xx, timeouts, Unreadable answers (a create is never
    │                    repeated: the room is looked up by its name instead)
    └── InvalidRequest   400 "Invalid request"

`room_id` is the room name. The join link is the room page; the host link adds
the admin token (`?token=`), a personal link a token with `isAdmin: false`, the
person's name and `Person.key` as `externalUserId` (Metered's name for the
caller's own user id; the create-room page does not show the token call). A
token's lifetime is the room's: nobody joins after its expireUnixSec. Rooms are
private with request-to-join, so guests with the shared link knock and the host
lets them in; a personal link's holder walks in. With CONVENE_PUBLIC_URL set,
each room's four webhook URLs point at `<public>/webhooks/metered/<token>`, the
token derived from the secret key and room name (`bot.providers.webhooks`). Metered has no
cancel: cancelling archives the room like ending.

convene chooses the room name (a slug and 32 random bits), so a create whose
outcome is unknown (timeout, 5xx, a 2xx convene cannot read) is settled by
name: `GET /room/{roomName}` finds the room and the create carries on with it;
a 404 means it was not made; if the lookup itself fails, the room is archived
(`DELETE`) in case it exists. A POST still in flight when the 404 came back can
leave a room nobody has a link to; it closes at its expireUnixSec.
"""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Person, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import ProviderHTTP, payload, text
from bot.providers.webhooks import metered_webhook_token

log = logging.getLogger(__name__)

NAME = "metered"
LABEL = LABELS[NAME]
EXPIRY_GRACE = timedelta(minutes=10)  # overrun allowance before Metered ejects everyone
WEBHOOK_FIELDS = (
    "meetingJoinWebhook",
    "meetingLeftWebhook",
    "meetingStartedWebhook",
    "meetingEndedWebhook",
)


def room_name(title: str) -> str:
    """URL-friendly, unique: a slug of the title and a random suffix."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:40].strip("-")
    return f"{slug or 'meeting'}-{secrets.token_hex(4)}"


def site_url(base_url: str) -> str:
    """`https://<app>.metered.live/api/v1` -> `https://<app>.metered.live`."""
    trimmed = base_url.rstrip("/")
    if trimmed.endswith("/api/v1"):
        return trimmed[: -len("/api/v1")]
    parts = urlsplit(trimmed)
    return f"{parts.scheme}://{parts.netloc}"


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


class Metered:
    name = NAME
    label = LABEL
    capabilities = Capabilities(host_link=True, personal_link=True)

    def __init__(
        self, http: ProviderHTTP, *, secret_key: str, public_url: str | None = None
    ) -> None:
        """`secret_key` derives the webhook tokens; `public_url` turns webhooks on."""
        self.http = http
        self._secret_key = secret_key
        self._site = site_url(http.base_url)
        self._public_url = public_url.rstrip("/") if public_url else None

    def room_body(self, spec: RoomSpec, name: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "roomName": name,
            "privacy": "private",
            "enableRequestToJoin": True,
            "expireUnixSec": unix(spec.end + EXPIRY_GRACE),
            "ejectAtRoomExp": True,
        }
        if not spec.instant:
            body["notBeforeUnixSec"] = unix(spec.start)
        if self._public_url:
            token = metered_webhook_token(self._secret_key, name)
            url = f"{self._public_url}/webhooks/metered/{token}"
            body.update(dict.fromkeys(WEBHOOK_FIELDS, url))
        return body

    async def create_room(self, spec: RoomSpec) -> Room:
        chosen = room_name(spec.title)
        name = await self.http.create(
            "/room",
            self.room_body(spec, chosen),
            pick=lambda answer: _named(answer, chosen),
            settle=lambda answer: self._settle(chosen),
        )
        join_url = f"{self._site}/{quote(name, safe='')}"
        try:
            token = await self._admin_token(spec, name)
        except errors.ProviderError as exc:
            # The room exists; better a room without a host link than none.
            log.warning("Metered host token failed: %s", type(exc).__name__)
            return Room(
                room_id=name,
                join_url=join_url,
                host_note=f"{self.label} created the room but not a host link; open the "
                "join link and ask to join, or try /meet host later.",
            )
        return Room(room_id=name, join_url=join_url, host_url=f"{join_url}?token={quote(token)}")

    async def _settle(self, name: str) -> str | None:
        """The room name if a create of unknown outcome made the room, else None."""
        try:
            response = await self.http.request("GET", f"/room/{quote(name, safe='')}")
        except errors.NotFound:
            return None
        except errors.ProviderError:
            response = None
        room = payload(response) if response is not None else None
        if isinstance(room, dict) and room.get("roomName") == name and not room.get("archived"):
            return name
        await self.http.quietly("archive a room it cannot confirm", self.end_room(name))
        return None

    async def _admin_token(self, spec: RoomSpec, name: str) -> str:
        body: dict[str, Any] = {
            "roomName": name,
            "isAdmin": True,
            "name": spec.organizer_name or "Host",
            "expireUnixSec": unix(spec.end + EXPIRY_GRACE),
        }
        # A lost answer only costs an unused token, so the call may be retried.
        response = await self.http.request("POST", "/token", json=body, idempotent=True)
        return self.http.read(response, lambda answer: text(answer["token"]))

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """A participant (not admin) token for `person`, on the room page."""
        body: dict[str, Any] = {
            "roomName": room_id,
            "isAdmin": False,
            "name": person.name or person.key,
            "externalUserId": person.key,
        }
        response = await self.http.request("POST", "/token", json=body, idempotent=True)
        token = self.http.read(response, lambda answer: text(answer["token"]))
        return f"{self._site}/{quote(room_id, safe='')}?token={quote(token)}"

    async def end_room(self, room_id: str) -> None:
        await self.http.delete(f"/room/{quote(room_id, safe='')}")

    async def cancel_room(self, room_id: str) -> None:
        await self.end_room(room_id)

    async def check(self) -> None:
        await self.http.request("GET", "/rooms")


def _named(answer: Any, name: str) -> str:
    """The created room's name, which must be the one convene chose."""
    if text(answer["roomName"]) != name:
        raise ValueError("the answer is about another room")
    return name


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> Metered:
    """`clock` is unused: room expiry is the meeting's end, not a time we read."""
    secret_key = settings.metered_secret_key or ""
    http = ProviderHTTP(
        client, settings.metered_base_url or "", LABEL, params={"secretKey": secret_key}
    )
    return Metered(http, secret_key=secret_key, public_url=settings.public_url)
