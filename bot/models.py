"""Domain records shared by the service, storage and adapters.

Times are always timezone-aware UTC datetimes; conversion to a person's zone
happens only at the edges (grammar in, rendering out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in (MeetingStatus.SCHEDULED, MeetingStatus.ACTIVE)


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Place:
    """A channel of a workspace (Slack team, Discord guild). Multi-workspace Slack
    needs the workspace to pick the right bot token."""

    workspace_id: str
    channel_id: str


@dataclass(frozen=True)
class Caller:
    """Who typed a command, where, as the platform adapter verified it."""

    platform: str
    workspace_id: str
    channel_id: str
    user_id: str
    user_name: str = ""
    is_admin: bool = False
    tz_hint: str | None = None  # the platform's idea of the user's zone (Slack users.info)

    @property
    def place(self) -> Place:
        return Place(self.workspace_id, self.channel_id)


@dataclass(frozen=True)
class WorkspaceSettings:
    provider: str
    default_length: timedelta = timedelta(minutes=30)
    reminder: timedelta = timedelta(minutes=10)
    feedback: bool = True
    feedback_window: timedelta = timedelta(hours=24)


@dataclass(frozen=True)
class Meeting:
    id: str
    platform: str
    workspace_id: str
    channel_id: str
    organizer_id: str
    title: str
    start: datetime
    end: datetime
    provider: str
    room_id: str
    join_url: str
    status: MeetingStatus
    remind: timedelta
    instant: bool
    feedback: bool = True
    host_url: str | None = None  # decrypted; None when it could not be stored
    invitees: tuple[str, ...] = ()
    message_ref: str | None = None
    series_id: str | None = None
    created_at: datetime | None = None

    @property
    def place(self) -> Place:
        return Place(self.workspace_id, self.channel_id)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True)
class Weekly:
    """A recurrence: local wall-clock time on a set of weekdays (0 = Monday)."""

    days: frozenset[int]
    hour: int
    minute: int


@dataclass(frozen=True)
class Series:
    id: str
    platform: str
    workspace_id: str
    channel_id: str
    owner_id: str
    title: str
    rule: Weekly
    tz: str
    length: timedelta
    provider: str
    status: SeriesStatus
    feedback: bool = True
    skipped: frozenset[str] = field(default_factory=frozenset)  # ISO local dates
    created_at: datetime | None = None
