"""When a weekly rule's occurrences fall, in UTC, correct across DST changes.

APScheduler 3.x's CronTrigger is not used for this: with zoneinfo it fires a
fall-back day's repeated hour twice and puts a spring-forward day's missing
02:30 at 03:30. Walking the local calendar and converting each wall time with
`local_to_utc` gives one occurrence per day: a missing time moves to the first
valid minute after the gap, a repeated one takes its first occurrence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

from bot.models import Series, Weekly
from bot.timeparse import local_to_utc

MAX_DAYS_SCANNED = 4000  # more than ten years: a rule whose days are all skipped ends


def occurrences(
    rule: Weekly, tz: ZoneInfo, after: datetime, skipped: frozenset[str] = frozenset()
) -> Iterator[tuple[date, datetime]]:
    """(local date, UTC start) of each occurrence strictly after `after`, in order."""
    if not rule.days:
        return
    day = after.astimezone(tz).date() - timedelta(days=1)
    for _ in range(MAX_DAYS_SCANNED):
        if day.weekday() in rule.days and day.isoformat() not in skipped:
            start = local_to_utc(day, rule.hour, rule.minute, tz)
            if start > after:
                yield day, start
        day += timedelta(days=1)


def series_occurrences(series: Series, after: datetime) -> Iterator[tuple[date, datetime]]:
    return occurrences(series.rule, ZoneInfo(series.tz), after, series.skipped)


def next_starts(series: Series, after: datetime, count: int = 3) -> list[datetime]:
    return [start for _, start in islice(series_occurrences(series, after), count)]
