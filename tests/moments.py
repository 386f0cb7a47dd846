"""Test moments derived from the real date, so the suite passes on any day it runs.

Nothing in the suite pins an absolute date that will pass: a test starts from
"next Monday 09:00" or "the next time Berlin changes its clocks" as seen from
today, and injects that moment as the clock. Run the suite under libfaketime
(`scripts/any-date.sh`) to see it pass on a DST day, a year-end night or 2037.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def today(tz: tzinfo = UTC) -> date:
    return datetime.now(tz).date()


def next_weekday(weekday: int, tz: tzinfo = UTC, *, after: date | None = None) -> date:
    """The first `weekday` (0 = Monday) strictly after `after` (default: today in `tz`)."""
    start = after or today(tz)
    return start + timedelta(days=(weekday - start.weekday() - 1) % 7 + 1)


def at(day: date, hour: int, minute: int = 0, tz: tzinfo = UTC) -> datetime:
    """A wall time on `day` in `tz`, as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute), tzinfo=tz).astimezone(UTC)


def next_monday_at(hour: int, minute: int = 0, tz: tzinfo = UTC) -> datetime:
    """Next Monday's wall time in `tz`: the suite's usual "now"."""
    return at(next_weekday(0, tz), hour, minute, tz)


def next_clock_change(tz: ZoneInfo, *, forward: bool, after: date | None = None) -> date:
    """The next day on which `tz` moves its clocks forward (spring) or back (autumn)."""
    day = after or today(tz)
    for _ in range(800):
        day += timedelta(days=1)
        before = at(day, 0, 0, tz).astimezone(tz).utcoffset()
        later = at(day + timedelta(days=1), 0, 0, tz).astimezone(tz).utcoffset()
        if (
            before is not None
            and later is not None
            and before != later
            and ((later > before) == forward)
        ):
            return day
    raise ValueError(f"{tz.key} changes no clocks in the next two years")
