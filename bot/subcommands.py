"""The `/meet` subcommands: list, end, cancel, host, feedback, rate, skip, pause, resume,
tz, config, schedule, help, and the answers: rsvp, remind me, link.

A word is a subcommand only with the right number of arguments after it, so "End of
year party" and "list everything" stay meeting titles.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from functools import cache
from zoneinfo import available_timezones

from bot import timedays, timeplace
from bot import timeparse as tp
from bot import timewords as tw
from bot.models import ID_ALPHABET, ID_LENGTH
from bot.requests import (
    CalendarFeed,
    CancelMeeting,
    ChangeSeries,
    Configure,
    CreateMeeting,
    CreateSeries,
    EndMeeting,
    FeedbackSummary,
    Help,
    ListMeetings,
    MoveMeeting,
    OpenScheduleForm,
    PauseSeries,
    PersonalLink,
    RateMeeting,
    RemindMe,
    RenameMeeting,
    Request,
    ResendHost,
    ResumeSeries,
    Rsvp,
    SetTimezone,
    SkipOccurrence,
)
from bot.rsvp import Answer

_QUOTES = "\"“”„«»'"
_CONFIG_KEYS = ("provider", "reminder", "length", "feedback", "mentions", "events", "calls")

_SINGLE: dict[str, Callable[[], Request]] = {
    "schedule": OpenScheduleForm,
    "list": ListMeetings,
    "help": Help,
}
_WITH_ID: dict[str, tuple[Callable[[str], Request], str]] = {
    "end": (EndMeeting, "4F2K"),
    "cancel": (CancelMeeting, "4F2K"),
    "host": (ResendHost, "4F2K"),
    "feedback": (FeedbackSummary, "4F2K"),
    "pause": (PauseSeries, "standup"),
    "resume": (ResumeSeries, "standup"),
    "skip": (SkipOccurrence, "standup"),
}
# Words that are commands of the `convene` program, not of /meet: alone, they are
# far more likely a mistaken command than a meeting's title.
_ELSEWHERE = {
    "providers": "/meet config shows this workspace's provider",
    "provider": "/meet config shows this workspace's provider",
    "check": "an operator runs `convene check` to test the provider's key",
    "every": "a series needs days and a time",
    "remind": "a reminder belongs after a meeting's time",
}


def read(words: Sequence[str], ctx: tp.Ctx) -> Request | None:
    """A subcommand only when its word comes with the right number of arguments."""
    head, n = words[0].lower(), len(words)
    if head in _ELSEWHERE and n == 1:
        raise ctx.fail(
            f'"{words[0]}" on its own is not a /meet command ({_ELSEWHERE[head]}; '
            f'/meet help lists them); to title a meeting "{words[0]}", quote it.',
            example=f'/meet "{words[0]}" in 1h',
        )
    if head in _SINGLE and n == 1:
        return _SINGLE[head]()
    if head in _WITH_ID:
        make, sample = _WITH_ID[head]
        if n == 1:
            what = "series" if sample == "standup" else "meeting"
            raise ctx.fail(f'"{head}" needs a {what} id.', example=f"/meet {head} {sample}")
        if n == 2:
            return make(words[1])
        if head == "skip":
            got = skip_day([tw.clean(w) for w in words[2:]], ctx)
            return SkipOccurrence(words[1], got[1]) if got and got[0] == n - 2 else None
    if head == "rate" and n >= 3 and words[2].isdigit():
        if not 1 <= int(words[2]) <= 5:
            raise ctx.fail("A rating goes from 1 to 5.", example=f"/meet rate {words[1]} 4")
        return RateMeeting(words[1], int(words[2]), " ".join(words[3:]))
    if head == "tz":
        if n == 1:
            raise ctx.fail('"tz" needs a time zone name.', "tz")
        if n == 2:
            return SetTimezone(_zone(words[1], ctx))
    if head == "calendar" and (n == 1 or (n == 2 and words[1].lower() == "reset")):
        return CalendarFeed(reset=n == 2)
    if head in ("rsvp", "link", "remind"):
        return read_answer(words, ctx)
    if head == "config":
        key = words[1].lower() if n > 1 else ""
        if n == 1:
            return Configure()
        if key in _CONFIG_KEYS and n == 2:
            value = {"provider": "jitsi", "reminder": "10m", "length": "30m"}.get(key, "on")
            raise ctx.fail(f'"config {key}" needs a value.', example=f"/meet config {key} {value}")
        if key in _CONFIG_KEYS and n == 3:
            return Configure(key, words[2])
    return None


_ID = re.compile(f"[{ID_ALPHABET}]{{{ID_LENGTH}}}")
MOVE_EXAMPLE = "/meet move k3f9qa tomorrow at 15:00"
RSVP_EXAMPLE = "/meet rsvp k3f9qa yes"


def read_answer(words: Sequence[str], ctx: tp.Ctx) -> Request | None:
    """`rsvp <id> yes|maybe|no`, `remind me <id>`, `link <id>`.

    "rsvp" is never a title; "link" and "remind me" are commands only before an
    id-shaped word ("Remind team about OKRs", "Link review at 3pm" stay titles)."""
    head, n = words[0].lower(), len(words)
    if head == "rsvp":
        if n < 3:
            raise ctx.fail('"rsvp" needs a meeting id and an answer.', example=RSVP_EXAMPLE)
        answer = Answer.read(words[2]) if n == 3 else None
        if answer is None:
            shown = tp.show(" ".join(words[2:]))
            raise ctx.fail(f"I couldn't read {shown} as yes, maybe or no.", example=RSVP_EXAMPLE)
        return Rsvp(words[1], answer.value)
    if head == "link":
        if n == 1:
            raise ctx.fail('"link" needs a meeting id.', example="/meet link k3f9qa")
        return PersonalLink(words[1]) if n == 2 and _ID.fullmatch(words[1].lower()) else None
    if n >= 2 and words[1].lower() == "me":  # remind me <id>
        if n == 3 and _ID.fullmatch(words[2].lower()):
            return RemindMe(words[2])
        if n == 2:
            raise ctx.fail('"remind me" needs a meeting id.', example="/meet remind me k3f9qa")
    return None


def read_change(
    words: Sequence[str], ctx: tp.Ctx, read_phrase: Callable[[Sequence[str]], Request]
) -> Request | None:
    """`move <id> [to] <when> [for <length>]`, `move <series> every …`, `rename <id> <title>`.

    Only when the second word has the shape of an id ("Move budget review at 3pm" still
    reads as a move of "budget", which the service then refuses, saying to quote the
    title). `read_phrase` reads the rest as a meeting's clauses with no title."""
    head, n = words[0].lower(), len(words)
    if head not in ("move", "rename") or n < 2 or not _ID.fullmatch(words[1].lower()):
        return None
    if head == "rename":
        if n == 2:
            raise ctx.fail('"rename" needs the new title.', example="/meet rename k3f9qa Retro")
        return RenameMeeting(words[1], " ".join(words[2:]).strip(_QUOTES))
    rest = list(words[2:])
    if rest and rest[0].lower() == "to":
        rest = rest[1:]
    if not rest:
        raise ctx.fail('"move" needs the new time.', example=MOVE_EXAMPLE)
    reading = read_phrase(rest)
    if isinstance(reading, CreateSeries):
        return ChangeSeries(words[1], reading.rule, reading.duration)
    if not isinstance(reading, CreateMeeting) or reading.start is None:
        raise ctx.fail('"move" needs the new time.', example=MOVE_EXAMPLE)
    if reading.remind is not None or reading.invitees or not reading.feedback:
        raise ctx.fail('"move" changes only the time and the length.', example=MOVE_EXAMPLE)
    return MoveMeeting(words[1], reading.start, reading.duration, reading.note)


def skip_day(words: Sequence[str], ctx: tp.Ctx) -> tuple[int, date] | None:
    """The local date to skip ('tomorrow', 'mon', 'dec 24', '2026-12-24') and the words it
    took; a weekday means its next date, today included."""
    got = timedays.read_day(words, 0, ctx, on=True)
    if got is None:
        if tp.tried(words[0]):
            raise ctx.fail(f"I couldn't read {tp.show(words[0])} as a date.", "day")
        return None
    used, day = got
    on = timeplace.day_of(day, ctx)
    if on < ctx.today:
        raise ctx.fail(f"{tp.show(day.text)} is in the past.", "day")
    return used, on


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _zone(name: str, ctx: tp.Ctx) -> str:
    """The canonical IANA name for a zone typed in any letter case."""
    zone = _zone_names().get(name.lower())
    if zone is None:
        raise ctx.fail(f"I don't know the time zone {tp.show(name)}.", "tz")
    return zone
