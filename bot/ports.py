"""The two seams of the core: video providers on one side, chat platforms on the other.

Both are small Protocols so the service can be exercised with any implementation
(a real provider client, a loopback emulator, the console) without knowing which.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from bot.messages import Card, Notice, Private
from bot.models import Meeting, Place

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Capabilities:
    """What a provider offers that changes what convene does; a field stays only
    while something reads it. `host_link`: the organizer gets a link of their
    own, so a missing one is worth explaining (/meet host). `personal_link`:
    `Provider.personal_link` can give each person a link of their own (worth a
    "Get my link" button); without it everyone shares the join link."""

    host_link: bool = False
    personal_link: bool = False


@dataclass(frozen=True)
class Person:
    """Someone a personal link is made for. `key` is "<platform>:<user id>": it
    travels inside the link where the provider can carry an identity and comes
    back in webhooks as `ProviderEvent.participant_key`, so attendance is matched
    to the platform user rather than to a display name. `name` is what the room
    shows."""

    key: str
    name: str


@dataclass(frozen=True)
class RoomSpec:
    """What the service asks a provider for."""

    title: str
    start: datetime  # aware UTC
    end: datetime  # aware UTC
    instant: bool
    organizer_id: str
    organizer_name: str = ""
    invitee_count: int = 0
    feedback: bool = True
    meeting_id: str = ""  # convene's id, for webhook routing


@dataclass(frozen=True)
class Room:
    """What a provider gives back. `host_note` is a sentence for the organizer only,
    e.g. why there is no separate host link."""

    room_id: str
    join_url: str
    host_url: str | None = None
    host_note: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Provider(Protocol):
    name: str  # machine name, e.g. "whereby"
    label: str  # human name, e.g. "Whereby"
    capabilities: Capabilities

    async def create_room(self, spec: RoomSpec) -> Room: ...

    async def end_room(self, room_id: str) -> None:
        """Close the room. A room that is already gone counts as success."""
        ...

    async def cancel_room(self, room_id: str) -> None:
        """The meeting will not happen: close the room without it ever having run.
        Providers without a distinct cancel call just end the room."""
        ...

    async def check(self) -> None:
        """One harmless authenticated call; raises AuthError on bad credentials."""
        ...

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        """A join link for `person` alone, never a host or moderator link; None
        when the provider cannot make one (then the shared `join_url` is theirs).

        `join_url` is the room's shared link as `create_room` gave it: some
        providers build on it (Whereby's URL parameters, eyeson's guest token,
        the Jitsi token's lifetime). Raises ProviderError when the provider fails."""
        ...


@runtime_checkable
class WebhookRegistrar(Protocol):
    """A provider whose webhooks are registered through its API (eyeson), rather
    than in a dashboard or per room. Both calls are idempotent."""

    async def register_webhook(self, url: str) -> None: ...

    async def unregister_webhook(self) -> None: ...


class Messenger(Protocol):
    """How the service speaks into a platform outside a command's own reply:
    the public card, threaded notices, card updates and private notes."""

    async def post_card(self, place: Place, card: Card) -> str | None:
        """Post a card publicly; return a reference for later updates and threads."""
        ...

    async def update_card(self, place: Place, message_ref: str, card: Card) -> None: ...

    async def post_notice(self, place: Place, notice: Notice, thread_ref: str | None) -> None: ...

    async def send_private(self, place: Place, user_id: str, note: Private) -> None:
        """A note only `user_id` sees: ephemeral in the channel, or a direct message."""
        ...

    async def send_direct(self, place: Place, user_id: str, note: Private) -> None:
        """A direct message that notifies and waits for the person (a private reminder)."""
        ...

    def is_user_id(self, user_id: str) -> bool:
        """A real user id of this platform: only those are mentioned or messaged, never
        a display name a provider reported or a word someone typed."""
        ...


class Surface(Protocol):
    """A platform's native view of a meeting beside convene's own card: a Discord
    scheduled event, Slack's call card. The lifecycle tells it what happened; a
    surface that fails logs once and never stops a reminder or a notice."""

    async def planned(self, meeting: Meeting) -> None: ...

    async def changed(self, meeting: Meeting) -> None: ...

    async def started(self, meeting: Meeting) -> None: ...

    async def ended(self, meeting: Meeting) -> None: ...

    async def cancelled(self, meeting: Meeting) -> None: ...

    async def joined(self, meeting: Meeting, person: str) -> None: ...

    async def left(self, meeting: Meeting, person: str) -> None: ...

    async def interested(self, meeting: Meeting) -> list[str]:
        """Platform user ids who said they are interested (Discord's event button)."""
        ...


class DeliveryError(Exception):
    """A platform could not deliver a message. The text is safe to show a user.

    `permanent` means retrying cannot help (the channel was deleted, the bot was
    removed); otherwise the lifecycle releases its claim and tries again later.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ProviderSource(Protocol):
    """Where the service gets a provider client by name (cached, shared HTTP pool)."""

    def get(self, name: str) -> Provider:
        """Raise ProviderNotConfigured (a ProviderError) when its variables are missing."""
        ...

    def missing(self, name: str) -> list[str]: ...


class Platform(Protocol):
    """A chat platform connector (opsdroid-style): it holds a reference to the
    service, translates commands in and renders messages out."""

    name: str

    @property
    def messenger(self) -> Messenger: ...

    def add_routes(self, app: Any) -> None:
        """Register HTTP routes on convene's aiohttp application, if it needs any."""
        ...

    async def run(self) -> None:
        """Serve until stopped; return early only if the platform is finished (console EOF)."""
        ...

    async def stop(self) -> None: ...

    async def connected(self) -> bool:
        """Ready to serve (readiness): its connection is up, its session open."""
        ...

    @property
    def surface(self) -> Surface | None:
        """Its native view of meetings (Discord events, Slack calls), if any."""
        ...
