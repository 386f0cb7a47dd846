"""Recurrence rules: the RRULE each form is read as, the dates dateutil gives for it, and
the UTC minute of each across DST changes in both hemispheres.

Every moment derives from today (tests/moments.py), so the suite passes on any date.
Expected dates are computed here independently (calendar arithmetic, Python's own
fold=0 for repeated times), not by asking the code under test.
"""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

from bot import rules
from bot.grammar import parse, parse_rule
from bot.models import Rule
from bot.recurrence import (
    anchored,
    daily,
    local_dates,
    monthly_nth,
    monthly_on,
    occurrences,
    until_date,
    weekly,
)
from bot.requests import CreateMeeting, CreateSeries, GrammarError
from bot.timeparse import make_ctx
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change, next_weekday, today

SYDNEY = ZoneInfo("Australia/Sydney")
ZONES = [BERLIN, NEW_YORK, SYDNEY]
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
FAR = today() + timedelta(days=400)  # an end date well ahead, whenever the suite runs
FAR_RRULE = f"{FAR:%Y%m%d}T235959"
CTX = make_ctx(datetime.now(UTC), BERLIN)


def dates(rule: Rule, tz: ZoneInfo, after: datetime, count: int) -> list[date]:
    return [day for day, _ in islice(occurrences(rule, tz, after), count)]


def made(rule: Rule, tz: ZoneInfo, on: date) -> Rule:
    """The rule as a series created at noon on `on` keeps it."""
    return anchored(rule, at(on, 12, 0, tz), tz)


# ---- reading -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rrule", "hm"),
    [
        ("weekday at 9:30", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", (9, 30)),
        ("day at 8:00", "FREQ=DAILY", (8, 0)),
        ("mon,wed,fri at 10:00", "FREQ=WEEKLY;BYDAY=MO,WE,FR", (10, 0)),
        ("other week on tue at 10:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", (10, 0)),
        ("2 weeks on tuesday at 10", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", (10, 0)),
        ("other tue at 4pm", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", (16, 0)),
        ("fortnight on mon and thu at 9:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH", (9, 0)),
        ("3 weeks on fri at 9:00", "FREQ=WEEKLY;INTERVAL=3;BYDAY=FR", (9, 0)),
        ("other day at 7:00", "FREQ=DAILY;INTERVAL=2", (7, 0)),
        ("month on the 15th at 10:00", "FREQ=MONTHLY;BYMONTHDAY=15", (10, 0)),
        ("month on the 31st at 10:00", "FREQ=MONTHLY;BYSETPOS=-1;BYMONTHDAY=28,29,30,31", (10, 0)),
        ("month on the last day at 17:00", "FREQ=MONTHLY;BYMONTHDAY=-1", (17, 0)),
        ("other month on the 1st at 9:00", "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1", (9, 0)),
        ("first monday at 17:00", "FREQ=MONTHLY;BYDAY=+1MO", (17, 0)),
        ("last friday at 16:00", "FREQ=MONTHLY;BYDAY=-1FR", (16, 0)),
        ("2nd tue of the month at 10:00", "FREQ=MONTHLY;BYDAY=+2TU", (10, 0)),
        ("month on the first monday at 9:00", "FREQ=MONTHLY;BYDAY=+1MO", (9, 0)),
        ("weekday at 9:30 for 10 times", "FREQ=WEEKLY;COUNT=10;BYDAY=MO,TU,WE,TH,FR", (9, 30)),
        (f"day at 8:00 until {FAR.isoformat()}", f"FREQ=DAILY;UNTIL={FAR_RRULE}", (8, 0)),
    ],
)
def test_rule_forms_read_as_rrules_from_slack_and_discord_alike(
    text: str, rrule: str, hm: tuple[int, int]
) -> None:
    got = parse(f"Sync every {text}", now=datetime.now(UTC), tz=BERLIN)
    assert isinstance(got, CreateSeries)
    assert (got.rule.rrule, got.rule.hour, got.rule.minute) == (rrule, *hm)
    assert parse_rule(text) == got.rule == parse_rule(f"every {text}")


def test_relative_ends_wait_for_the_first_meeting() -> None:
    until = parse_rule("first monday at 17:00 until jun 30")
    lasts = parse_rule("other week on tue at 10:00 for 6 weeks")
    assert until.until_day == (6, 30) and "UNTIL" not in until.parts
    assert lasts.lasts == (6, "weeks")


def test_a_length_and_an_end_are_both_read_in_any_order() -> None:
    now = datetime.now(UTC)
    for text in (
        f"Standup every weekday at 9:30 for 15m until {FAR.isoformat()}",
        f"Standup every weekday at 9:30 until {FAR.isoformat()} for 15m",
    ):
        got = parse(text, now=now, tz=BERLIN)
        assert isinstance(got, CreateSeries) and got.duration == timedelta(minutes=15)
        assert got.rule.parts["UNTIL"] == FAR_RRULE
    both = parse("Standup every weekday at 9:30 for 15m for 10 times", now=now, tz=BERLIN)
    assert isinstance(both, CreateSeries) and both.rule.parts["COUNT"] == "10"
    assert both.duration == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Sync every fortnightly at 9:00", '"fortnightly"'),
        ("Sync every other week at 10:00", '"other week"'),
        ("Sync every 2nd tue at 10:00", '"every 2nd tue"'),
        ("Sync every month at 10:00", '"month"'),
        ("Sync every month on the 32nd at 10:00", '"32nd"'),
        ("Sync every weekday at 9:30 until soonish", '"soonish"'),
        ("Sync every weekday at 9:30 until feb 30", '"feb 30"'),
        ("Sync every weekday at 9:30 for 0 times", '"for 0 times"'),
        ("Sync every weekday at 9:30 for 3 times until jun 30", '"until jun 30"'),
        ("Lunch for every team at noon", '"team"'),
        (f"Sync until {FAR.isoformat()} at 10:00", f'"until {FAR.isoformat()}"'),
    ],
)
def test_unreadable_rules_are_refused_by_name_with_an_example_that_works(
    text: str, named: str
) -> None:
    now = datetime.now(UTC)
    with pytest.raises(GrammarError) as caught:
        parse(text, now=now, tz=BERLIN)
    message = str(caught.value)
    assert named in message and message.count(" Try: ") == 1
    example = message.partition(" Try: ")[2]
    assert isinstance(parse(example, now=now, tz=BERLIN), CreateSeries)


