"""Placing a start phrase in time: its date, its zone, and UTC, saying so when DST interferes.

A wall time skipped by a DST gap moves to the first minute after the gap and a repeated
one takes its first occurrence (the rule bot.recurrence follows too); either way the
reading carries a note for the reply ("02:30 does not exist on Sun 28 Mar in
Europe/Berlin (clocks go forward), so it starts at 03:00."), and the note says how to
ask for the second occurrence. Zones: see bot.timewords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo

from bot import timewords as tw
from bot.timedays import DayRef
from bot.timeparse import GRACE, MAX_AHEAD, MAX_LENGTH, Clock, Ctx, local_to_utc, show
from bot.timeread import When

_WRAP_LIMIT = timedelta(hours=12)  # '22:00-02:00' ends the next day; '4pm-3pm' is a slip


@dataclass(frozen=True)
class Reading:
    """Where a start phrase lands: UTC start (None: now), a range's end, and a note."""

    start: datetime | None
    end: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class _Zone:
    tz: tzinfo
    label: str  # "Europe/Berlin", "EST", "UTC+2"
    abbreviation: str = ""  # the user's zone's own name typed ("CEST"): pick that fold
    home: ZoneInfo | None = None  # for fixed abbreviations: the region that uses them


def day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def offset_text(offset: timedelta | None) -> str:
    """'UTC+2', 'UTC-3:30', 'UTC+0'."""
    minutes = round((offset or timedelta(0)).total_seconds() / 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@cache
def _own_abbreviations(key: str, year: int) -> frozenset[str]:
    """What a zone is called around `year` ('CET', 'CEST'), to read them as that zone."""
    tz = ZoneInfo(key)
    names = set()
    for y in (year - 1, year, year + 1):
        for month in range(1, 13):
            name = datetime(y, month, 15, 12, tzinfo=tz).tzname()
            if name and name.isalpha():
                names.add(name.lower())
    return frozenset(names)


def _zone(when: When, ctx: Ctx) -> _Zone:
    word = (when.zone or "").lower()
    if not word:
        return _Zone(ctx.tz, ctx.tz.key)
    if word in _own_abbreviations(ctx.tz.key, ctx.now.year):
        return _Zone(ctx.tz, ctx.tz.key, abbreviation=word)
    if name := tw.REGIONS.get(word) or (word != "utc" and tw.zone_names().get(word)):
        return _Zone(ZoneInfo(name), name)
    if (offset := tw.utc_offset(word)) is not None:
        return _Zone(timezone(offset), offset_text(offset))
    if word in tw.ABBREVIATIONS:
        minutes, home = tw.ABBREVIATIONS[word]
        return _fixed(word, minutes, home)
    meaning, names = tw.AMBIGUOUS_ZONES.get(word, ("several zones", ("UTC",)))
    sentence = (
        f"{show(when.zone or '')} could be {meaning}; write the zone, like {' or '.join(names)}."
    )
    typed = when.time_text.rsplit(" ", 1)[0]
    fragment = f"tomorrow at {typed} {names[0]}"
    raise ctx.fail(sentence, example=fragment if ctx.option else f"/meet Design review {fragment}")


def _fixed(word: str, minutes: int, home: str | None) -> _Zone:
    tz = timezone(timedelta(minutes=minutes), word.upper())
    return _Zone(tz, word.upper(), home=ZoneInfo(home) if home else None)


# ---- the date --------------------------------------------------------------------------


def _date(day: DayRef | None, today: date, ctx: Ctx) -> tuple[date, str]:
    """The calendar date a day phrase names, and a note when "next" skipped a week."""
    if day is None:
        return today, ""
    note = ""
    if day.kind == "offset":
        on = today + timedelta(days=day.offset)
    elif day.kind in ("weekday", "this"):
        on = today + timedelta(days=(day.weekday - today.weekday()) % 7)
    elif day.kind == "next":
        on = today + timedelta(days=7 - today.weekday() + day.weekday)
        coming = today + timedelta(days=(day.weekday - today.weekday()) % 7)
        if coming != on:
            name = tw.FULL_DAYS[day.weekday]
            note = (
                f"“{day.text}” is read as {day_text(on)}, the {name} of next week; "
                f"for {day_text(coming)} write “this {name.lower()}”."
            )
    elif day.kind == "yearless":
        on = _next_yearly(day, today, ctx)
    elif day.kind == "monthday":
        on = _next_monthly(day, today, ctx)
    else:
        assert day.on is not None
        on = day.on
    if day.check is not None and on.weekday() != day.check:
        sentence = (
            f"{show(day.text)} does not add up: {on.day} {on:%b %Y} is a "
            f"{tw.FULL_DAYS[on.weekday()]}, not a {tw.FULL_DAYS[day.check]}."
        )
        raise ctx.fail(sentence, "date")
    return on, note


def _next_yearly(day: DayRef, today: date, ctx: Ctx) -> date:
    """'dec 3' is this year's, or next year's once this year's has passed."""
    for year in (today.year, today.year + 1):
        try:
            on = date(year, day.month, day.mday)
        except ValueError:
            continue
        if on >= today:
            return on
    sentence = f"There is no {day.mday} {date(2000, day.month, 1):%b} in the coming year."
    raise ctx.fail(sentence, "date")


def _next_monthly(day: DayRef, today: date, ctx: Ctx) -> date:
    """'on the 3rd' is this month's, or next month's once this month's has passed."""
    year, month = (today.year, today.month)
    if day.mday < today.day:
        year, month = (year + month // 12, month % 12 + 1)
    try:
        return date(year, month, day.mday)
    except ValueError:
        sentence = f"{show(day.text)}: {date(year, month, 1):%B} has no {day.mday}th."
        raise ctx.fail(sentence, "date") from None


def day_of(day: DayRef, ctx: Ctx) -> date:
    """The local date a day phrase names in the user's zone (a skip, a Discord date)."""
    return _date(day, ctx.today, ctx)[0]


# ---- wall time to UTC ------------------------------------------------------------------


def _exact(on: date, clock: Clock, zone: _Zone, what: str, ctx: Ctx) -> tuple[datetime, str]:
    """UTC for a wall time in the zone, and a note when DST skipped or repeated it."""
    wall = datetime.combine(on, time(clock.hour, clock.minute))
    hhmm = f"{clock.hour:02d}:{clock.minute:02d}"
    if not isinstance(zone.tz, ZoneInfo):
        note = _season(wall, zone, hhmm) if what == "starts" else ""
        return wall.replace(tzinfo=zone.tz).astimezone(UTC), note
    tz = zone.tz
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if zone.abbreviation:
        for aware in (first, second):
            if (aware.tzname() or "").lower() == zone.abbreviation and _exists(aware):
                return aware.astimezone(UTC), ""
        minutes, home = tw.ABBREVIATIONS.get(zone.abbreviation, (None, None))
        if minutes is None:
            sentence = f"{tz.key} is not on {zone.abbreviation.upper()} on {day_text(on)}."
            raise ctx.fail(sentence)
        fixed = _fixed(zone.abbreviation, minutes, home or tz.key)
        return _exact(on, clock, fixed, what, ctx)
    if not _exists(first):
        start = local_to_utc(on, clock.hour, clock.minute, tz)
        moved = start.astimezone(tz)
        note = (
            f"{hhmm} does not exist on {day_text(on)} in {tz.key} (clocks go forward), "
            f"so it {what} at {moved:%H:%M}."
        )
        return start, note
    if first.utcoffset() != second.utcoffset():
        note = (
            f"{hhmm} happens twice on {day_text(on)} in {tz.key} (clocks go back); "
            f"this is the first, {_name(first)}; for the second write {hhmm} {_ask(second)}."
        )
        return first.astimezone(UTC), note
    return first.astimezone(UTC), ""


def _exists(aware: datetime) -> bool:
    back = aware.astimezone(UTC).astimezone(aware.tzinfo)
    return back.replace(tzinfo=None, fold=0) == aware.replace(tzinfo=None, fold=0)


def _name(aware: datetime) -> str:
    """'CEST (UTC+2)', or 'UTC-3' where the zone has no lettered abbreviation."""
    name, offset = aware.tzname() or "", offset_text(aware.utcoffset())
    return f"{name} ({offset})" if name.isalpha() else offset


def _ask(aware: datetime) -> str:
    """How to ask for exactly this offset: its abbreviation when that reads back, else UTC±H."""
    name = (aware.tzname() or "").lower()
    minutes = tw.ABBREVIATIONS.get(name, (None, None))[0]
    offset = aware.utcoffset()
    if minutes is not None and offset == timedelta(minutes=minutes):
        return name.upper()
    return offset_text(offset)


def _season(wall: datetime, zone: _Zone, hhmm: str) -> str:
    """A fixed abbreviation whose region is on its sibling that day ('9am EST' in July)."""
    if zone.home is None:
        return ""
    there = wall.replace(tzinfo=zone.tz).astimezone(zone.home)
    if (there.tzname() or "").upper() == zone.label:
        return ""
    city = zone.home.key.split("/")[-1].replace("_", " ")
    return (
        f"{hhmm} {zone.label} ({offset_text(zone.tz.utcoffset(None))}) is {there:%H:%M} in "
        f"{city}, which is on {there.tzname()} then; for {city}'s own time write "
        f"{hhmm} {zone.home.key}."
    )


# ---- the whole reading -----------------------------------------------------------------


def place(when: When, ctx: Ctx) -> Reading:
    """Turn a start phrase into UTC, refusing times that have passed."""
    if when.instant:
        return Reading(None)
    if when.delta is not None:
        return Reading(ctx.now + when.delta)
    assert when.clock is not None
    zone = _zone(when, ctx)
    today = ctx.now.astimezone(zone.tz).date()
    on, note = _date(when.day, today, ctx)
    if on < today:
        raise ctx.fail(f"{show(when.text)} is in the past.", "date")
    if on - today > MAX_AHEAD:
        raise ctx.fail(f"{show(when.text)} is more than 10 years ahead.", "date")
    start, moved = _exact(on, when.clock, zone, "starts", ctx)
    if start < ctx.now - GRACE:
        if when.day is None or when.day.kind != "weekday":
            raise _passed(when, ctx)
        on += timedelta(days=7)
        start, moved = _exact(on, when.clock, zone, "starts", ctx)
    notes = [n for n in (moved, note) if n]
    if when.end is None:
        return Reading(start, None, " ".join(notes))
    end, end_note = _end(on, when, start, zone, ctx)
    return Reading(start, end, " ".join([*notes, end_note] if end_note else notes))


def _passed(when: When, ctx: Ctx) -> Exception:
    day = when.day
    if day is None or (day.kind == "offset" and day.offset == 0):
        assert when.clock is not None
        typed = when.time_text or when.clock.text
        later = f"tomorrow {typed}" if ":" in typed or typed[-1:] == "m" else f"tomorrow at {typed}"
        example = later if ctx.option else f"/meet Design review {later}"
        return ctx.fail(f"{when.clock.text} today has already passed.", example=example)
    if day.kind == "this":
        fragment = f"next {tw.FULL_DAYS[day.weekday].lower()} at 10:00"
        example = fragment if ctx.option else f"/meet Design review {fragment}"
        return ctx.fail(f"{show(when.text)} has already passed.", example=example)
    return ctx.fail(f"{show(when.text)} is in the past.", "date")


def _end(on: date, when: When, start: datetime, zone: _Zone, ctx: Ctx) -> tuple[datetime, str]:
    """A range's end: the same day, or the next when it is earlier on the clock."""
    assert when.clock is not None and when.end is not None
    first = (when.clock.hour, when.clock.minute)
    later = (when.end.hour, when.end.minute) > first
    end, note = _exact(on if later else on + timedelta(days=1), when.end, zone, "ends", ctx)
    if not later and isinstance(zone.tz, ZoneInfo) and not zone.abbreviation:
        wall = datetime.combine(on, time(when.end.hour, when.end.minute, fold=1), zone.tz)
        if _exists(wall) and start < wall.astimezone(UTC):  # '02:45-02:15' on a fall-back night
            end, note = wall.astimezone(UTC), ""
    length = end - start
    shown = show(when.time_text or when.text)
    if length <= timedelta(0) or (not later and length > _WRAP_LIMIT):
        raise ctx.fail(f"{shown} ends before it starts.", "length")
    if length > MAX_LENGTH:
        raise ctx.fail(f"{shown} is too long: a meeting can last at most 24 hours.", "length")
    return end, note
