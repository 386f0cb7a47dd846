"""Verify and translate provider webhooks into neutral `ProviderEvent`s.

Pure functions over (headers, raw body, secret): the HTTP layer reads the raw
bytes (size-limited), calls the matching `verify_*`, answers 401 on
`WebhookRejected`, 400 on `WebhookMalformed` (authentic, but not a JSON object
within the depth bound), 200 on `None` (an event convene ignores) and hands any
event to the service. Each one checks the signature or token before it parses
anything, and parses with `bot.inbound_limits.parse_json_object`. Replay
protection (remembering `event_id`s) is the caller's job; the Whereby check
only bounds the window with its 5-minute timestamp tolerance around `now`,
which the caller takes from the service's clock, never the machine's.

    Whereby  `Whereby-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 of "<t>.<body>"
             keyed by the webhook secret from the Whereby dashboard.
    eyeson   `X-Eyeson-Signature: <hex>`, HMAC-SHA256 of the body keyed by the API key.
    Metered  no signature; each room's webhook URLs carry a token derived from
             the secret key and the room name (`metered_webhook_token`). The
             token is checked against the room names a cheap scan finds in the raw
             body before the body is parsed; the parsed room must be the same one.

Join and leave events carry what attendance needs: `participant`, the display
name the provider reports (shown as a name, never used as a user id), and
`participant_key`, the `Person.key` ("<platform>:<user id>") a personal link
carried, only when the body holds a value of that shape, so an id the provider
made up is never mistaken for a platform user. `at` is the event's own time
where the body documents one (Whereby's `createdAt`); otherwise None and the
receiver uses its clock.

    Whereby  `data.displayName`; `data.externalId`, the `?externalId=` of the
             personal link. The link's URL can be edited by whoever holds it, so
             this identity is as good as the person's honesty, unlike the ones
             below, which the provider sets server-side.
    eyeson   `participant.name`; `participant.id`, the `id` convene registered
             the guest with (`POST /guests/<token>`). No event time.
    Metered  the name from the usual spellings; `externalUserId`, set on the
             personal link's access token. Metered's docs name the join and
             leave webhook URLs but not their bodies, nor an event time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, Literal

from bot.inbound_limits import Refused, parse_json_object

Kind = Literal["ended", "started", "joined", "left"]

WHEREBY_TOLERANCE = 300.0  # seconds either side of the signed timestamp
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}")  # [0-9], not \d: no other scripts' digits
_METERED_TOKEN = re.compile(r"[0-9a-f]{32}")
# Where a Metered body names its room: "roomName": "<name>" (at any level) or "room": "<name>".
_METERED_ROOM = re.compile(rb'"(?:roomName|room)"\s*:\s*"([A-Za-z0-9._~-]{1,128})"')
_METERED_CANDIDATES = 8

_WHEREBY_KINDS: dict[str, Kind] = {
    "room.client.joined": "joined",
    "room.client.left": "left",
    "room.session.started": "started",
    "room.session.ended": "ended",
}


# Person.key: a platform name, a colon, the platform's user id (no spaces).
_PERSON_KEY = re.compile(r"[a-z][a-z0-9_-]{0,31}:[!-~]{1,200}")


@dataclass(frozen=True)
class ProviderEvent:
    """`participant`/`participant_key`/`at` are for "joined" and "left" (module docstring)."""

    provider: str
    kind: Kind
    room_id: str
    participant: str | None = None
    event_id: str | None = None
    participant_key: str | None = None
    at: datetime | None = None


class WebhookRejected(Exception):
    """The request is not a genuine, fresh webhook; answer 401 and drop it.

    Messages are for logs: they never echo a signature, secret or body."""


class WebhookMalformed(WebhookRejected):
    """Genuine, but the body is not a JSON object within the bounds; answer 400."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _hex_hmac(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _same(expected: str, given: str) -> bool:
    """Constant-time comparison that also survives non-ASCII input."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def _json_object(body: bytes, provider: str) -> dict[str, Any]:
    """Only ever called on a body whose signature or token has been checked."""
    try:
        return parse_json_object(body)
    except Refused as exc:
        raise WebhookMalformed(f"{provider} webhook body: {exc.reason}") from exc


def _text(value: object) -> str | None:
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def person_key(value: object) -> str | None:
    """`value` when it is shaped like a `Person.key` convene put in a link, else None."""
    if isinstance(value, str) and _PERSON_KEY.fullmatch(value):
        return value
    return None


def _moment(value: object) -> datetime | None:
    """An ISO 8601 time with its offset, as aware UTC; anything else is None."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo is not None else None


# --- Whereby -----------------------------------------------------------------


def verify_whereby(
    headers: Mapping[str, str], body: bytes, secret: str, now: datetime
) -> ProviderEvent | None:
    """Check the signature and timestamp, then map room events to kinds."""
    raw = _header(headers, "Whereby-Signature")
    if not raw:
        raise WebhookRejected("Whereby webhook without a Whereby-Signature header")
    timestamp: str | None = None
    signatures: list[str] = []
    for part in raw.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise WebhookRejected("Whereby-Signature header is malformed")
        if key == "t":
            timestamp = value
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise WebhookRejected("Whereby-Signature header lacks t= or v1=")
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise WebhookRejected("Whereby-Signature timestamp is not a number")
    signed_at = int(timestamp)
    if abs(now.timestamp() - signed_at) > WHEREBY_TOLERANCE:
        raise WebhookRejected("Whereby webhook timestamp is outside the 5-minute tolerance")
    expected = _hex_hmac(secret, timestamp.encode() + b"." + body)
    if not any(_same(expected, candidate) for candidate in signatures):
        raise WebhookRejected("Whereby webhook signature does not match")

    payload = _json_object(body, "Whereby")
    kind = _WHEREBY_KINDS.get(str(payload.get("type")))
    data = payload.get("data")
    if kind is None or not isinstance(data, dict):
        return None
    room_id = _text(data.get("meetingId")) or _text(data.get("roomName"))
    if room_id is None:
        return None
    event_id = _text(payload.get("id"))
    if kind not in ("joined", "left"):
        return ProviderEvent("whereby", kind, room_id, None, event_id)
    return ProviderEvent(
        "whereby",
        kind,
        room_id,
        _text(data.get("displayName")),
        event_id,
        participant_key=person_key(data.get("externalId")),
        at=_moment(payload.get("createdAt")),
    )


