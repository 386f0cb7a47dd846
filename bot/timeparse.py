"""Reading clock times, days, lengths and weekly rules, and turning wall time into UTC.

The low-level readers return what they matched and how many words it took, or
None, and never raise: only the caller knows whether a miss is a title word. The
clause readers further down raise GrammarError when the words clearly meant a
time (they start with a digit) but cannot be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.models import Weekly
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
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_MIN_UNIT = r"(?:m|min|mins|minute|minutes)"
_SPAN = re.compile(
    r"(?P<h>[0-9]{1,6}(?:\.[0-9]{1,3})?)(?:h|hr|hrs|hour|hours)"
    rf"(?:(?P<hm>[0-9]{{1,2}}){_MIN_UNIT}?)?"
    rf"|(?P<m>[0-9]{{1,6}}){_MIN_UNIT}"
)
_SPAN_WORDS = 4


@dataclass(frozen=True)
class Clock:
    """A wall-clock time of day, with the words the user typed for it."""

    hour: int
    minute: int
    text: str


@dataclass(frozen=True)
class Day:
    """A calendar day reference; weekdays stay relative until a time is known."""

    kind: str  # "today" | "tomorrow" | "weekday" | "date"
    weekday: int = 0
    on: date | None = None


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
    """'45m', '90 minutes', '2 hours', '1h30', '1h 30m', '1.5h' (longest match wins)."""
    for used in range(min(_SPAN_WORDS, len(words) - i), 0, -1):
        m = _SPAN.fullmatch("".join(words[i : i + used]).lower())
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


def looks_like_date(word: str) -> bool:
    """ISO-shaped, so a failed read is a bad date rather than a title word."""
    return bool(_ISO.fullmatch(word))


def read_day(word: str) -> Day | None:
    """'today', 'tomorrow', 'mon'/'monday', or an ISO date like 2026-12-01."""
    low = word.lower()
    if low in ("today", "tomorrow"):
        return Day(low)
    if low in DAY_NAMES:
        return Day("weekday", weekday=DAY_NAMES[low])
    if m := _ISO.fullmatch(low):
        try:
            return Day("date", on=date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            return None
    return None


def day_date(day: Day, today: date) -> date:
    """The calendar date a day reference names, counting weekdays from today onward."""
    if day.kind == "tomorrow":
        return today + timedelta(days=1)
    if day.kind == "weekday":
        return today + timedelta(days=(day.weekday - today.weekday()) % 7)
    if day.kind == "date" and day.on is not None:
        return day.on
    return today


def read_days(words: Sequence[str], i: int) -> tuple[frozenset[int], int] | None:
    """'weekday', 'day', 'weekend', 'mon,wed,fri', 'mon, wed and fri', 'mondays'."""
    days: set[int] = set()
    used = 0
    while i + used < len(words):
        parts = [p for p in words[i + used].lower().split(",") if p]
        found = [_day_set(p) for p in parts]
        if not parts or None in found:
            if parts in ([], ["and"]) and days:
                used += 1
                continue
            break
        for f in found:
            days |= f or set()
        used += 1
    if not days:
        return None
    while used and words[i + used - 1].lower() == "and":
        used -= 1
    return frozenset(days), used


def _day_set(word: str) -> frozenset[int] | None:
    if word in DAY_GROUPS:
        return DAY_GROUPS[word]
    name = word[:-1] if word.endswith("s") and word[:-1] in DAY_NAMES else word
    return frozenset({DAY_NAMES[name]}) if name in DAY_NAMES else None


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


@dataclass(frozen=True)
class When:
    """A start time as typed: a clock with an optional day, or an offset from now."""

    text: str
    clock: Clock | None = None
    day: Day | None = None
    delta: timedelta | None = None


def read_when(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, When] | None:
    """Any start-time form at words[i]; raises only when the words clearly meant a time."""
    word, n = words[i].lower(), len(words)
    nxt = words[i + 1] if i + 1 < n else ""
    if word == "at" and nxt:
        if looks_like_clock(words, i + 1):
            return _clock_then_day(words, i + 1, i, ctx)
        if tried(nxt):
            raise ctx.fail(f"I couldn't read {show(nxt)} as a time.")
        return None
    if word == "in" and nxt:
        got = read_span(words, i + 1)
        if got is None:
            if tried(nxt):
                shown = show(spell_span(words, i + 1))
                raise ctx.fail(f"I couldn't read {shown} as a length of time.", "in")
            return None
        span, used = got
        text = " ".join(words[i : i + 1 + used])
        if span <= timedelta(0) or span > MAX_AHEAD:
            raise ctx.fail(f"{show(text)} has to be between 1 minute and 10 years ahead.", "in")
        return 1 + used, When(text, delta=span)
    if word == "on" and nxt:
        return _day_then_clock(words, i + 1, i, ctx)
    if read_day(word) is not None or looks_like_date(word):
        return _day_then_clock(words, i, i, ctx)
    if looks_like_clock(words, i):
        return _clock_then_day(words, i, i, ctx)
    return None


def _clock_then_day(words: Sequence[str], j: int, start: int, ctx: Ctx) -> tuple[int, When]:
    """A time, optionally followed by '[on] <day>' as in 'at 9am tomorrow'."""
    got = read_clock(words, j)
    if got is None:
        raise ctx.fail(f"I couldn't read {show(words[j])} as a time.")
    clock, used = got
    k = j + used
    day = None
    on = k < len(words) and words[k].lower() == "on"
    if k + on < len(words):
        word = words[k + on]
        day = read_day(word)
        if day is None and (looks_like_date(word) or (on and tried(word))):
            raise ctx.fail(f"I couldn't read {show(word)} as a date.", "date")
        if day is not None:
            k += on + 1
    return k - start, When(" ".join(words[start:k]), clock=clock, day=day)


def _day_then_clock(words: Sequence[str], j: int, start: int, ctx: Ctx) -> tuple[int, When] | None:
    """'<day> [at] <time>'; a day word with no time after it is left to the title."""
    day = read_day(words[j])
    if day is None:
        if tried(words[j]):
            raise ctx.fail(f"I couldn't read {show(words[j])} as a date.", "date")
        return None
    k = j + 1
    if k < len(words) and words[k].lower() == "at":
        k += 1
    if looks_like_clock(words, k):
        got = read_clock(words, k)
        if got is None:
            raise ctx.fail(f"I couldn't read {show(words[k])} as a time.")
        clock, used = got
        return k + used - start, When(" ".join(words[start : k + used]), clock=clock, day=day)
    if k < len(words) and tried(words[k]):
        raise ctx.fail(f"I couldn't read {show(words[k])} as a time.")
    if day.kind == "date":
        raise ctx.fail(f"{show(' '.join(words[start:k]))} needs a time of day too.", "date")
    return None


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


def read_rule(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, Weekly] | None:
    """'<days> [at] <time>'; once the days read, a missing or bad time is an error."""
    got = read_days(words, i)
    if got is None:
        if tried(words[i]):
            raise ctx.fail(f"I couldn't read {show(words[i])} as days of the week.", "rule")
        return None
    days, used = got
    k = i + used
    if k < len(words) and words[k].lower() == "at":
        k += 1
    clock = read_clock(words, k)
    if clock is None and looks_like_clock(words, k):
        raise ctx.fail(f"I couldn't read {show(words[k])} as a time.", "rule")
    if clock is None:
        what = show(words[k]) if k < len(words) else "nothing"
        shown = show(" ".join(words[i:k]))
        sentence = f"A repeating meeting needs a time after {shown}, but I found {what}."
        raise ctx.fail(sentence, "rule")
    return k + clock[1] - i, Weekly(days, clock[0].hour, clock[0].minute)


def resolve(when: When, ctx: Ctx) -> datetime:
    """Turn a start-time clause into aware UTC, refusing times that have passed."""
    if when.delta is not None:
        return ctx.now + when.delta
    assert when.clock is not None
    clock, day, today = when.clock, when.day, ctx.today
    on = day_date(day, today) if day else today
    if on < today:
        raise ctx.fail(f"{show(when.text)} is in the past.", "date")
    if on - today > MAX_AHEAD:
        raise ctx.fail(f"{show(when.text)} is more than 10 years ahead.", "date")
    start = local_to_utc(on, clock.hour, clock.minute, ctx.tz)
    if start >= ctx.now - GRACE:
        return start
    if day is not None and day.kind == "weekday":
        return local_to_utc(on + timedelta(days=7), clock.hour, clock.minute, ctx.tz)
    if day is None or day.kind == "today":
        later = f"tomorrow {clock.text}"
        example = later if ctx.option else f"/meet Design review {later}"
        raise ctx.fail(f"{clock.text} today has already passed.", example=example)
    raise ctx.fail(f"{show(when.text)} is in the past.", "date")
