"""Reading clock times, days and lengths, the shared parse context, and wall time to UTC.

The low-level readers return what they matched and how many words it took, or
None, and never raise: only the caller knows whether a miss is a title word. The
length and reminder readers raise GrammarError when the words clearly meant a
length (they start with a digit) but cannot be read. Start phrases (days, times,
ranges, zones) are read by bot.timeread and placed in UTC by bot.timeplace.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.requests import GrammarError

GRACE = timedelta(minutes=1)
MAX_LENGTH = timedelta(hours=24)
MAX_AHEAD = timedelta(days=3660)

_SPELLINGS = ("mon monday", "tue tues tuesday", "wed weds wednesday", "thu thur thurs thursday",
              "fri friday", "sat saturday", "sun sunday")  # fmt: skip
DAY_NAMES = {name: n for n, names in enumerate(_SPELLINGS) for name in names.split()}
DAY_GROUPS: dict[str, frozenset[int]] = {
    **dict.fromkeys(("weekday", "weekdays"), frozenset(range(5))),
    **dict.fromkeys(("weekend", "weekends"), frozenset({5, 6})),
    **dict.fromkeys(("day", "days", "daily", "everyday"), frozenset(range(7))),
}

_MERIDIEM = {"am": 0, "a.m.": 0, "pm": 12, "p.m.": 12}
_HHMM = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_AMPM = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?(am|pm|a\.m\.|p\.m\.)")
_NUMBER = re.compile(r"[0-9]{1,2}")
_MIN_UNIT = r"(?:m|min|mins|minute|minutes)"
_SPAN = re.compile(
    r"(?P<h>[0-9]{1,6}(?:\.[0-9]{1,3})?)(?:h|hr|hrs|hour|hours)"
    rf"(?:(?P<hm>[0-9]{{1,2}}){_MIN_UNIT}?)?"
    rf"|(?P<m>[0-9]{{1,6}}){_MIN_UNIT}"
)
_SPAN_WORDS = 5
_COUNT_WORDS = {"a": "1", "an": "1", "one": "1", "two": "2", "three": "3", "four": "4",
                "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "ten": "10",
                "eleven": "11", "twelve": "12"}  # fmt: skip


@dataclass(frozen=True)
class Clock:
    """A wall-clock time of day, with the words the user typed for it."""

    hour: int
    minute: int
    text: str


def tried(word: str) -> bool:
    """A word starting with a digit was meant as a number, so a failed read is a mistake."""
    return bool(word) and word[0] in "0123456789"


def looks_like_clock(words: Sequence[str], i: int) -> bool:
    """Whether words[i] has the shape of a time even if its numbers are out of range."""
    if i >= len(words):
        return False
    word = words[i].lower()
    if word in ("noon", "midnight") or _HHMM.fullmatch(word) or _AMPM.fullmatch(word):
        return True
    nxt = words[i + 1].lower() if i + 1 < len(words) else ""
    return bool(_NUMBER.fullmatch(word)) and nxt in _MERIDIEM


def read_clock(words: Sequence[str], i: int) -> tuple[Clock, int] | None:
    """'15:00', '9:30', '3pm', '3:30pm', '3 pm', 'noon', 'midnight'."""
    if not looks_like_clock(words, i):
        return None
    word = words[i].lower()
    if word == "noon":
        return Clock(12, 0, words[i]), 1
    if word == "midnight":
        return Clock(0, 0, words[i]), 1
    if m := _HHMM.fullmatch(word):
        hour, minute = int(m[1]), int(m[2])
        return (Clock(hour, minute, words[i]), 1) if hour < 24 and minute < 60 else None
    used = 1
    if m := _AMPM.fullmatch(word):
        hour, minute, meridiem = int(m[1]), int(m[2] or 0), m[3]
    else:
        hour, minute, meridiem, used = int(word), 0, words[i + 1].lower(), 2
    if not 1 <= hour <= 12 or minute >= 60:
        return None
    hour = hour % 12 + _MERIDIEM[meridiem]
    return Clock(hour, minute, " ".join(words[i : i + used])), used


def read_span(words: Sequence[str], i: int) -> tuple[timedelta, int] | None:
    """'45m', '90 minutes', '2 hours', '1h30', '1h 30m', '1.5h', 'an hour', 'one hour',
    '1 hour and 30 minutes', 'half an hour' (longest match wins)."""
    first = words[i].lower() if i < len(words) else ""
    if not first or not (first[0].isdigit() or first in _COUNT_WORDS or first == "half"):
        return None
    if [w.lower() for w in words[i : i + 3]] == ["half", "an", "hour"]:
        return timedelta(minutes=30), 3
    for used in range(min(_SPAN_WORDS, len(words) - i), 0, -1):
        parts = [_COUNT_WORDS.get(w.lower(), w.lower()) for w in words[i : i + used]]
        joined = "".join(p for n, p in enumerate(parts) if p != "and" or n in (0, used - 1))
        m = _SPAN.fullmatch(joined)
        if not m:
            continue
        if m["m"] is not None:
            return timedelta(minutes=int(m["m"])), used
        extra = int(m["hm"] or 0)
        if extra >= 60 or ("." in m["h"] and m["hm"] is not None):
            return None
        minutes = round(float(m["h"]) * 60) + extra
        return timedelta(minutes=minutes), used
    return None


def spell_span(words: Sequence[str], i: int) -> str:
    """The words a failed length probably spans: a bare number takes its unit along."""
    end = i + 2 if _NUMBER.fullmatch(words[i]) and i + 1 < len(words) else i + 1
    return " ".join(words[i:end])


def local_to_utc(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """Wall time in tz to aware UTC: a time skipped by a DST gap moves to the first
    minute after the gap; a repeated time takes its first occurrence (fold=0)."""
    wall = datetime.combine(day, time(hour, minute))
    for step in range(2 * 24 * 60):
        candidate = wall + timedelta(minutes=step)
        aware = candidate.replace(tzinfo=tz)
        if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == candidate:
            return aware.astimezone(UTC)
    return wall.replace(tzinfo=tz).astimezone(UTC)


# ---- clauses that report mistakes ---------------------------------------------------

_SHOWN = 40
_NO_REMINDER = ("0", "none", "no", "off")
_EXAMPLES: dict[str, tuple[str, str]] = {
    "time": ("/meet Design review tomorrow at 15:00 for 45m", "tomorrow at 15:00"),
    "in": ("/meet Design review in 20m", "in 20m"),
    "length": ("/meet Design review tomorrow at 15:00 for 45m", "45m"),
    "remind": ("/meet Design review tomorrow at 15:00 remind 10m", "10m"),
    "with": ("/meet Design review tomorrow at 15:00 with @alex @sam", "tomorrow at 15:00"),
    "rule": ("/meet Standup every weekday at 9:30 for 15m", "weekday at 9:30"),
    "title": ('/meet "Design review" tomorrow at 15:00 for 45m', "tomorrow at 15:00"),
    "tz": ("/meet tz Europe/Berlin", "Europe/Berlin"),
    "day": ("/meet skip standup tomorrow", "tomorrow"),
}


@dataclass(frozen=True)
class Ctx:
    """The clock, zone and phrasing style shared by one parse."""

    now: datetime
    tz: ZoneInfo
    option: bool = False  # a Discord option value rather than a whole command
    probe: bool = False  # checking a suggestion: build no further suggestions

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def example(self, kind: str) -> str:
        """A suggestion that parses in this context: a whole command or an option value."""
        if kind == "date":
            iso = (self.today + timedelta(days=7)).isoformat()
            return f"{iso} 14:00" if self.option else f"/meet Design review on {iso} at 14:00"
        full, fragment = _EXAMPLES[kind]
        return fragment if self.option else full

    def fail(self, sentence: str, kind: str = "time", example: str | None = None) -> GrammarError:
        """One sentence naming the problem, then a working example."""
        return GrammarError(f"{sentence} Try: {example or self.example(kind)}")


def show(text: str) -> str:
    """Quote user words for an error message, cut so a paste cannot flood it."""
    text = " ".join(text.split())
    return f'"{text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"}"'


def make_ctx(now: datetime, tz: ZoneInfo, option: bool = False) -> Ctx:
    """Normalise the injected clock to aware UTC (a naive clock is taken as UTC)."""
    aware = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return Ctx(aware.astimezone(UTC), tz, option)


def read_length(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, timedelta] | None:
    """A meeting length, which must be between 1 minute and 24 hours."""
    got = read_span(words, i)
    if got is None:
        if tried(words[i]):
            shown = show(spell_span(words, i))
            raise ctx.fail(f"I couldn't read {shown} as a length like 45m or 1h30.", "length")
        return None
    span, used = got
    shown = show(" ".join(words[i : i + used]))
    if span <= timedelta(0):
        raise ctx.fail(f"{shown} is too short: a meeting lasts at least 1 minute.", "length")
    if span > MAX_LENGTH:
        raise ctx.fail(f"{shown} is too long: a meeting can last at most 24 hours.", "length")
    return used, span


def read_reminder(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, timedelta] | None:
    """A reminder lead time up to 24 hours; '0' or 'none' switches it off."""
    if words[i].lower() in _NO_REMINDER:
        return 1, timedelta(0)
    got = read_span(words, i)
    if got is None:
        if tried(words[i]):
            shown = show(spell_span(words, i))
            raise ctx.fail(f"I couldn't read {shown} as a reminder time like 10m.", "remind")
        return None
    span, used = got
    if span > MAX_LENGTH:
        shown = show(" ".join(words[i : i + used]))
        sentence = f"{shown} is too early: a reminder can come at most 24 hours ahead."
        raise ctx.fail(sentence, "remind")
    return used, span
