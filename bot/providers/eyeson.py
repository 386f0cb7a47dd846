"""eyeson: instant rooms (`POST /rooms`) and scheduled permalinks (`POST /permalink`).

    POST   /rooms               201 {access_key, room{id}, links{gui, guest_join}}
    GET    /rooms               200 the meetings running now
    DELETE /rooms/{room_id}     204 forces a running meeting to shut down; 404
    POST   /permalink           201 {permalink{id}, room{id}, links{gui, guest_join}}
    GET    /permalink/{id}      200 | 404
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
room_status and check().
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Room, RoomSpec, system_clock
from bot.providers import LABELS, errors
from bot.providers.http import CALL_BUDGET, ProviderHTTP, Sleep

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
    capabilities = Capabilities(
        host_link=True, scheduled_start=True, expiry=True, end=True, webhooks=True
    )

    def __init__(
        self,
        client: httpx.AsyncClient,
        api_key: str,
        base_url: str,
        *,
        clock: Clock = system_clock,
        sleep: Sleep = asyncio.sleep,
        budget: float = CALL_BUDGET,
    ) -> None:
        self.http = EyesonHTTP(
            client,
            base_url,
            self.label,
            headers={"Authorization": api_key},
            sleep=sleep,
            budget=budget,
        )
        self._clock = clock

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

    async def room_status(self, room_id: str) -> str | None:
        if await self._running(room_id):
            return "open"
        response = await self.http.get_or_none(f"/permalink/{room_id}")
        if response is None:
            return "ended"
        permalink = _permalink(response)
        expires = permalink.get("expires_at") if permalink else None
        if isinstance(expires, str):
            try:
                moment = datetime.fromisoformat(expires.replace("Z", "+00:00"))
            except ValueError:
                return "open"
            if moment < self._clock():
                return "ended"
        return "open"

    async def _running(self, room_id: str) -> bool:
        payload = (await self.http.request("GET", "/rooms")).json()
        rooms = payload if isinstance(payload, list) else []
        for item in rooms:
            room = item.get("room", item) if isinstance(item, dict) else None
            if isinstance(room, dict) and str(room.get("id")) == room_id:
                return room.get("shutdown") is not True
        return False

    async def check(self) -> None:
        await self.http.request("GET", "/rooms")


def _permalink(response: httpx.Response) -> dict[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    inner = payload.get("permalink") if isinstance(payload, dict) else None
    return inner if isinstance(inner, dict) else None


def build(settings: Settings, client: httpx.AsyncClient) -> Eyeson:
    if not settings.eyeson_api_key:
        raise ValueError("EYESON_API_KEY is not set")
    return Eyeson(client, settings.eyeson_api_key, settings.eyeson_api_url)