@pytest.mark.parametrize("text", ["whenever", "2nd tue at 10:00", "weekday at 9:30 until soon"])
def test_discord_rule_option_refusals_carry_an_option_example(text: str) -> None:
    with pytest.raises(GrammarError) as caught:
        parse_rule(text)
    parse_rule(str(caught.value).partition(" Try: ")[2])  # the example reads as a rule


def test_every_in_a_title_with_no_time_stays_a_title() -> None:
    got = parse("Every little thing", now=datetime.now(UTC), tz=BERLIN)
    assert isinstance(got, CreateMeeting) and got.title == "Every little thing"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("weekday at 9:30", "every weekday at 09:30"),
        ("tue at 10:00", "every Tuesday at 10:00"),
        ("other week on tue at 10:00", "every other Tuesday at 10:00"),
        ("other week on mon,thu at 10:00", "every other week on Mon, Thu at 10:00"),
        ("3 weeks on fri at 9:00", "every 3 weeks on Friday at 09:00"),
        ("month on the 15th at 10:00", "every month on the 15th at 10:00"),
        ("month on the 31st at 10:00", "every month on the 31st (the last day in shorter months)"),
        ("first monday at 17:00", "every first Monday of the month at 17:00"),
        ("last friday at 16:00", "every last Friday of the month at 16:00"),
        ("other month on the 22nd at 9:00", "every other month on the 22nd at 09:00"),
    ],
)
def test_rules_are_said_back_in_words(text: str, said: str) -> None:
    assert rules.describe(parse_rule(text)).startswith(said)


# ---- DST: every kind, both directions, three zones -------------------------------------------


def odd_wall_time(day: date, tz: ZoneInfo, forward: bool) -> time:
    """A wall time on `day` that the clock change skips (forward) or repeats (back)."""
    for hour in range(24):
        wall = datetime.combine(day, time(hour, 30), tzinfo=tz)
        missing = wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall.replace(
            tzinfo=None
        )
        repeated = wall.replace(fold=1).utcoffset() != wall.utcoffset()
        if (missing and forward) or (repeated and not forward):
            return time(hour, 30)
    raise AssertionError(f"{tz.key} changes no clock on {day}")


