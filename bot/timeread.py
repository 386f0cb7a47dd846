"""Reading when a meeting starts (and ends): a day, a clock time or a range, a zone.

The readers return how many words they used and a `When`, or None when the words are
not a time at all (a title word); they raise GrammarError when the words were clearly
meant as a time but cannot be read. bot.timeplace turns a `When` into UTC.

    days     today, tomorrow, the day after tomorrow, mon / monday, this fri, next fri,
             in 2 days, in a week, dec 3, 3 dec, december 3rd, 3rd of december,
             fri 3 dec 2027, 2027-12-03, 13/12 or 12/13 (only when one reading is a
             date), on the 3rd
    times    15:00, 9:30, 3pm, 3:30 pm, 3 p.m., noon, midnight, 15h, 15h30; after at,
             from or to also bare hours (at 10, at 9 → 10:00, 09:00; 0 and 13-23 as
             written; 1-6 are refused: 01:00 or 13:00?) and 15.30; never 1530 (a year?)
    ranges   3pm-4pm, 3-4pm, 15:00–16:30, 15:00 - 16:30, from 3pm to 4:30pm, 9 to 11
    zones    right after the time: an IANA name, UTC+2, or an abbreviation (bot.timewords)

"next friday" is the Friday of next week (weeks start on Monday): on a Wednesday it is
nine days away, on a Saturday six. "this friday" is the coming one, today included.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from bot import timewords as tw
from bot.timedays import DayRef, date_error, low, read_day
from bot.timeparse import MAX_AHEAD, Clock, Ctx, read_span, show, spell_span, tried

_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_HHMM = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")
_COLON = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_H = re.compile(r"([0-9]{1,2})h([0-9]{2})?")
_BARE = re.compile(r"[0-9]{1,2}")
_MERIDIEM = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?([ap])\.?m\.?")
_MER_WORD = re.compile(r"([ap])\.?m\.?")
_SPLIT = re.compile(r"([-–—])")
_NAMED = ("noon", "midday", "midnight")


@dataclass(frozen=True)
class When:
    """A start as typed: a clock (maybe a range, a day, a zone), an offset, or "now"."""

    text: str
    clock: Clock | None = None
    end: Clock | None = None
    day: DayRef | None = None
    delta: timedelta | None = None
    zone: str | None = None
    instant: bool = False
    time_text: str = ""  # the time, range and zone as typed, for suggestions

    @property
    def day_only(self) -> bool:
        return self.clock is None and self.delta is None and not self.instant


# ---- clock times and ranges ------------------------------------------------------------


@dataclass(frozen=True)
class _Time:
    """One side of a time as written, before 12- or 24-hour reading."""

    hour: int
    minute: int
    meridiem: str | None  # "a" | "p"
    shape: str  # named | colon | h | bare | dotted
    text: str


def _atoms(words: Sequence[str], j: int) -> list[tuple[str, int | None]]:
    """Words from j split at dashes ('3pm-4pm' → 3pm, -, 4pm), each with the word count
    used once it is read (None inside a word: a reading cannot stop there)."""
    out: list[tuple[str, int | None]] = []
    for k in range(j, min(len(words), j + 5)):
        word = words[k].lower()
        if _ISO.fullmatch(word) or word in tw.DASHES or not any(d in word for d in tw.DASHES):
            out.append((word, k + 1 - j))
            continue
        parts = [p for p in _SPLIT.split(word) if p]
        out.extend((p, k + 1 - j if n == len(parts) - 1 else None) for n, p in enumerate(parts))
    return out


def _time_atom(atoms: list[tuple[str, int | None]], p: int) -> tuple[_Time, int] | None:
    """The time written at atoms[p] (and a meridiem word after it), in any shape."""
    if p >= len(atoms):
        return None
    word = atoms[p][0]
    nxt = atoms[p + 1][0] if p + 1 < len(atoms) else ""
    if word in _NAMED:
        return _Time(0 if word == "midnight" else 12, 0, None, "named", word), 1
    if m := _MERIDIEM.fullmatch(word):
        return _Time(int(m[1]), int(m[2] or 0), m[3], "colon" if m[2] else "bare", word), 1
    meridiem = _MER_WORD.fullmatch(nxt)
    if m := _COLON.fullmatch(word) or _HHMM.fullmatch(word):
        shape = "colon" if ":" in word else "dotted"
        if meridiem:
            return _Time(int(m[1]), int(m[2]), meridiem[1], shape, f"{word} {nxt}"), 2
        return _Time(int(m[1]), int(m[2]), None, shape, word), 1
    if m := _H.fullmatch(word):
        return _Time(int(m[1]), int(m[2] or 0), None, "h", word), 1
    if _BARE.fullmatch(word):
        if meridiem:
            return _Time(int(word), 0, meridiem[1], "bare", f"{word} {nxt}"), 2
        return _Time(int(word), 0, None, "bare", word), 1
    return None


def _bad_time(text: str, ctx: Ctx) -> Exception:
    return ctx.fail(f"I couldn't read {show(text)} as a time.")


def _hour24(t: _Time, ctx: Ctx, *, loose: bool, h_ok: bool) -> tuple[int, int] | None:
    """A start time in 24-hour terms; None when the shape is not a time in this position.

    `loose` (after at/from/to): bare hours read as 0 and 7-23, also 9h and 15.30;
    `h_ok` (after a day): 9h30. Elsewhere only 15h and 15h30 (13 or later) are times."""
    if t.minute >= 60:
        raise _bad_time(t.text, ctx)
    if t.meridiem:
        if not 1 <= t.hour <= 12:
            raise _bad_time(t.text, ctx)
        return t.hour % 12 + (12 if t.meridiem == "p" else 0), t.minute
    if t.shape == "named":
        return t.hour, t.minute
    if t.shape in ("bare", "dotted") and not loose:
        return None
    if t.shape == "h" and not (loose or t.hour >= 13 or (h_ok and t.text[-1:] != "h")):
        return None
    if t.hour >= 24:
        raise _bad_time(t.text, ctx)
    if t.shape == "bare" and 1 <= t.hour <= 6:
        later = f"{t.hour}pm"
        sentence = (
            f"I can't tell whether {show(t.text)} means {t.hour:02d}:00 or {t.hour + 12}:00; "
            f"write {t.hour}am or {later}."
        )
        raise ctx.fail(sentence, example=_example(ctx, f"tomorrow at {later}"))
    return t.hour, t.minute


def _example(ctx: Ctx, fragment: str) -> str:
    return fragment if ctx.option else f"/meet Design review {fragment}"


def _end_hour(t: _Time, start: tuple[int, int], ctx: Ctx) -> tuple[int, int]:
    """A range's end: without am/pm, the first reading after the start ('10-2' → 14:00);
    earlier than the start, it is the next day's ('22:00-01:00')."""
    if t.minute >= 60 or t.hour >= 24 or (t.meridiem and not 1 <= t.hour <= 12):
        raise _bad_time(t.text, ctx)
    begin = start[0] * 60 + start[1]
    if t.meridiem:
        hours = [t.hour % 12 + (12 if t.meridiem == "p" else 0)]
    elif t.shape == "named":
        hours = [t.hour]
    else:
        hours = [t.hour, t.hour + 12] if t.hour < 12 else [t.hour]
    for hour in hours:
        if hour * 60 + t.minute > begin:
            return hour, t.minute
    return hours[0], t.minute


