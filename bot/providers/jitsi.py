"""Jitsi: no REST API, rooms exist as soon as someone opens their URL.

Because anyone who knows a room name can walk in, names carry a random part
(well over 80 bits) after a readable slug of the title. With JITSI_APP_ID and
JITSI_APP_SECRET the server is assumed to run token authentication, so convene
signs HS256 tokens: a moderator token for the organizer (the host link) and a
plain one for everyone else (the join link), both valid until an hour after
the meeting's end. Issue times come from the injected clock (the service's),
and a token never expires before it was issued. Without them, the host link
is the room URL with the organizer's name filled in, and `host_note` explains
how moderation works.

Personal links: with signing, a token of the person's own (`context.user` with
their name and `Person.key` as id, `moderator: false`) for the same room and
lifetime as the shared guest token, which is read back from the join link;
without signing, the room URL with their name filled in, like the host link
there (such a link carries no identity a server checks).
"""

from __future__ import annotations

import json
import re
import secrets
import string
import unicodedata
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import jwt

from bot.config import Settings
from bot.ports import Capabilities, Clock, Person, Room, RoomSpec
from bot.providers import LABELS

NAME = "jitsi"
PUBLIC_SERVER = "meet.jit.si"
AUDIENCE = "jitsi"
GRACE = timedelta(hours=1)  # a meeting that overruns keeps working for an hour
SKEW = timedelta(minutes=1)  # tolerate a server clock slightly behind ours
SLUG_LENGTH = 40
# Lowercase letters and digits only: Jitsi lower-cases room names in its XMPP
# addresses, so mixed case or punctuation would break the token's room claim.
RANDOM_ALPHABET = string.ascii_lowercase + string.digits
RANDOM_CHARS = 18  # 18 * log2(36) ≈ 93 bits

MEET_JIT_SI_NOTE = (
    "This is the meeting's room with your name filled in. meet.jit.si asks the first "
    "person in a room to sign in (Google, GitHub or Facebook) to become its moderator, "
    "so open your link before the start and sign in when asked."
)
SELF_HOSTED_NOTE = (
    "This is the meeting's room with your name filled in; everyone else gets the same "
    "room without it. On most Jitsi servers the first person to join becomes moderator, "
    "so open your link before the others arrive."
)


def slugify(title: str) -> str:
    """A readable, URL-safe prefix from the title (ASCII letters, digits, hyphens)."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    return slug[:SLUG_LENGTH].rstrip("-") or "meeting"


def room_name(title: str) -> str:
    suffix = "".join(secrets.choice(RANDOM_ALPHABET) for _ in range(RANDOM_CHARS))
    return f"{slugify(title)}-{suffix}"


class JitsiProvider:
    """Room names and, when the server has token auth configured, signed links."""

    name = NAME
    label = LABELS[NAME]

    def __init__(self, settings: Settings, *, clock: Clock) -> None:
        self._base = settings.jitsi_url.rstrip("/")
        self._domain = urlsplit(settings.jitsi_url).hostname or ""
        self._app_id = settings.jitsi_app_id
        self._secret = settings.jitsi_app_secret
        self._clock = clock
        self.capabilities = Capabilities(host_link=self._signing, personal_link=True)

    @property
    def _signing(self) -> bool:
        return bool(self._app_id and self._secret)

    async def create_room(self, spec: RoomSpec) -> Room:
        room = room_name(spec.title)
        url = f"{self._base}/{room}"
        if self._signing:
            host = self.token(spec, room, moderator=True)
            guest = self.token(spec, room, moderator=False)
            return Room(room_id=room, join_url=f"{url}?jwt={guest}", host_url=f"{url}?jwt={host}")
        host_url = _with_display_name(url, spec.organizer_name or "Host")
        note = MEET_JIT_SI_NOTE if self._domain == PUBLIC_SERVER else SELF_HOSTED_NOTE
        return Room(room_id=room, join_url=url, host_url=host_url, host_note=note)

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """A non-moderator token naming `person`, or their name in the plain link;
        None when a signed join link holds no token of ours to take the lifetime from."""
        url = f"{self._base}/{quote(room_id, safe='')}"
        if not self._signing:
            return _with_display_name(url, person.name or person.key)
        shared = self._shared_claims(join_url, room_id)
        if shared is None:
            return None
        now = self._clock()
        expires = max(int(shared["exp"]), int((now + GRACE).timestamp()))
        claims = self._claims(room_id, {"moderator": False}, now, expires)
        claims["context"]["user"].update(name=person.name or person.key, id=person.key)
        return f"{url}?jwt={jwt.encode(claims, self._secret or '', algorithm='HS256')}"

    def _shared_claims(self, join_url: str, room_id: str) -> dict[str, Any] | None:
        """The claims of the join link's guest token, if convene signed it for this room."""
        tokens = parse_qs(urlsplit(join_url).query).get("jwt") or [""]
        try:
            claims: dict[str, Any] = jwt.decode(
                tokens[0],
                self._secret or "",
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False},
            )
        except jwt.PyJWTError:
            return None
        if claims.get("room") != room_id or not isinstance(claims.get("exp"), int):
            return None
        return claims

    def token(self, spec: RoomSpec, room: str, *, moderator: bool) -> str:
        """An HS256 token for one room, usable until an hour after the meeting ends
        (or after now, for a meeting already over: never expired on arrival).

        The guest token is shared by everyone in the channel, so it names no
        user: a name in it would label every guest the same and lock the field.
        """
        assert self._app_id and self._secret
        now = self._clock()
        user: dict[str, Any] = {"moderator": moderator}
        if moderator:
            user["name"] = spec.organizer_name or spec.organizer_id
            user["id"] = spec.organizer_id
        expires = int((max(spec.end, now) + GRACE).timestamp())
        return jwt.encode(self._claims(room, user, now, expires), self._secret, algorithm="HS256")

    def _claims(
        self, room: str, user: dict[str, Any], now: datetime, expires: int
    ) -> dict[str, Any]:
        return {
            "iss": self._app_id,
            "aud": AUDIENCE,
            "sub": self._domain,
            "room": room,
            "iat": int(now.timestamp()),
            "nbf": int((now - SKEW).timestamp()),
            "exp": expires,
            "context": {"user": user},
        }

    async def end_room(self, room_id: str) -> None:
        """Jitsi has no API to close a room; it empties and vanishes by itself."""

    async def cancel_room(self, room_id: str) -> None:
        """No cancel either; an unused room name simply never comes to life."""
        await self.end_room(room_id)

    async def check(self) -> None:
        """Nothing to authenticate against: tokens are checked by the server on join."""


def _with_display_name(url: str, name: str) -> str:
    """Jitsi reads `#userInfo.displayName` as a JSON string from the URL fragment."""
    return f"{url}#userInfo.displayName={quote(json.dumps(name), safe='')}"


def build(settings: Settings, client: httpx.AsyncClient, clock: Clock) -> JitsiProvider:
    """`client` is unused (Jitsi needs no API call); the signature matches the registry."""
    return JitsiProvider(settings, clock=clock)