# --- eyeson ------------------------------------------------------------------


def verify_eyeson(headers: Mapping[str, str], body: bytes, api_key: str) -> ProviderEvent | None:
    """Check X-Eyeson-Signature; map room shutdown and participant online changes."""
    signature = _header(headers, "X-Eyeson-Signature")
    if not signature:
        raise WebhookRejected("eyeson webhook without an X-Eyeson-Signature header")
    if not _same(_hex_hmac(api_key, body), signature.strip().lower()):
        raise WebhookRejected("eyeson webhook signature does not match")

    payload = _json_object(body, "eyeson")
    kind_name = payload.get("type")
    if kind_name == "room_update":
        room = payload.get("room")
        if not isinstance(room, dict) or _text(room.get("id")) is None:
            return None
        room_id = str(room["id"])
        if room.get("shutdown") is True:
            return ProviderEvent("eyeson", "ended", room_id, None, _eyeson_event_id(room, "ended"))
        if room.get("ready") is True:
            return ProviderEvent(
                "eyeson", "started", room_id, None, _eyeson_event_id(room, "started")
            )
        return None
    if kind_name == "participant_update":
        person = payload.get("participant")
        if not isinstance(person, dict) or not isinstance(person.get("online"), bool):
            return None
        room_id_text = _text(person.get("room_id"))
        if room_id_text is None:
            return None
        kind: Kind = "joined" if person["online"] else "left"
        return ProviderEvent(
            "eyeson",
            kind,
            room_id_text,
            _text(person.get("name")),
            None,
            participant_key=person_key(person.get("id")),
        )
    return None


def _eyeson_event_id(room: Mapping[str, Any], kind: str) -> str:
    """eyeson sends no event id; a room starts and shuts down once, so this is one."""
    return f"{room['id']}:{kind}"


# --- Metered -----------------------------------------------------------------


def metered_webhook_token(secret_key: str, room_name: str) -> str:
    """Stateless, unguessable per-room token for Metered's webhook URLs."""
    return _hex_hmac(secret_key, room_name.encode())[:32]


def verify_metered(token: str, body: bytes, secret_key: str) -> ProviderEvent | None:
    """Check the URL token against the room named in the body; map the event.

    The token is checked first, against the room names found by a bounded scan
    of the raw bytes (a handful of HMACs); only a body naming the token's room is
    parsed, and the room it names once parsed must be that room.

    Metered's docs name the four per-room webhook URLs but not their bodies, so
    the room name and event are read from the usual field spellings."""
    if not _METERED_TOKEN.fullmatch(token):
        raise WebhookRejected("Metered webhook token is malformed")
    candidates = {m.group(1) for m in islice(_METERED_ROOM.finditer(body), _METERED_CANDIDATES)}
    room_name = next(
        (
            name.decode()
            for name in sorted(candidates)
            if _same(metered_webhook_token(secret_key, name.decode()), token)
        ),
        None,
    )
    if room_name is None:
        raise WebhookRejected("Metered webhook token does not match its room")
    payload = _json_object(body, "Metered")
    if _metered_room_name(payload) != room_name:
        raise WebhookRejected("Metered webhook token does not match its room")
    kind = _metered_kind(payload)
    if kind is None:
        return None
    event_id = _text(payload.get("id")) or _text(payload.get("eventId"))
    if kind not in ("joined", "left"):
        return ProviderEvent("metered", kind, room_name, None, event_id)
    participant = next(
        (
            text
            for key in ("participantName", "name", "username")
            if (text := _text(_dig(payload, key))) is not None
        ),
        None,
    )
    return ProviderEvent(
        "metered",
        kind,
        room_name,
        participant,
        event_id,
        participant_key=person_key(_dig(payload, "externalUserId")),
    )


def _dig(payload: Mapping[str, Any], key: str) -> object:
    """A field at the top level or inside a `data`/`room`/`participant` object."""
    if key in payload:
        return payload[key]
    for nest in ("data", "room", "participant", "meeting"):
        inner = payload.get(nest)
        if isinstance(inner, dict) and key in inner:
            return inner[key]
    return None


def _metered_room_name(payload: Mapping[str, Any]) -> str | None:
    return _text(_dig(payload, "roomName")) or _text(payload.get("room"))


def _metered_kind(payload: Mapping[str, Any]) -> Kind | None:
    for key in ("event", "type", "eventName", "eventType"):
        value = _text(payload.get(key))
        if value is None:
            continue
        lowered = value.lower()
        if "join" in lowered:
            return "joined"
        if "left" in lowered or "leave" in lowered:
            return "left"
        if "start" in lowered or "creat" in lowered:
            return "started"
        if "end" in lowered:
            return "ended"
        return None
    return None