def read_time(
    words: Sequence[str], j: int, ctx: Ctx, *, loose: bool, h_ok: bool = False
) -> tuple[int, Clock, Clock | None] | None:
    """A time or a range at words[j]: (words used, start, end or None)."""
    word = words[j].lower() if j < len(words) else ""
    if not word[:1].isdigit() and word not in _NAMED:
        return None  # the common case, a title word: no need to split anything
    atoms = _atoms(words, j)
    got = _time_atom(atoms, 0)
    if got is None:
        return None
    first, p = got
    after = atoms[p][0] if p < len(atoms) else ""
    second = _time_atom(atoms, p + 1) if after in tw.RANGE_WORDS else None
    inherits = second and second[0].meridiem and not first.meridiem and 1 <= first.hour <= 12
    if second and inherits and first.shape in ("bare", "colon", "dotted"):
        first = _inherit(first, second[0])
    start = _hour24(first, ctx, loose=loose, h_ok=h_ok)
    if start is None:
        return None
    if second is None:
        used = atoms[p - 1][1]
        return (used, _clock(start, first.text), None) if used else None
    end_hour, end_minute = _end_hour(second[0], start, ctx)
    used = atoms[p + second[1]][1]
    if used is None:
        return None
    text = " ".join(words[j : j + used])
    return used, _clock(start, text), _clock((end_hour, end_minute), second[0].text)


def _inherit(first: _Time, second: _Time) -> _Time:
    """'3-4pm' is 15:00-16:00, '11-1pm' 11:00-13:00: the start takes the end's am/pm
    unless that puts it after the end."""
    assert second.meridiem is not None
    end = second.hour % 12 + (12 if second.meridiem == "p" else 0)
    same = first.hour % 12 + (12 if second.meridiem == "p" else 0)
    meridiem = second.meridiem if same * 60 + first.minute < end * 60 + second.minute else None
    meridiem = meridiem or ("a" if second.meridiem == "p" else "p")
    return _Time(first.hour, first.minute, meridiem, first.shape, first.text)


