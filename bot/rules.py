"""Recurrence rules in words: reading what follows `every` into a rule (an RFC 5545
RRULE), and saying a rule back the way a reader would put it.

Read after `every` (then `[at] <time>`, then optionally how the series ends):

    weekday | day | weekend | mon,wed,fri | mondays     on those days of every week
    other week on tue | other tue | 2 weeks on tue,thu  every N weeks, from the first meeting
    other day | 3 days                                 every N days
    month on the 15th | other month on the 1st | month on the last day
    first mon | last fri | 2nd tue of the month | month on the first monday
    ... until 2027-06-30 | until jun 30 | for 10 times | for 6 weeks | for 3 months

Month ends: "on the 29th/30th/31st" moves to the last day of a shorter month. The
RRULE says so itself (BYMONTHDAY=28,29,30,31;BYSETPOS=-1), so a calendar reading it
agrees; RFC 5545's plain BYMONTHDAY=31 would skip those months, and a team meeting
"on the 31st" means the end of every month, not seven months a year.

"every 2nd tue" is refused: it is every other week to some readers and the second
Tuesday of the month to others. "every other tue" and "every 2nd tue of the month"
are not ambiguous, and replies use those words.

`for 10 times` (COUNT) and `for 6 weeks` / `for 3 months` (UNTIL, counted from the
first meeting) never clash with a meeting length (`for 45m`, `for 1h30`): they need
their unit word, and a meeting lasts at most a day. A skipped meeting still counts
toward its N times, as an EXDATE does in a calendar.

bot.recurrence writes every RRULE (with dateutil) and turns it into dates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time

from bot.models import RRULE_DAYS, Rule
from bot.recurrence import daily, edited, monthly_nth, monthly_on, weekly
from bot.timeparse import DAY_GROUPS, DAY_NAMES, Ctx, looks_like_clock, read_clock, show, tried
from bot.timewords import MONTHS

# weekly is bot.recurrence's, exported here beside its reader for tests that build rules
__all__ = ["End", "describe", "describe_day", "read_days", "read_end", "read_rule", "weekly"]

MAX_COUNT = 999
MAX_SPAN = {"weeks": 520, "months": 120}

_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
             "fourth": 4, "4th": 4, "last": -1}  # fmt: skip
_OF_MONTH = (("of", "the", "month"), ("of", "each", "month"), ("of", "every", "month"),
             ("each", "month"), ("a", "month"))  # fmt: skip
_UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week",
          "month": "month", "months": "month"}  # fmt: skip
_SPANS = {"week": "weeks", "weeks": "weeks", "month": "months", "months": "months"}
_COUNT_WORDS = ("time", "times", "occurrence", "occurrences", "meeting", "meetings")
_MONTHDAY = re.compile(r"([0-9]{1,2})(st|nd|rd|th)?")
_NUMBER = re.compile(r"[0-9]{1,4}")
_TIMES_X = re.compile(r"([0-9]{1,4})x")
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_YEAR = re.compile(r"[0-9]{4}")
_HOUR = re.compile(r"[0-9]{1,2}")
_FULL = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# ---- reading the days ----------------------------------------------------------------


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
    one = _one_day(word)
    return frozenset({one}) if one is not None else None


def _one_day(word: str) -> int | None:
    name = word[:-1] if word.endswith("s") and word[:-1] in DAY_NAMES else word
    return DAY_NAMES.get(name)


def _word(words: Sequence[str], k: int) -> str:
    return words[k].lower() if k < len(words) else ""


def _example(ctx: Ctx, fragment: str) -> str:
    return fragment if ctx.option else f"/meet Sync every {fragment}"


def _read_dates(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, Rule] | None:
    """Which dates: the words between `every` and the time."""
    head, nxt = _word(words, i), _word(words, i + 1)
    interval, k = 1, i
    if head in ("fortnight", "other"):
        interval, k = 2, i + 1
    elif (_NUMBER.fullmatch(head) or head in _ORDINALS) and head != "last" and nxt in _UNITS:
        interval, k = (int(head) if head.isdigit() else _ORDINALS[head]), i + 1
        if not 1 <= interval <= 99:
            raise ctx.fail(f"I can't repeat every {show(head + ' ' + nxt)}.", "rule")
    unit = "week" if head == "fortnight" else _UNITS.get(_word(words, k))
    k += unit is not None and head != "fortnight"
    if unit == "day":
        return k - i, daily(0, 0, interval)
    if unit == "month":
        return _read_month(words, i, k, interval, ctx)
    if unit == "week" or interval > 1:
        k += _word(words, k) == "on"
        got = read_days(words, k)
        if got is None:
            shown = show(" ".join(words[i:k]))
            sentence = f"{shown} needs the days of the week it falls on."
            raise ctx.fail(sentence, example=_example(ctx, "other week on tue at 10:00"))
        return k + got[1] - i, weekly(got[0], 0, 0, interval)
    if head in _ORDINALS or _MONTHDAY.fullmatch(head):
        return _read_nth(words, i, ctx)
    got = read_days(words, i)
    return (got[1], weekly(got[0], 0, 0)) if got else None


def _read_month(words: Sequence[str], i: int, k: int, interval: int, ctx: Ctx) -> tuple[int, Rule]:
    """After 'month(s)': '[on] [the] 15th', '... last day', '... first monday'."""
    k += _word(words, k) == "on"
    k += _word(words, k) == "the"
    word, nxt = _word(words, k), _word(words, k + 1)
    if word in _ORDINALS and _one_day(nxt) is not None:
        day = _one_day(nxt)
        assert day is not None
        return k + 2 - i, monthly_nth(_ORDINALS[word], day, 0, 0, interval)
    if word == "last" and nxt == "day":
        return k + 2 - i, monthly_on(-1, 0, 0, interval)
    if m := _MONTHDAY.fullmatch(word):
        return k + 1 - i, monthly_on(_monthday(m, words[k], ctx), 0, 0, interval)
    shown = show(" ".join(words[i:k]))
    sentence = f"{shown} needs a day of the month, like the 15th or the first monday."
    raise ctx.fail(sentence, example=_example(ctx, "month on the 15th at 10:00"))


def _read_nth(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, Rule] | None:
    """'first monday', 'last fri', '2nd tue of the month', 'last day', '15th'."""
    word, nxt = _word(words, i), _word(words, i + 1)
    day = _one_day(nxt)
    k = i + 1 + (day is not None or nxt == "day")
    of_month = next((len(p) for p in _OF_MONTH if _phrase(words, k, p)), 0)
    if day is not None and word in _ORDINALS:
        nth = _ORDINALS[word]
        if nth in (2, 3, 4) and not of_month:
            shown = show(f"every {words[i]} {words[i + 1]}")
            sentence = (
                f"I can't tell whether {shown} means every {nth} weeks or the {word} "
                f"{_FULL[day]} of each month; say which."
            )
            raise ctx.fail(sentence, example=_example(ctx, f"{word} {nxt} of the month at 10:00"))
        return k + of_month - i, monthly_nth(nth, day, 0, 0)
    if word == "last" and nxt == "day":
        return k + of_month - i, monthly_on(-1, 0, 0)
    m = _MONTHDAY.fullmatch(word)
    if m and m[2] and day is None:  # "every 15th": the day of the month, suffix required
        return k + of_month - i, monthly_on(_monthday(m, words[i], ctx), 0, 0)
    return None


def _monthday(m: re.Match[str], word: str, ctx: Ctx) -> int:
    day = int(m[1])
    if not 1 <= day <= 31:
        sentence = f"I couldn't read {show(word)} as a day of the month."
        raise ctx.fail(sentence, example=_example(ctx, "month on the 15th at 10:00"))
    return day


def _phrase(words: Sequence[str], k: int, phrase: Sequence[str]) -> bool:
    return all(_word(words, k + n) == part for n, part in enumerate(phrase))


# ---- reading the whole rule ----------------------------------------------------------


def read_rule(words: Sequence[str], i: int, ctx: Ctx) -> tuple[int, Rule] | None:
    """What follows `every`: which dates, [at] a time, then how the series ends.

    Words that are no rule stay in the title ("Every little thing") only when no time
    follows them; otherwise they are refused, so a rule misread never becomes a
    one-off meeting ("Sync every fortnightly at 9:00").
    """
    got = _read_dates(words, i, ctx) if i < len(words) else None
    if got is None:
        if not tried(_word(words, i)) and not _time_follows(words, i):
            return None
        shown = show(" ".join(words[i : _stretch(words, i)]))
        sentence = (
            f"I couldn't read {shown} as when to repeat; "
            "if those words belong to the title, put the title in quotes."
        )
        raise ctx.fail(sentence, "rule")
    k = i + got[0]
    k, hour, minute = _read_time(words, i, k, ctx)
    rule = replace(got[1], hour=hour, minute=minute)
    while _word(words, k) in ("until", "for"):
        end = read_end(words, k, ctx, strict=_word(words, k) == "until")
        if end is None:
            break
        rule = with_end(rule, end[1], ctx)
        k += end[0]
    return k - i, rule


def _time_follows(words: Sequence[str], i: int) -> bool:
    return any(
        looks_like_clock(words, k) or (_word(words, k) == "at" and tried(_word(words, k + 1)))
        for k in range(i, len(words))
    )


def _stretch(words: Sequence[str], i: int) -> int:
    """Where the unreadable words end: before the time or the next keyword."""
    k = i + 1
    while k < len(words) and k - i < 5 and not looks_like_clock(words, k):
        if _word(words, k) in ("at", "for", "until", "remind", "with"):
            break
        k += 1
    return k


def _read_time(words: Sequence[str], start: int, k: int, ctx: Ctx) -> tuple[int, int, int]:
    """'[at] 10:00', '10am', 'at 10' (a bare hour only after 'at')."""
    at = _word(words, k) == "at"
    j = k + at
    clock = read_clock(words, j)
    if clock is not None:
        return j + clock[1], clock[0].hour, clock[0].minute
    if at and _HOUR.fullmatch(_word(words, j)) and int(words[j]) < 24:
        return j + 1, int(words[j]), 0
    if looks_like_clock(words, j) or (at and tried(_word(words, j))):
        raise ctx.fail(f"I couldn't read {show(words[j])} as a time.", "rule")
    what = show(words[j]) if j < len(words) else "nothing"
    shown = show(" ".join(words[start:j]))
    raise ctx.fail(f"A repeating meeting needs a time after {shown}, but I found {what}.", "rule")


# ---- how a series ends ---------------------------------------------------------------


@dataclass(frozen=True)
class End:
    """An end as read: a date (maybe without its year), a number of times, or a span."""

    text: str
    until: date | None = None
    until_day: tuple[int, int] | None = None  # (month, day): the next one from creation
    count: int | None = None
    lasts: tuple[int, str] | None = None  # (6, "weeks") from the first meeting


def read_end(
    words: Sequence[str], i: int, ctx: Ctx, *, strict: bool = False
) -> tuple[int, End] | None:
    """'until 2027-06-30', 'until jun 30', 'for 10 times', 'for 6 weeks'; `for 45m` is
    a length, not an end (None). Without `strict`, 'until <not a date>' is None too."""
    key, nxt = _word(words, i), _word(words, i + 1)
    if key == "for":
        if m := _TIMES_X.fullmatch(nxt):
            return 2, _count(int(m[1]), words[i : i + 2], ctx)
        unit = _word(words, i + 2)
        if not _NUMBER.fullmatch(nxt) or (unit not in _COUNT_WORDS and unit not in _SPANS):
            return None
        if unit in _COUNT_WORDS:
            return 3, _count(int(nxt), words[i : i + 3], ctx)
        return 3, _span(int(nxt), _SPANS[unit], words[i : i + 3], ctx)
    if key != "until":
        return None
    got = _read_date(words, i + 1, ctx)
    if got is None:
        if strict or tried(nxt):
            shown = show(" ".join(words[i + 1 : i + 3]) or "nothing")
            sentence = f"I couldn't read {shown} as the day the series ends."
            raise ctx.fail(sentence, example=_example(ctx, "weekday at 9:30 until jun 30"))
        return None
    used, on = got
    text = " ".join(words[i : i + 1 + used])
    if isinstance(on, date):
        return 1 + used, End(text, until=on)
    return 1 + used, End(text, until_day=on)


def _count(n: int, words: Sequence[str], ctx: Ctx) -> End:
    if not 1 <= n <= MAX_COUNT:
        sentence = f"{show(' '.join(words))}: a series can run from 1 to {MAX_COUNT} times."
        raise ctx.fail(sentence, example=_example(ctx, "weekday at 9:30 for 10 times"))
    return End(" ".join(words), count=n)


def _span(n: int, unit: str, words: Sequence[str], ctx: Ctx) -> End:
    if not 1 <= n <= MAX_SPAN[unit]:
        sentence = f"{show(' '.join(words))}: a series can run for 1 to {MAX_SPAN[unit]} {unit}."
        raise ctx.fail(sentence, example=_example(ctx, "weekday at 9:30 for 6 weeks"))
    return End(" ".join(words), lasts=(n, unit))


def _read_date(words: Sequence[str], k: int, ctx: Ctx) -> tuple[int, date | tuple[int, int]] | None:
    """'2027-06-30', 'jun 30', 'june 30th 2027', '30 jun', '30th june 2027'."""
    word, nxt = _word(words, k).rstrip(","), _word(words, k + 1).rstrip(",")
    if m := _ISO.fullmatch(word):
        return 1, _valid(int(m[1]), int(m[2]), int(m[3]), words[k], ctx)
    if word in MONTHS and (m := _MONTHDAY.fullmatch(nxt)):
        month, day, used = MONTHS[word], int(m[1]), 2
    elif (m := _MONTHDAY.fullmatch(word)) and nxt in MONTHS:
        month, day, used = MONTHS[nxt], int(m[1]), 2
    else:
        return None
    shown = " ".join(words[k : k + used + 1])
    if _YEAR.fullmatch(_word(words, k + used)):
        return used + 1, _valid(int(words[k + used]), month, day, shown, ctx)
    _valid(2000, month, day, shown, ctx)  # a leap year: Feb 29 is a day some years have
    return used, (month, day)


def _valid(year: int, month: int, day: int, shown: str, ctx: Ctx) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        sentence = f"I couldn't read {show(shown)} as the day the series ends."
        raise ctx.fail(sentence, example=_example(ctx, "weekday at 9:30 until jun 30")) from None


def with_end(rule: Rule, end: End, ctx: Ctx) -> Rule:
    """The rule ending as `end` says; RFC 5545 allows one end (UNTIL or COUNT), so do we."""
    parts = rule.parts
    if "UNTIL" in parts or "COUNT" in parts or rule.until_day or rule.lasts:
        sentence = f"A series ends one way; {show(end.text)} is a second end."
        raise ctx.fail(sentence, example=_example(ctx, "weekday at 9:30 for 10 times"))
    if end.count is not None:
        return replace(rule, rrule=edited(rule.rrule, count=end.count))
    if end.until is not None:
        until = datetime.combine(end.until, time(23, 59, 59))
        return replace(rule, rrule=edited(rule.rrule, until=until))
    return replace(rule, until_day=end.until_day, lasts=end.lasts)


# ---- saying a rule back --------------------------------------------------------------


def describe(rule: Rule) -> str:
    """'every other Tuesday at 10:00', 'every month on the 15th at 10:00'."""
    parts = rule.parts
    n = int(parts.get("INTERVAL", "1"))
    freq = parts.get("FREQ")
    if freq == "DAILY":
        which = _every(n, "day", "")
    elif freq == "WEEKLY":
        which = _weekly(sorted(rule.days), n)
    elif freq == "MONTHLY":
        which = _monthly(parts, n)
    else:
        which = f"by the rule {rule.rrule}"
    return f"{which} at {rule.hour:02d}:{rule.minute:02d}"


def _every(n: int, unit: str, on: str) -> str:
    """'every day', 'every other day', 'every 3 weeks on Tuesday'."""
    which = f"every {unit}" if n == 1 else f"every other {unit}" if n == 2 else f"every {n} {unit}s"
    return f"{which} on {on}" if on else which


def _weekly(days: list[int], n: int) -> str:
    if days == list(range(5)):
        names = "weekdays"
    elif len(days) == 1:
        names = _FULL[days[0]]
    else:
        names = ", ".join(_SHORT[d] for d in days)
    if n == 1:
        return "every weekday" if names == "weekdays" else f"every {names}"
    if n == 2 and len(days) == 1:
        return f"every other {names}"
    return _every(n, "week", names)


def _monthly(parts: dict[str, str], n: int) -> str:
    byday, bymonthday = parts.get("BYDAY", ""), parts.get("BYMONTHDAY", "")
    if m := re.fullmatch(r"([+-]?[0-9])([A-Z]{2})", byday):
        nth = int(m[1])
        word = {1: "first", -1: "last"}.get(nth) or _suffixed(nth)
        name = _FULL[RRULE_DAYS.index(m[2])]
        if n == 1:
            return f"every {word} {name} of the month"
        return _every(n, "month", f"the {word} {name}")
    if bymonthday == "-1":
        on = "the last day"
    elif parts.get("BYSETPOS") == "-1" and bymonthday:
        day = int(bymonthday.split(",")[-1])
        on = f"the {_suffixed(day)} (the last day in shorter months)"
    else:
        on = f"the {_suffixed(int(bymonthday or '1'))}"
    return _every(n, "month", on)


def _suffixed(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def describe_day(day: date, today: date) -> str:
    """'30 Jun', with the year when it is not this one."""
    return f"{day.day} {day:%b}" + (f" {day.year}" if day.year != today.year else "")
