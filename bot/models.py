"""Domain records shared by the service, storage and adapters.

Times are always timezone-aware UTC datetimes; conversion to a person's zone
happens only at the edges (grammar in, rendering out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

ID_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: ids are typed by people
ID_LENGTH = 6


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
    mentions: bool = True  # reminders mention Going people and invitees
    events: bool = True  # Discord scheduled events for booked meetings
    calls: bool = True  # Slack Calls objects for meetings


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


RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # RFC 5545 weekday codes, 0 = Monday


@dataclass(frozen=True)
class Rule:
    """A recurrence: an RFC 5545 RRULE over local dates, at a local wall time.

    The RRULE (`FREQ=WEEKLY;INTERVAL=2;BYDAY=TU`) says which local dates; the wall
    time becomes UTC per date (bot.recurrence), so DST never moves a meeting.
    `anchor` is DTSTART's local date, the first occurrence: INTERVAL and COUNT count
    from it, so it is fixed when the series is created. A rule just read may carry
    an end that needs that day (`until_day`: "until jun 30", the first such day from
    creation on; `lasts`: "for 6 weeks" from the first meeting); anchoring writes
    them into the RRULE as UNTIL. bot.rules reads and describes rules; bot.recurrence
    writes them (with dateutil) and gives their dates.
    """

    rrule: str
    hour: int
    minute: int
    anchor: date | None = None
    until_day: tuple[int, int] | None = None  # (month, day)
    lasts: tuple[int, str] | None = None  # (6, "weeks") or (3, "months")

    @property
    def parts(self) -> dict[str, str]:
        """The RRULE's parts by name ("FREQ" -> "WEEKLY")."""
        pairs = (part.partition("=") for part in self.rrule.split(";"))
        return {name: value for name, _, value in pairs if value}

    @property
    def days(self) -> frozenset[int]:
        """The weekdays (0 = Monday) of a daily or plain weekly rule; empty otherwise."""
        parts = self.parts
        if parts.get("FREQ") == "DAILY" and "INTERVAL" not in parts:
            return frozenset(range(7))
        codes = parts.get("BYDAY", "").split(",") if parts.get("FREQ") == "WEEKLY" else []
        return frozenset(RRULE_DAYS.index(c) for c in codes if c in RRULE_DAYS)


@dataclass(frozen=True)
class Series:
    id: str
    platform: str
    workspace_id: str
    channel_id: str
    owner_id: str
    title: str
    rule: Rule
    tz: str
    length: timedelta
    provider: str
    status: SeriesStatus
    feedback: bool = True
    skipped: frozenset[str] = field(default_factory=frozenset)  # ISO local dates
    created_at: datetime | None = None
