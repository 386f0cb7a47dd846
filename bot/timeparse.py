"""Low-level readers for clock times, days, lengths and weekday sets.

Each reader looks at a list of words from a given position and returns what it
matched plus how many words that took, or None. They never raise: deciding
whether a miss is part of a title or a mistake worth reporting is the grammar's
job, because only it knows the surrounding words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

GRACE = timedelta(minutes=1)
MAX_LENGTH = timedelta(hours=24)
MAX_AHEAD = timedelta(days=3660)

DAY_NAMES: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_ALL_DAYS = frozenset(range(7))
DAY_GROUPS: dict[str, frozenset[int]] = {
    "weekday": frozenset(range(5)),
    "weekdays": frozenset(range(5)),
    "weekend": frozenset({5, 6}),
    "weekends": frozenset({5, 6}),
    "day": _ALL_DAYS,
    "days": _ALL_DAYS,
    "daily": _ALL_DAYS,
    "everyday": _ALL_DAYS,
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
    text: str
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
    return bool(_ISO.fullmatch(word))


def read_day(word: str) -> Day | None:
    """'today', 'tomorrow', 'mon'/'monday', or an ISO date like 2026-12-01."""
    low = word.lower()
    if low in ("today", "tomorrow"):
        return Day(low, word)
    if low in DAY_NAMES:
        return Day("weekday", word, weekday=DAY_NAMES[low])
    if m := _ISO.fullmatch(low):
        try:
            return Day("date", word, on=date(int(m[1]), int(m[2]), int(m[3])))
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


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def find_zone(name: str) -> str | None:
    """The canonical IANA name for a zone typed in any letter case, or None."""
    canonical = _zone_names().get(name.lower())
    if canonical is None:
        return None
    try:
        ZoneInfo(canonical)
    except (ValueError, OSError, KeyError):
        return None
    return canonical
