"""Typed requests: what a `/meet` command asks for, whatever platform it came from.

The grammar turns text into these; Discord's typed options and Slack's modal
build them directly. The service only ever sees these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from bot.models import Rule
from bot.rsvp import Answer


@dataclass(frozen=True)
class CreateMeeting:
    title: str = ""
    start: datetime | None = None  # aware UTC; None means "now"
    duration: timedelta | None = None  # None means the workspace default
    remind: timedelta | None = None  # None means the workspace default
    invitees: tuple[str, ...] = ()
    feedback: bool = True
    # How the words were read when that needs saying ("02:30 does not exist on Sun 28 Mar
    # in Europe/Berlin (clocks go forward), so it starts at 03:00."); the reply appends it.
    note: str = ""


@dataclass(frozen=True)
class CreateSeries:
    title: str
    rule: Rule
    duration: timedelta | None = None
    feedback: bool = True


@dataclass(frozen=True)
class ListMeetings:
    pass


@dataclass(frozen=True)
class EndMeeting:
    meeting_id: str


@dataclass(frozen=True)
class CancelMeeting:
    meeting_id: str  # a meeting id or a series id


@dataclass(frozen=True)
class ResendHost:
    meeting_id: str


@dataclass(frozen=True)
class FeedbackSummary:
    meeting_id: str


@dataclass(frozen=True)
class RateMeeting:
    """A 1–5 rating and an optional comment, from a button, a modal or `/meet rate`."""

    meeting_id: str
    score: int | None = None  # None: a comment alone, keeping any earlier score
    comment: str = ""


@dataclass(frozen=True)
class SkipOccurrence:
    series_id: str
    day: date | None = None  # None means the next occurrence


@dataclass(frozen=True)
class PauseSeries:
    series_id: str


@dataclass(frozen=True)
class ResumeSeries:
    series_id: str


@dataclass(frozen=True)
class SetTimezone:
    zone: str


@dataclass(frozen=True)
class Configure:
    """`/meet config` alone shows settings; with key and value it changes one."""

    key: str | None = None  # provider | reminder | length | feedback
    value: str | None = None


@dataclass(frozen=True)
class OpenScheduleForm:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class CalendarFeed:
    """`/meet calendar [reset]`: my subscribable feed; reset revokes the old address."""

    reset: bool = False


@dataclass(frozen=True)
class MoveMeeting:
    """A booked meeting to a new start (and, if given, a new length)."""

    meeting_id: str
    start: datetime  # aware UTC
    duration: timedelta | None = None  # None keeps the meeting's length
    note: str = ""  # as CreateMeeting.note: how a DST-touched time was read


@dataclass(frozen=True)
class RenameMeeting:
    meeting_id: str
    title: str


@dataclass(frozen=True)
class ChangeSeries:
    """`/meet move <series> every …`: a series' rule, time and, if given, length."""

    series_id: str
    rule: Rule
    duration: timedelta | None = None


@dataclass(frozen=True)
class Rsvp:
    """Going, Maybe or Can't on a meeting (a button, or `/meet rsvp <id> yes|maybe|no`).

    `answer` is a `bot.rsvp.Answer` value, or "" to withdraw. From a button it is the
    pressed answer; pressing the answer already given withdraws it (`bot.rsvp.press`).
    `every` asks for the same answer on every meeting of the series ("Going to all").
    """

    meeting_id: str
    answer: str
    every: bool = False
    toggle: bool = False  # a button press: the same answer again withdraws it


@dataclass(frozen=True)
class PersonalLink:
    """Get my link: the caller's own join link, privately, where the provider makes one."""

    meeting_id: str


@dataclass(frozen=True)
class RemindMe:
    """`/meet remind me <id>` or "Remind me privately": a direct message at the lead time."""

    meeting_id: str


Request = (
    CalendarFeed
    | CreateMeeting
    | CreateSeries
    | MoveMeeting
    | RenameMeeting
    | ChangeSeries
    | ListMeetings
    | EndMeeting
    | CancelMeeting
    | ResendHost
    | FeedbackSummary
    | RateMeeting
    | SkipOccurrence
    | PauseSeries
    | ResumeSeries
    | SetTimezone
    | Configure
    | OpenScheduleForm
    | Help
    | Rsvp
    | PersonalLink
    | RemindMe
)


class Button(StrEnum):
    """The buttons convene puts on its messages, whatever the platform draws them as."""

    END = "end"
    EDIT = "edit"  # opens the scheduling form filled in (Slack)
    CANCEL = "cancel"
    RATE = "rate"
    COMMENT = "comment"
    GOING = "going"
    MAYBE = "maybe"
    NO = "no"
    GOING_ALL = "going_all"  # a series' card: Going to every meeting of it
    MY_LINK = "my_link"  # "Get my link"
    REMIND_ME = "remind_me"  # "Remind me privately"


ANSWER_BUTTONS = {Button.GOING: Answer.GOING, Button.MAYBE: Answer.MAYBE, Button.NO: Answer.NO}
"""The answer each RSVP button gives."""

CARD_ANSWERS = (
    Button.GOING,
    Button.MAYBE,
    Button.NO,
    Button.GOING_ALL,
    Button.MY_LINK,
    Button.REMIND_ME,
)
"""The buttons of a card's answer row, on every platform."""

BUTTON_LABELS = {
    Button.GOING: "Going",
    Button.MAYBE: "Maybe",
    Button.NO: "Can't",
    Button.GOING_ALL: "Going to all",
    Button.MY_LINK: "Get my link",
    Button.REMIND_ME: "Remind me privately",
}
"""What each platform writes on the card's answer buttons."""


def button_request(button: Button, meeting_id: str, score: int | None = None) -> Request:
    """What a button press asks for. `meeting_id` comes from the user-controlled
    button payload; who may act is decided by the service from the verified user."""
    meeting_id = meeting_id[:40]
    match button:
        case Button.END:
            return EndMeeting(meeting_id)
        case Button.CANCEL:
            return CancelMeeting(meeting_id)
        case Button.RATE:
            return RateMeeting(meeting_id, score)
        case Button.GOING | Button.MAYBE | Button.NO:
            return Rsvp(meeting_id, ANSWER_BUTTONS[button].value, toggle=True)
        case Button.GOING_ALL:
            return Rsvp(meeting_id, Answer.GOING.value, every=True, toggle=True)
        case Button.MY_LINK:
            return PersonalLink(meeting_id)
        case Button.REMIND_ME:
            return RemindMe(meeting_id)
    raise ValueError(f"the {button} button opens a form; it makes no request by itself")


class GrammarError(ValueError):
    """The command text could not be read. The message is one sentence for the user,
    naming what was not understood, followed by an example that works."""
