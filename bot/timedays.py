"""Reading a day: today, tomorrow, weekdays, this/next <weekday>, and calendar dates.

    today, tomorrow, the day after tomorrow, mon / monday, this fri, next fri,
    dec 3, 3 dec, december 3rd, 3rd of december, dec 3 2027, fri 3 dec,
    2027-12-03, 13/12 or 12/13 (only when one reading is a date), on the 3rd

A year-less date is resolved to its next occurrence (bot.timeplace); a weekday written
beside a date is checked against it. A weekday or month word after "the", "with"…
is a noun ("lunch in the sun", "coffee with june").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot import timewords as tw
from bot.timeparse import Ctx, show

_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_SLASH = re.compile(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}))?")
_YEAR = re.compile(r"20[0-9]{2}")
_DAYNUM = re.compile(r"([0-9]{1,2})(?:st|nd|rd|th)?")


@dataclass(frozen=True)
class DayRef:
    """A day as typed; weekdays and year-less dates stay relative until resolved."""

    text: str
    kind: str  # offset | weekday | this | next | date | yearless | monthday
    offset: int = 0  # days from today, for "today", "tomorrow", "in 2 days"
    weekday: int = 0
    on: date | None = None
    month: int = 0
    mday: int = 0
    check: int | None = None  # a weekday written beside a date ("fri 3 dec"), to check


def low(words: Sequence[str], k: int) -> str:
    return words[k].lower() if 0 <= k < len(words) else ""


def date_error(text: str, ctx: Ctx) -> Exception:
    return ctx.fail(f"I couldn't read {show(text)} as a date.", "date")


def _checked(year: int, month: int, day: int, text: str, ctx: Ctx) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise date_error(text, ctx) from None


def _month_day(month: int, day: int, text: str, ctx: Ctx) -> None:
    """A day that exists in that month in some year (29 Feb does)."""
    _checked(2000, month, day, text, ctx)


def _slash(m: re.Match[str], text: str, ctx: Ctx) -> DayRef:
    """'13/12' or '12/13': read only when just one order makes a date."""
    a, b, year = int(m[1]), int(m[2]), int(m[3]) if m[3] else None
    readings = {(mo, d) for mo, d in ((b, a), (a, b)) if 1 <= mo <= 12 and 1 <= d <= 31}
    readings = {r for r in readings if _exists(2000 if year is None else year, *r)}
    if len(readings) != 1:
        if not readings:
            raise date_error(text, ctx)
        sentence = (
            f"I can't tell whether {show(text)} is day/month or month/day; "
            "write the month as a word, like 3 dec."
        )
        raise ctx.fail(sentence, "date")
    month, day = readings.pop()
    if year is None:
        return DayRef(text, "yearless", month=month, mday=day)
    return DayRef(text, "date", on=_checked(year, month, day, text, ctx))


def _exists(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _read_date(words: Sequence[str], k: int, ctx: Ctx, *, on: bool) -> tuple[int, DayRef] | None:
    """'2027-12-03', 'dec 3', '3 dec', 'december 3rd, 2027', '3rd of december', 'the 3rd'."""
    word, nxt = low(words, k), low(words, k + 1)
    if m := _ISO.fullmatch(word):
        return 1, DayRef(words[k], "date", on=_checked(int(m[1]), int(m[2]), int(m[3]), word, ctx))
    if m := _SLASH.fullmatch(word):
        return 1, _slash(m, words[k], ctx)
    the = word == "the" and bool(tw.ORDINAL.fullmatch(nxt) or nxt in tw.ORDINAL_WORDS)
    if the:
        k, word, nxt = k + 1, nxt, low(words, k + 2)
    day_m = _DAYNUM.fullmatch(word)
    mday = int(day_m[1]) if day_m else tw.ORDINAL_WORDS.get(word, 0)
    if word in tw.MONTHS and (m := _DAYNUM.fullmatch(nxt)):
        month, mday, used = tw.MONTHS[word], int(m[1]), 2
    elif mday and nxt in tw.MONTHS:
        month, used = tw.MONTHS[nxt], 2
    elif mday and nxt == "of" and low(words, k + 2) in tw.MONTHS:
        month, used = tw.MONTHS[low(words, k + 2)], 3
    elif mday and (the or (on and tw.ORDINAL.fullmatch(word))):
        start = k - the
        text = " ".join(words[start : k + 1])
        if not 1 <= mday <= 31:
            raise date_error(text, ctx)
        return k + 1 - start, DayRef(text, "monthday", mday=mday)
    else:
        return None
    start = k - the
    text = " ".join(words[start : k + used])
    _month_day(month, mday, text, ctx)
    if _YEAR.fullmatch(low(words, k + used)):
        text = f"{text} {words[k + used]}"
        year = int(words[k + used])
        return k + used + 1 - start, DayRef(text, "date", on=_checked(year, month, mday, text, ctx))
    return k + used - start, DayRef(text, "yearless", month=month, mday=mday)


def read_day(
    words: Sequence[str], k: int, ctx: Ctx, *, on: bool = False
) -> tuple[int, DayRef] | None:
    """A day phrase at words[k]; a weekday or month word after 'the', 'with'… is a noun."""
    word, nxt = low(words, k), low(words, k + 1)
    if word == "the" and nxt == "day" and low(words, k + 2) == "after":
        got = read_day(words, k + 1, ctx)
        return (got[0] + 1, got[1]) if got else None
    if word == "day" and nxt == "after" and low(words, k + 2) == "tomorrow":
        return 3, DayRef(" ".join(words[k : k + 3]), "offset", offset=2)
    if word in tw.RELATIVE_DAYS:
        return 1, DayRef(words[k], "offset", offset=tw.RELATIVE_DAYS[word])
    if word in ("this", "next", "coming") and nxt in tw.WEEKDAYS:
        kind = "next" if word == "next" else "this"
        return 2, DayRef(" ".join(words[k : k + 2]), kind, weekday=tw.WEEKDAYS[nxt])
    if word in ("this", "next", "coming", "last") and (nxt in tw.PERIODS or nxt in tw.MONTHS):
        shown = show(" ".join(words[k : k + 2]))
        raise ctx.fail(f"{shown} needs a day and a time, like next monday at 10:00.", "date")
    if low(words, k - 1) in tw.ARTICLES and not on:
        return None
    if word in tw.WEEKDAYS:
        got = _read_date(words, k + 1, ctx, on=False)
        if got is None:
            return 1, DayRef(words[k], "weekday", weekday=tw.WEEKDAYS[word])
        used, day = got
        text = " ".join(words[k : k + 1 + used])
        return 1 + used, DayRef(text, day.kind, 0, 0, day.on, day.month, day.mday,
                                check=tw.WEEKDAYS[word])  # fmt: skip
    return _read_date(words, k, ctx, on=on)