def change_instant(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant of the clock change on `day` (they happen on quarter hours)."""
    moment = at(day, 0, 0, tz)
    offset = moment.astimezone(tz).utcoffset()
    while moment.astimezone(tz).utcoffset() == offset:
        moment += timedelta(minutes=15)
    return moment


def kinds(day: date, clock: time) -> dict[str, Rule]:
    """A rule of every kind with an occurrence on `day` (a Sunday) at `clock`."""
    nth = -1 if (day + WEEK).month != day.month else (day.day - 1) // 7 + 1
    h, m = clock.hour, clock.minute
    return {
        "every other week": weekly({day.weekday()}, h, m, interval=2),
        "monthly by date": monthly_on(day.day, h, m),
        "monthly by weekday": monthly_nth(nth, day.weekday(), h, m),
        "every 3 days, 5 times": rules.with_end(
            daily(h, m, interval=3), rules.End("for 5 times", count=5), CTX
        ),
    }


@pytest.mark.parametrize("tz", ZONES, ids=lambda tz: tz.key)
@pytest.mark.parametrize("forward", [True, False], ids=["spring-forward", "fall-back"])
def test_every_rule_kind_holds_its_wall_time_across_dst(tz: ZoneInfo, forward: bool) -> None:
    change = next_clock_change(tz, forward=forward)
    clock = odd_wall_time(change, tz, forward)
    expected = (
        change_instant(change, tz)  # a missing time: the first minute after the gap
        if forward
        else datetime.combine(change, clock, tzinfo=tz).astimezone(UTC)  # first of two
    )
    for name, rule in kinds(change, clock).items():
        first = {"every 3 days, 5 times": change - 6 * DAY}.get(name, change - 70 * DAY)
        series = made(rule, tz, first - DAY)
        found = [
            (day, start)
            for day, start in islice(occurrences(series, tz, at(first - DAY, 0, 0, tz)), 40)
            if day <= change + 20 * DAY  # before the next change of clocks
        ]
        on_change = [start for day, start in found if day == change]
        assert on_change == [expected], (name, tz.key)
        others = [start.astimezone(tz) for day, start in found if day != change]
        assert others and {(s.hour, s.minute) for s in others} == {(clock.hour, clock.minute)}
        assert len({start for _, start in found}) == len(found)  # nothing twice


@pytest.mark.parametrize("tz", ZONES, ids=lambda tz: tz.key)
def test_southern_and_northern_summers_keep_the_local_minute_all_year(tz: ZoneInfo) -> None:
    rule = made(monthly_nth(-1, 4, 16, 0), tz, today(tz))  # every last Friday at 16:00
    found = islice(occurrences(rule, tz, at(today(tz), 0, 0, tz)), 13)
    starts = [start.astimezone(tz) for _, start in found]
    assert len({s.utcoffset() for s in starts}) == 2  # the year crosses both seasons
    for start in starts:
        last = calendar.monthrange(start.year, start.month)[1]
        assert start.weekday() == 4 and start.day > last - 7
        assert (start.hour, start.minute) == (16, 0)


# ---- month ends ---------------------------------------------------------------------------


@pytest.mark.parametrize("monthday", [29, 30, 31])
def test_a_late_day_of_the_month_moves_to_the_last_day_of_shorter_months(monthday: int) -> None:
    start = today(BERLIN).replace(day=1)
    rule = made(monthly_on(monthday, 10, 0), BERLIN, start)
    got = dates(rule, BERLIN, at(start, 0, 0, BERLIN), 60)  # five years: leap and plain Febs
    expected = []
    for n in range(60):
        month = start + relativedelta(months=n)
        last = calendar.monthrange(month.year, month.month)[1]
        expected.append(month.replace(day=min(monthday, last)))
    assert got == expected
    febs = {d.day for d in got if d.month == 2}
    assert febs == ({28, 29} if monthday > 28 else {monthday})


def test_until_feb_29_is_the_next_leap_day() -> None:
    rule = made(replace(weekly({0, 1, 2, 3, 4}, 9, 0), until_day=(2, 29)), BERLIN, today())
    until = until_date(rule)
    assert until is not None and until >= today() and calendar.isleap(until.year)
    assert (until.month, until.day) == (2, 29)
    assert until - today() < timedelta(days=4 * 366 + 366)  # the next one, not a later one


# ---- intervals count from the first meeting -------------------------------------------------


@pytest.mark.parametrize("created_on", range(7))
def test_every_other_week_starts_on_the_coming_day_and_then_skips_a_week(created_on: int) -> None:
    monday = next_weekday(0, BERLIN)
    made_on = monday + timedelta(days=created_on)
    rule = made(parse_rule("other week on tue at 10:00"), BERLIN, made_on)  # at noon
    coming_tuesday = next_weekday(1, after=made_on)
    assert rule.anchor == coming_tuesday
    got = dates(rule, BERLIN, at(made_on, 12, 0, BERLIN), 6)
    assert got == [coming_tuesday + 2 * n * WEEK for n in range(6)]


def test_two_days_every_other_week_keep_their_weeks_together() -> None:
    wednesday = next_weekday(2, BERLIN)
    rule = made(parse_rule("other week on mon,thu at 10:00"), BERLIN, wednesday)
    got = dates(rule, BERLIN, at(wednesday, 12, 0, BERLIN), 5)
    thursday = wednesday + DAY
    assert got == [thursday, thursday + 11 * DAY, thursday + 14 * DAY, thursday + 25 * DAY,
                   thursday + 28 * DAY]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["other week on tue at 10:00", "3 weeks on mon,fri at 9:00", "other day at 7:00",
     "3 days at 7:00", "other month on the 31st at 9:00", "3 months on the last fri at 9:00",
     "weekday at 9:30", "month on the 15th at 10:00"],
)  # fmt: skip
def test_dates_years_ahead_match_walking_from_the_anchor(text: str) -> None:
    rule = made(parse_rule(text), BERLIN, today(BERLIN))
    assert rule.anchor is not None
    walked = list(islice(rules_from_anchor(rule), 2000))
    for years in (1, 3, 7):
        since = rule.anchor + relativedelta(years=years, days=years * 5)
        expected = [d for d in walked if d >= since][:6]
        assert len(expected) == 6
        assert list(islice(local_dates(rule, since), 6)) == expected


def rules_from_anchor(rule: Rule) -> list[date]:
    """Every date from the anchor, dateutil's own walk with no shortcut."""
    assert rule.anchor is not None
    start = datetime.combine(rule.anchor, time(rule.hour, rule.minute))
    return [d.date() for d in islice(rrulestr(rule.rrule, dtstart=start), 2000)]


# ---- until and count --------------------------------------------------------------------------


def test_count_holds_exactly_n_meetings_and_a_skip_uses_one() -> None:
    rule = made(parse_rule("weekday at 9:30 for 10 times"), BERLIN, today(BERLIN))
    start = at(today(BERLIN), 12, 0, BERLIN)
    got = dates(rule, BERLIN, start, 100)
    assert len(got) == 10 and got[0] == rule.anchor and all(d.weekday() < 5 for d in got)
    skipped = frozenset({got[3].isoformat()})
    assert [d for d, _ in occurrences(rule, BERLIN, start, skipped)] == got[:3] + got[4:]
    after_last = at(got[-1], 9, 31, BERLIN)
    assert list(occurrences(rule, BERLIN, after_last)) == []


def test_until_is_inclusive_and_nothing_comes_after() -> None:
    first = next_weekday(1, BERLIN)
    last = first + 6 * WEEK
    rule = made(parse_rule(f"other week on tue at 10:00 until {last.isoformat()}"), BERLIN,
                first - DAY)  # fmt: skip
    got = dates(rule, BERLIN, at(first - DAY, 12, 0, BERLIN), 50)
    assert got == [first, first + 2 * WEEK, first + 4 * WEEK, last]


@pytest.mark.parametrize(
    ("text", "meetings"),
    [("other week on tue at 10:00 for 6 weeks", 3), ("month on the 15th at 10:00 for 3 months", 3),
     ("weekday at 9:30 for 2 weeks", 10)],
)  # fmt: skip
def test_for_weeks_or_months_counts_from_the_first_meeting(text: str, meetings: int) -> None:
    rule = made(parse_rule(text), BERLIN, today(BERLIN))
    got = dates(rule, BERLIN, at(today(BERLIN), 12, 0, BERLIN), 100)
    assert len(got) == meetings and got[0] == rule.anchor


def test_an_until_before_the_first_meeting_holds_none() -> None:
    yesterday = today(BERLIN) - DAY
    rule = made(parse_rule(f"weekday at 9:30 until {yesterday.isoformat()}"), BERLIN, today(BERLIN))
    assert list(occurrences(rule, BERLIN, at(today(BERLIN), 0, 0, BERLIN))) == []
