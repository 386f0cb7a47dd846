"""eyeson: instant rooms (`POST /rooms`) and scheduled permalinks (`POST /permalink`).

    POST   /rooms               201 {access_key, room{id}, links{gui, guest_join}}
    GET    /rooms               200 the meetings running now
    DELETE /rooms/{room_id}     204 forces a running meeting to shut down; 404
    POST   /permalink           201 {permalink{id}, room{id}, links{gui, guest_join}}
    DELETE /permalink/{id}      removes the permalink; 404

Auth is the raw key in `Authorization` (no "Bearer"). Bodies use eyeson's
flat bracket keys (`"user[name]"`), as in its JSON examples.

    ProviderError
    ├── AuthError        401/403: key wrong or revoked
    ├── NotFound         404; Gone 410: the meeting has shut down
    ├── Conflict         Locked 423: the meeting is locked
    ├── RateLimited      429
    ├── Unavailable      5xx, timeouts (a create is never repeated)
    └── InvalidRequest   400

`room_id` is eyeson's room id. For a permalink it is the permalink id, which
eyeson also uses as the id of the room its meetings run in, so webhook events
(`room.id`) match both kinds. `links.gui` carries the host's personal access
key: it is the host link and is never logged. DESIGN.md says eyeson has no list
endpoint; the API overview lists `GET /rooms` (current meetings), used here for
check(). eyeson has no cancel: cancelling removes the permalink like ending.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import ProviderHTTP

NAME = "eyeson"
LABEL = LABELS[NAME]

GONE = (
    f"{LABEL} says this meeting has already shut down, so its links no longer work; "
    "start a new one with /meet."
)
LOCKED = (
    f"{LABEL} says this meeting is locked, so nobody else can join; ask someone in the "
    "meeting to let people in, or start a new one with /meet."
)


class EyesonHTTP(ProviderHTTP):
    """eyeson's 410 (shut down) and 423 (locked) get sentences of their own."""

    def classify(self, response: httpx.Response, retry_after: float | None) -> errors.ProviderError:
        if response.status_code == 410:
            return errors.Gone(self.label, GONE)
        if response.status_code == 423:
            return errors.Locked(self.label, LOCKED)
        return super().classify(response, retry_after)


def eyeson_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Eyeson:
    name = NAME
    label = LABEL
    capabilities = Capabilities(host_link=True)

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http

    def request_body(self, spec: RoomSpec) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": spec.title or "convene meeting",
            "user[id]": spec.organizer_id,
            "user[name]": spec.organizer_name or spec.organizer_id or "Host",
        }
        if not spec.instant:
            # Nobody can start the permalink's meeting after the planned end.
            body["expires_at"] = eyeson_time(spec.end)
        return body

    async def create_room(self, spec: RoomSpec) -> Room:
        body = self.request_body(spec)
        path = "/rooms" if spec.instant else "/permalink"
        response = await self.http.request("POST", path, json=body)
        try:
            payload = response.json()
            links = payload["links"]
            room_id = payload["room"]["id"] if spec.instant else payload["permalink"]["id"]
            join_url, host_url = links["guest_join"], links["gui"]
        except (ValueError, KeyError, TypeError) as exc:
            raise errors.Unavailable(
                self.label, f"{self.label} sent an answer convene could not read; try again."
            ) from exc
        note = None
        if not spec.instant:
            note = (
                f"Open your {self.label} host link at the meeting time to start it; "
                "guests wait until you do."
            )
        return Room(
            room_id=str(room_id), join_url=str(join_url), host_url=str(host_url), host_note=note
        )

    async def end_room(self, room_id: str) -> None:
        """Shut down a running meeting, then remove a permalink of that id.

        Either may not exist (an instant room has no permalink; an idle permalink
        no running meeting): 404 and 410 count as already gone."""
        for path in (f"/rooms/{room_id}", f"/permalink/{room_id}"):
            await self.http.delete(path)

    async def cancel_room(self, room_id: str) -> None:
        await self.end_room(room_id)

    async def check(self) -> None:
        await self.http.request("GET", "/rooms")


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> Eyeson:
    """`clock` is unused: a permalink's expiry is the meeting's end, not a time we read."""
    headers = {"Authorization": settings.eyeson_api_key or ""}
    return Eyeson(EyesonHTTP(client, settings.eyeson_api_url, LABEL, headers=headers))
