"""Neutral view models. The service produces these; each adapter renders them
(Block Kit, a Discord embed, console text). Nothing here knows a platform.

Host links live only in `Private`; `Card` and `Notice` are public by type, so a
host link cannot reach a channel by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.models import Meeting
from bot.rsvp import Tally


class NoticeKind(StrEnum):
    REMINDER = "reminder"
    STARTING = "starting"
    ENDED = "ended"
    FAILURE = "failure"
    INFO = "info"
    FEEDBACK = "feedback"  # adapters add 1–5 rating buttons and "Add a comment"


STATUS_WORDS = {
    "scheduled": "Scheduled",
    "active": "Happening now",
    "ended": "Ended",
    "cancelled": "Cancelled",
}
"""How every platform names a meeting's status to people."""


def status_word(status: str) -> str:
    return STATUS_WORDS.get(status, status)


@dataclass(frozen=True)
class CalendarLinks:
    """Where a card's "Add to calendar" buttons lead: convene's .ics file (None when no
    public URL is configured) and the Google and Outlook "add event" pages."""

    ics_url: str | None
    google: str
    outlook: str


@dataclass(frozen=True)
class Card:
    """The public meeting card: everything a channel member needs to join."""

    meeting_id: str
    title: str
    start: datetime
    end: datetime
    organizer_id: str
    provider_label: str
    join_url: str | None  # None once the room is closed
    status: str  # scheduled | active | ended | cancelled
    invitees: tuple[str, ...] = ()
    series_id: str | None = None
    late: bool = False
    rsvp: Tally | None = None  # None: the card takes no answers (e.g. it has ended)
    calendar: CalendarLinks | None = None
    personal_links: bool = False  # the provider makes a link per person: offer "Get my link"


@dataclass(frozen=True)
class Notice:
    """A short public line about a meeting, threaded under its card where possible."""

    kind: NoticeKind
    meeting_id: str
    title: str
    text: str
    join_url: str | None = None
    start: datetime | None = None
    # Platform user ids to mention (Going people, invitees): the only people it may ping.
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Private:
    """A note for one person only. `link` is the host link when there is one."""

    text: str
    link: str | None = None
    link_label: str = "Host link"
    feedback_meeting_id: str | None = None  # adapters add rating buttons for this meeting


@dataclass(frozen=True)
class ListItem:
    id: str
    title: str
    start: datetime
    end: datetime
    status: str
    join_url: str | None
    local_when: str  # already rendered in the reader's zone
    is_series: bool = False
    next_occurrences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """The private answer to the person who typed a command.

    `text` is plain prose (adapters escape it); `items` carries a listing;
    `ok` is False for refusals and errors, so adapters can style them.
    """

    text: str
    ok: bool = True
    private: tuple[Private, ...] = ()
    items: tuple[ListItem, ...] = field(default_factory=tuple)
    open_form: bool = False  # the adapter should open its scheduling form
    offer_form: bool = False  # the adapter may offer a button that opens it (help)


def card_for(
    meeting: Meeting,
    provider_label: str,
    *,
    rsvp: Tally | None = None,
    calendar: CalendarLinks | None = None,
    personal_links: bool = False,
) -> Card:
    """The card as it should look now: the Join button disappears once the room is closed,
    and the answer buttons with it (a closed meeting's tally is not shown)."""
    return Card(
        meeting_id=meeting.id,
        title=meeting.title,
        start=meeting.start,
        end=meeting.end,
        organizer_id=meeting.organizer_id,
        provider_label=provider_label,
        join_url=meeting.join_url if meeting.status.is_open else None,
        status=meeting.status.value,
        invitees=meeting.invitees,
        series_id=meeting.series_id,
        rsvp=rsvp if meeting.status.is_open else None,
        calendar=calendar if meeting.status.is_open else None,
        personal_links=personal_links,
    )


def meeting_not_found(meeting_id: str, hint: str = "") -> Reply:
    """The one answer for an id that names no meeting of the caller's workspace."""
    text = f"I can't find a meeting “{meeting_id}” in this workspace; /meet list shows the ids."
    return Reply(f"{text} {hint}".rstrip(), ok=False)
