"""eyeson: instant rooms (`POST /rooms`) and scheduled permalinks (`POST /permalink`).

    POST   /rooms               201 {access_key, room{id}, links{gui, guest_join}}
    GET    /rooms               200 the meetings running now
    DELETE /rooms/{room_id}     204 forces a running meeting to shut down; 404
    POST   /permalink           201 {permalink{id}, room{id}, links{gui, guest_join}}
    DELETE /permalink/{id}      removes the permalink; 404
    POST   /guests/{token}      registers a guest {name, id} -> {links{gui}}
    POST   /webhooks            registers a webhook {url, types}
    GET    /webhooks            the registered webhook(s)
    DELETE /webhooks/{id}       removes one

Auth is the raw key in `Authorization` (no "Bearer"). Bodies use eyeson's
flat bracket keys (`"user[name]"`), as in its JSON examples.

    ProviderError
    ├── AuthError        401/403: key wrong or revoked
    ├── NotFound         404; Gone 410: the meeting has shut down
    ├── Conflict         Locked 423: the meeting is locked
    ├── RateLimited      429
    ├── Unavailable      5xx, timeouts (a create is never repeated)
    └── InvalidRequest   400

Personal links register the person as a guest of the room (`POST /guests/
<guest token>`, the token being the `guest` parameter of the shared
guest_join link) with their name and `Person.key` as id; the guest's own
`links.gui` is their link. A guest is never the host: the host's link is the
organizer's `links.gui` from the create. eyeson reports the id back as
`participant.id` in participant_update webhooks.

Webhooks are registered through the API (`register_webhook`, at start when
CONVENE_PUBLIC_URL is set) for the types convene reads, room_update and
participant_update, and removed at shutdown (`unregister_webhook`). Both look
at `GET /webhooks` first, so a repeat does not duplicate it and a webhook that
points elsewhere (another system using the same key) is never removed. The
webhook belongs to the API key, not the process: with several replicas, the
first to stop removes it for all until one starts again.

`room_id` is eyeson's room id. For a permalink it is the permalink id, which
eyeson also uses as the id of the room its meetings run in, so webhook events
(`room.id`) match both kinds. `links.gui` carries the host's personal access
key: it is the host link and is never logged. DESIGN.md says eyeson has no list
endpoint; the API overview lists `GET /rooms` (current meetings), used here for
check(). eyeson has no cancel: cancelling removes the permalink like ending.

A create whose outcome is unknown (timeout, 5xx, a 201 convene cannot read):

- Instant rooms get an `id` chosen by convene (`POST /rooms` joins the room of
  that id, or opens it), 128 random bits, so convene can close the room by its
  id (`DELETE /rooms/{id}`) without having read the answer. It cannot be
  recovered instead: the links are per user and only a second POST would make
  new ones. If the DELETE races ahead of a POST still in flight, the room nobody
  holds a link to shuts down by itself soon after (eyeson closes unused rooms).
- Permalinks ignore a room id, so only eyeson's answer names one. When the
  answer still carries `permalink.id`, the permalink is removed; otherwise it
  cannot be found (`GET /permalink` holds nothing convene chose that tells it
  apart) and the create is reported as Unavailable. Such a permalink can never
  start: only the host token in the lost answer starts its meeting, guests wait
  for a host, and it expires at the meeting's end.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from bot.config import Settings
from bot.ports import Capabilities, Clock, Person, Room, RoomSpec
from bot.providers import LABELS, errors
from bot.providers.http import (
    ProviderHTTP,
    field,
    identifier,
    identifier_or_none,
    link,
    payload,
)

NAME = "eyeson"
LABEL = LABELS[NAME]
WEBHOOK_TYPES = ("room_update", "participant_update")  # what bot.providers.webhooks reads

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
    capabilities = Capabilities(host_link=True, personal_link=True)

    def __init__(self, http: ProviderHTTP) -> None:
        self.http = http
        self._webhook_url: str | None = None  # the webhook this process registered

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
        if spec.instant:
            body["id"] = secrets.token_hex(16)
            return await self.http.create(
                "/rooms",
                body,
                pick=lambda answer: self._room(answer, ("room", "id"), note=None),
                settle=lambda answer: self._discard(f"/rooms/{_quoted(body['id'])}"),
            )
        note = (
            f"Open your {self.label} host link at the meeting time to start it; "
            "guests wait until you do."
        )
        return await self.http.create(
            "/permalink",
            body,
            pick=lambda answer: self._room(answer, ("permalink", "id"), note=note),
            settle=self._discard_permalink,
        )

    @staticmethod
    def _room(answer: Any, id_keys: tuple[str, str], note: str | None) -> Room:
        """A Room from a create answer; raises a READ_ERRORS error when it is not one."""
        links = answer["links"]
        return Room(
            room_id=identifier(answer[id_keys[0]][id_keys[1]]),
            join_url=link(links["guest_join"]),
            host_url=link(links["gui"]),
            host_note=note,
        )

    async def _discard(self, path: str) -> None:
        """Close what a create of unknown outcome may have made; nothing is recovered."""
        await self.http.quietly("close a room it cannot use", self.http.delete(path))

    async def _discard_permalink(self, answer: Any) -> None:
        permalink_id = identifier_or_none(field(answer, "permalink", "id"))
        if permalink_id is None:
            return None  # nothing names it: see the module docstring
        await self._discard(f"/permalink/{_quoted(permalink_id)}")

    async def end_room(self, room_id: str) -> None:
        """Shut down a running meeting, then remove a permalink of that id.

        Either may not exist (an instant room has no permalink; an idle permalink
        no running meeting): 404 and 410 count as already gone."""
        for path in (f"/rooms/{_quoted(room_id)}", f"/permalink/{_quoted(room_id)}"):
            await self.http.delete(path)

    async def cancel_room(self, room_id: str) -> None:
        await self.end_room(room_id)

    async def check(self) -> None:
        await self.http.request("GET", "/rooms")

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """Register `person` as a guest; None when the join link has no guest token."""
        token = (parse_qs(urlsplit(join_url).query).get("guest") or [""])[0]
        if not token:
            return None
        body = {"name": person.name or person.key, "id": person.key}
        # A lost answer costs one unused guest, so the call may be retried.
        response = await self.http.request(
            "POST", f"/guests/{_quoted(token)}", json=body, idempotent=True
        )
        return self.http.read(response, lambda answer: link(answer["links"]["gui"]))

    async def register_webhook(self, url: str) -> None:
        """Make sure eyeson posts room and participant updates to `url`, once."""
        if not any(u == url and set(WEBHOOK_TYPES) <= t for _, u, t in await self._webhooks()):
            body = {"url": url, "types": ",".join(WEBHOOK_TYPES)}
            await self.http.request("POST", "/webhooks", json=body)
        self._webhook_url = url

    async def unregister_webhook(self) -> None:
        """Remove the webhook this process registered; one pointing elsewhere stays."""
        if self._webhook_url is None:
            return
        for hook_id, url, _ in await self._webhooks():
            if url == self._webhook_url:
                await self.http.delete(f"/webhooks/{_quoted(hook_id)}")
        self._webhook_url = None

    async def _webhooks(self) -> list[tuple[str, str, set[str]]]:
        """(id, url, types) of each registered webhook: eyeson answers one object
        (types a comma list) or none; a list of them is read as well."""
        response = await self.http.get_or_none("/webhooks")
        answer = payload(response) if response is not None else None
        return list(_hooks(answer))


def _quoted(room_id: str) -> str:
    return quote(room_id, safe="")


def _hooks(answer: Any) -> Iterator[tuple[str, str, set[str]]]:
    for hook in answer if isinstance(answer, list) else [answer]:
        hook_id = identifier_or_none(field(hook, "id"))
        url = field(hook, "url")
        types = field(hook, "types")
        if isinstance(types, str):
            types = types.split(",")
        if hook_id is None or not isinstance(url, str) or not isinstance(types, list):
            continue
        yield hook_id, url, {t.strip() for t in types if isinstance(t, str)}


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> Eyeson:
    """`clock` is unused: a permalink's expiry is the meeting's end, not a time we read."""
    headers = {"Authorization": settings.eyeson_api_key or ""}
    return Eyeson(EyesonHTTP(client, settings.eyeson_api_url, LABEL, headers=headers))