def _clock(hm: tuple[int, int], text: str) -> Clock:
    return Clock(hm[0], hm[1], text)


# ---- relative days and spans ----------------------------------------------------------


def _read_in(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, When] | None:
    """'in 20m', 'in 1 hour 30 minutes', 'in an hour', or 'in 2 days [at 10:00]'."""
    nxt, unit = low(words, i + 1), low(words, i + 2).rstrip("s")
    count = int(nxt) if nxt.isdigit() and len(nxt) <= 4 else tw.COUNTS.get(nxt)
    if count is not None and unit in ("day", "week"):
        days = count * (7 if unit == "week" else 1)
        text = " ".join(words[i : i + 3])
        if not 0 < days <= MAX_AHEAD.days:
            raise ctx.fail(f"{show(text)} has to be between 1 day and 10 years ahead.", "in")
        return _then_clock(words, i + 3, i, DayRef(text, "offset", offset=days), ctx)
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


# ---- whole start phrases ---------------------------------------------------------------


def read_when(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, When] | None:
    """Any start phrase at words[i]; a day with no time after it comes back day-only."""
    word, nxt = low(words, i), low(words, i + 1)
    if word == "now":
        return 1, When(words[i], instant=True)
    if word[:1] == "@" and word[1:2].isdigit():  # '@10', '@3pm': 'at' in chat shorthand
        got = _clock_then_day([*words[:i], word[1:], *words[i + 1 :]], i, i, ctx, loose=True)
        return (got[0], replace(got[1], text=f"@{got[1].text}")) if got else None
    if word in ("at", "@", "from") and nxt:
        got = _clock_then_day(words, i + 1, i, ctx, loose=True)
        if got is None and (tried(nxt) or nxt in tw.DAY_PARTS):
            raise _bad_time(words[i + 1], ctx)
        return got
    if word == "in" and nxt:
        return _read_in(words, i, ctx)
    if word == "on" and nxt:
        day = read_day(words, i + 1, ctx, on=True)
        if day is None:
            if tried(nxt):
                raise date_error(words[i + 1], ctx)
            return None
        return _then_clock(words, i + 1 + day[0], i, day[1], ctx)
    day = read_day(words, i, ctx)
    if day is not None:
        return _then_clock(words, i + day[0], i, day[1], ctx)
    return _clock_then_day(words, i, i, ctx, loose=False)


def _zone_after(words: Sequence[str], k: int) -> str | None:
    word = words[k] if k < len(words) else ""
    return word if word and tw.looks_like_zone(word) else None


def _clock_then_day(
    words: Sequence[str], j: int, start: int, ctx: Ctx, *, loose: bool
) -> tuple[int, When] | None:
    """A time or range, an optional zone, then an optional '[on] <day>' ('at 9am tomorrow')."""
    got = read_time(words, j, ctx, loose=loose)
    if got is None:
        return None
    used, clock, end = got
    k = j + used
    zone = _zone_after(words, k)
    k += zone is not None
    time_text = " ".join(words[j:k])
    day = None
    on = low(words, k) == "on"
    if k + on < len(words):
        found = read_day(words, k + on, ctx, on=on)
        if found is None and on:
            raise date_error(words[k + on], ctx)
        if found is not None:
            day = found[1]
            k += on + found[0]
    text = " ".join(words[start:k])
    return k - start, When(text, clock, end, day, zone=zone, time_text=time_text)


def _then_clock(
    words: Sequence[str], k: int, start: int, day: DayRef, ctx: Ctx
) -> tuple[int, When]:
    """After a day: '[,] [at|from] <time>' or nothing (a day-only reading)."""
    at = low(words, k) in ("at", "@", "from")
    j = k + at
    got = read_time(words, j, ctx, loose=at, h_ok=True) if j < len(words) else None
    if got is None:
        word = low(words, j)
        if at and (tried(word) or word in tw.DAY_PARTS):
            raise _bad_time(words[j], ctx)
        if not at and tried(word):
            shown = show(" ".join(words[start : j + 1]))
            sentence = f"I couldn't read the time in {shown}; write at {words[j]} or {words[j]}:00."
            raise ctx.fail(sentence)
        return k - start, When(" ".join(words[start:k]), day=day)
    used, clock, end = got
    m = j + used
    zone = _zone_after(words, m)
    m += zone is not None
    text = " ".join(words[start:m])
    return m - start, When(text, clock, end, day, zone=zone, time_text=" ".join(words[j:m]))
