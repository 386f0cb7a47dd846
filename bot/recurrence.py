"""Rules as RFC 5545 RRULEs, and when their occurrences fall, in UTC, across DST changes.

dateutil's rrule writes each RRULE (bot.rules picks its parts from the words) and
picks the local *dates* from it and its DTSTART (the anchor), so INTERVAL, BYSETPOS,
UNTIL and COUNT mean what RFC 5545 says. The wall time of each date becomes UTC with
`local_to_utc`: a time missing in a DST gap moves to the first minute after it, a
repeated one takes its first occurrence, so every occurrence happens once at the
right minute. (APScheduler's CronTrigger is not used: with zoneinfo it fires a
fall-back day's repeated hour twice and puts a spring-forward day's missing 02:30
at 03:30.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import DAILY, MONTHLY, WEEKLY, rrule, rrulestr, weekday

from bot.models import Rule, Series
from bot.timeparse import local_to_utc

_PAD = datetime(2000, 1, 3)  # a DTSTART to write an RRULE line with; the line never shows it

# ---- writing rules -------------------------------------------------------------------


def _made(freq: int, hour: int, minute: int, **parts: Any) -> Rule:
    written = str(rrule(freq, dtstart=_PAD, wkst=0, **parts))
    return Rule(written.split("RRULE:", 1)[1], hour, minute)


def edited(text: str, **changes: Any) -> str:
    """The RRULE `text` with parts changed (until=, count=, interval=), rewritten by dateutil."""
    written = str(rrulestr(text, dtstart=_PAD).replace(wkst=0, **changes))
    return written.split("RRULE:", 1)[1]


def weekly(days: Iterable[int], hour: int, minute: int, interval: int = 1) -> Rule:
    """On these weekdays (0 = Monday) every `interval` weeks; all seven every week is daily."""
    chosen = sorted(set(days))
    if chosen == list(range(7)) and interval == 1:
        return _made(DAILY, hour, minute)
    return _made(WEEKLY, hour, minute, interval=interval, byweekday=[weekday(d) for d in chosen])


def daily(hour: int, minute: int, interval: int = 1) -> Rule:
    return _made(DAILY, hour, minute, interval=interval)


def monthly_on(day: int, hour: int, minute: int, interval: int = 1) -> Rule:
    """On day 1-31 of the month, or -1: the last. 29-31 fall on the last day of a shorter
    month (BYSETPOS=-1 over 28..day), where plain RFC 5545 would skip it (see bot.rules)."""
    if day > 28:
        return _made(MONTHLY, hour, minute, interval=interval,
                     bymonthday=tuple(range(28, day + 1)), bysetpos=-1)  # fmt: skip
    return _made(MONTHLY, hour, minute, interval=interval, bymonthday=day)


def monthly_nth(nth: int, day: int, hour: int, minute: int, interval: int = 1) -> Rule:
    """The nth (1-4, or -1 for last) weekday `day` of the month."""
    return _made(MONTHLY, hour, minute, interval=interval, byweekday=weekday(day)(nth))


def until_date(rule: Rule) -> date | None:
    """The last local day of a rule with UNTIL."""
    text = rule.parts.get("UNTIL")
    return datetime.strptime(text[:8], "%Y%m%d").date() if text else None


# ---- dates ---------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _parsed(text: str, start: datetime) -> Any:
    """dateutil's rrule for an RRULE from `start`; weeks begin on Monday unless it says."""
    rule = rrulestr(text, dtstart=start)
    return rule if "WKST=" in text else rule.replace(wkst=0)


def local_dates(rule: Rule, since: date) -> Iterator[date]:
    """The rule's local dates from `since` on (inclusive), in order."""
    anchor = rule.anchor or since
    start = datetime.combine(_window_start(rule, anchor, since), time(rule.hour, rule.minute))
    for moment in _parsed(rule.rrule, start):
        if moment.date() >= since:
            yield moment.date()


def _window_start(rule: Rule, anchor: date, since: date) -> date:
    """A DTSTART a whole number of periods after the anchor and not after `since`: the
    same dates from `since` on, without walking years of past ones. COUNT counts from
    the real anchor, so such a rule always starts there."""
    parts = rule.parts
    if "COUNT" in parts or since <= anchor:
        return anchor
    n = int(parts.get("INTERVAL", "1"))
    freq = parts.get("FREQ")
    if freq in ("DAILY", "WEEKLY"):
        step = n * (7 if freq == "WEEKLY" else 1)
        return anchor + timedelta(days=(since - anchor).days // step * step)
    if freq == "MONTHLY":
        months = (since.year - anchor.year) * 12 + since.month - anchor.month
        whole = months // n * n
        return anchor if whole == 0 else (anchor + relativedelta(months=whole)).replace(day=1)
    return anchor


def occurrences(
    rule: Rule, tz: ZoneInfo, after: datetime, skipped: frozenset[str] = frozenset()
) -> Iterator[tuple[date, datetime]]:
    """(local date, UTC start) of each occurrence strictly after `after`, in order."""
    for day in local_dates(rule, after.astimezone(tz).date() - timedelta(days=1)):
        if day.isoformat() in skipped:
            continue
        start = local_to_utc(day, rule.hour, rule.minute, tz)
        if start > after:
            yield day, start


def anchored(rule: Rule, now: datetime, tz: ZoneInfo) -> Rule:
    """The rule as a new series keeps it: DTSTART on its first date after `now` (so
    "every other tue" starts on the coming Tuesday), a relative end made an UNTIL."""
    today = now.astimezone(tz).date()
    pattern = edited(rule.rrule, interval=1, count=None, until=None)
    probe = Rule(pattern, rule.hour, rule.minute, anchor=today)
    first = next((day for day, _ in occurrences(probe, tz, now)), today)
    until = None
    if rule.until_day is not None:
        until = _next_on(*rule.until_day, today)
    elif rule.lasts is not None:
        n, unit = rule.lasts
        until = first + relativedelta(**{unit: n}) - timedelta(days=1)
    text = rule.rrule
    if until is not None:
        text = edited(text, until=datetime.combine(until, time(23, 59, 59)))
    return replace(rule, rrule=text, anchor=first, until_day=None, lasts=None)


def _next_on(month: int, day: int, today: date) -> date:
    """The first `month`-`day` from today on (Feb 29: the next leap year's)."""
    for year in range(today.year, today.year + 9):
        try:
            found = date(year, month, day)
        except ValueError:
            continue
        if found >= today:
            return found
    raise ValueError(f"no {month}-{day} ahead")


def series_occurrences(series: Series, after: datetime) -> Iterator[tuple[date, datetime]]:
    return occurrences(series.rule, ZoneInfo(series.tz), after, series.skipped)


def next_starts(series: Series, after: datetime, count: int = 3) -> list[datetime]:
    return [start for _, start in islice(series_occurrences(series, after), count)]


def left(series: Series, after: datetime) -> int | None:
    """How many meetings a COUNT rule still holds after `after`; None for other rules."""
    if "COUNT" not in series.rule.parts:
        return None
    return sum(1 for _ in series_occurrences(series, after))


def has_ended(series: Series, after: datetime) -> bool:
    """No occurrence after `after`: UNTIL passed or COUNT used up."""
    return next(series_occurrences(series, after), None) is None
