"""Properties of the `/meet` grammar over generated input: whatever a user types, the
answer is a request or a readable GrammarError, and times and lengths come back as typed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.grammar import (
    parse,
    parse_day,
    parse_duration,
    parse_remind,
    parse_rule,
    parse_slot,
    parse_when,
)
from bot.requests import CreateMeeting, CreateSeries, GrammarError, Request
from bot.timefmt import phrase, when
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change, next_monday_at

FEW = settings(max_examples=300, deadline=None)
# Every `now` is drawn around a reference built from today: decades back, decades ahead,
# and the hours around coming clock changes in Berlin and New York (near and far).
REFERENCE = next_monday_at(9, tz=BERLIN)
EARLIEST = REFERENCE - timedelta(days=25 * 365)
LATEST = REFERENCE + timedelta(days=65 * 365)
SOON = REFERENCE.date() + timedelta(days=60)


def _clock_changes() -> list[date]:
    """Spring-forward and fall-back days in Berlin and New York: the next three of each,
    and the next after 12 and 40 years."""
    days = set()
    for tz in (BERLIN, NEW_YORK):
        for forward in (True, False):
            day = None
            for _ in range(3):
                day = next_clock_change(tz, forward=forward, after=day)
                days.add(day)
            for years in (12, 40):
                after = REFERENCE.date() + timedelta(days=years * 365)
                days.add(next_clock_change(tz, forward=forward, after=after))
    return sorted(days)


CLOCK_CHANGES = _clock_changes()
BERLIN_SPRING = next_clock_change(BERLIN, forward=True)
BERLIN_FALL = next_clock_change(BERLIN, forward=False)
NY_SPRING = next_clock_change(NEW_YORK, forward=True)

TOKENS = [
    "/meet", "at", "in", "on", "for", "remind", "with", "every", "tomorrow", "today", "noon",
    "midnight", "nofeedback", "list", "end", "cancel", "host", "feedback", "skip", "pause",
    "resume", "tz", "config", "provider", "reminder", "length", "schedule", "help", "and",
    "mon", "Monday", "weekday", "day", "weekend", "mon,wed,fri", ",", "15:00", "9:30", "25:00",
    "3pm", "3", "pm", "12am", "13pm", "0", "none", "20m", "1h30", "1h", "30m", "1.5h", "90",
    "minutes", "hours", "parsecs", "45", f"{SOON}", f"{SOON.year}-02-30", "1999-01-01",
    "9999-12-31", "0001-01-01", f"{SOON.year}-13-01", f"{CLOCK_CHANGES[0]}",
    f"{CLOCK_CHANGES[1]}", "2:30", "1:30", "@sam", "<@U123ABC>", "<@U1|alex>", "<@!42>",
    "<@&7>", "<!here>", '"', "“", "”", "'", "Europe/Berlin", "Mars/Base", "../x", "Retro",
    "Lunch", "the", "park", "999999h", "99999999999m", "1e9h", "٣pm", "²:00", "",
    "dec", "3rd", "december", "of", "3pm-4pm", "15:00–16:30", "15:00-25:00", "-", "–", "to",
    "from", "until", "this", "next", "friday", "week", "tonight", "morning", "15h", "9h",
    "15h30", "@", "@3pm", "EST", "CET", "IST", "BST", "UTC+2", "utc-14:30", "America/New_York",
    "(UTC)", "13/12", "12/01", "31/02", "each", "weekly", "mondays", "by", "around", "now",
    "3pm,", "9am.", "the", "day", "after", "half", "an", "hour", "one", "2", "days", "1530",
]  # fmt: skip
grammarish = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=12).map(" ".join)
SYDNEY = ZoneInfo("Australia/Sydney")
zones = st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("Asia/Kathmandu"), ZoneInfo("UTC")])
# Zones with lettered and numeric abbreviations, half-hour DST (Lord Howe), DST in the
# southern summer (Sydney, Santiago) and none at all.
SHOWN_ZONES = [BERLIN, NEW_YORK, SYDNEY, ZoneInfo("America/Santiago"), ZoneInfo("UTC"),
               ZoneInfo("Australia/Lord_Howe"), ZoneInfo("Asia/Kathmandu"),
               ZoneInfo("Europe/Dublin")]  # fmt: skip
any_instant = st.datetimes(
    min_value=EARLIEST.replace(tzinfo=None),
    max_value=LATEST.replace(tzinfo=None),
    timezones=st.just(UTC),
)
near_clock_changes = st.builds(
    lambda day, minutes: at(day, 0, 0) + timedelta(minutes=minutes),
    st.sampled_from(CLOCK_CHANGES),
    st.integers(-24 * 60, 48 * 60),
)
instants = any_instant | near_clock_changes
days = st.dates(min_value=EARLIEST.date(), max_value=LATEST.date()) | st.sampled_from(CLOCK_CHANGES)
MIDNIGHT = at(REFERENCE.date(), 0, 0, BERLIN)  # for the fixed examples below


def first_reading(day: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    """Independently of the grammar: the first instant at which a wall clock in `tz`
    reads `day` hour:minute or later. A repeated time (fall back) is its first
    occurrence; a skipped one (spring forward) is the end of the gap."""
    wanted = datetime.combine(day, time(hour, minute))
    moment = wanted.replace(tzinfo=UTC) - timedelta(hours=14)  # before it anywhere
    while moment.astimezone(tz).replace(tzinfo=None) < wanted:
        moment += timedelta(minutes=1)
    return moment


def exists(day: date, hour: int, minute: int, tz: ZoneInfo) -> bool:
    wall = datetime.combine(day, time(hour, minute), tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == wall.replace(tzinfo=None)


def _contract(text: str, now: datetime, tz: ZoneInfo) -> Request | None:
    """Either a request, or a GrammarError whose suggestion itself parses."""
    try:
        return parse(text, now=now, tz=tz)
    except GrammarError as exc:
        message = str(exc)
        assert " Try: /meet" in message, message
        assert message.count("\n") == 0
        parse(message.partition(" Try: ")[2], now=now, tz=tz)
        return None


@FEW
@given(st.text(), instants, zones)
@example("\x00", MIDNIGHT, BERLIN)
@example("Retro at ٣:٠٠", MIDNIGHT, BERLIN)
def test_any_text_gives_a_request_or_a_grammar_error(
    text: str, now: datetime, tz: ZoneInfo
) -> None:
    _contract(text, now, tz)


@FEW
@given(grammarish, instants, zones)
@example("remind", at(REFERENCE.date(), 16, 0, BERLIN), BERLIN)  # found by this test
def test_grammar_like_text_gives_a_request_or_a_grammar_error(
    text: str, now: datetime, tz: ZoneInfo
) -> None:
    result = _contract(text, now, tz)
    if isinstance(result, CreateMeeting) and result.start is not None:
        assert result.start.utcoffset() == timedelta(0)
        assert result.start >= now - timedelta(minutes=1)
    if isinstance(result, CreateMeeting | CreateSeries) and result.duration is not None:
        assert timedelta(0) < result.duration <= timedelta(hours=24)


@FEW
@given(grammarish | st.text(), instants, zones)
def test_option_readers_only_raise_grammar_errors(text: str, now: datetime, tz: ZoneInfo) -> None:
    for read in (
        lambda: parse_when(text, now=now, tz=tz),
        lambda: parse_slot(text, now=now, tz=tz),
        lambda: parse_day(text, now=now, tz=tz),
        lambda: parse_duration(text),
        lambda: parse_remind(text),
        lambda: parse_rule(text),
    ):
        try:
            read()
        except GrammarError as exc:
            assert " Try: " in str(exc)


@FEW
@given(st.integers(0, 23), st.integers(0, 59), st.integers(1, 24 * 60), days)
@example(2, 30, 15, BERLIN_SPRING)  # skipped: 03:00 CEST
@example(2, 30, 15, BERLIN_FALL)  # repeated: the first, CEST
def test_time_and_length_round_trip(hour: int, minute: int, minutes: int, day: date) -> None:
    midnight = at(day, 0, 0, BERLIN)  # so every HH:MM "today" is still ahead
    got = parse(f"X at {hour}:{minute:02d} for {minutes}m", now=midnight, tz=BERLIN)
    assert isinstance(got, CreateMeeting)
    assert got.title == "X"
    assert got.start is not None
    assert got.start == first_reading(day, hour, minute, BERLIN)
    wall = got.start.astimezone(BERLIN)
    if exists(day, hour, minute, BERLIN):
        assert (wall.date(), wall.hour, wall.minute) == (day, hour, minute)
    assert got.duration == timedelta(minutes=minutes)


@FEW
@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]), days)
@example(2, 30, "am", NY_SPRING)  # skipped: 03:00 EDT
def test_twelve_hour_clock_round_trip(hour: int, minute: int, meridiem: str, day: date) -> None:
    midnight = at(day, 0, 0, BERLIN)  # the evening before in New York
    got = parse(f"X tomorrow {hour}:{minute:02d}{meridiem}", now=midnight, tz=NEW_YORK)
    assert isinstance(got, CreateMeeting) and got.start is not None
    hour24 = hour % 12 + (12 if meridiem == "pm" else 0)
    tomorrow = midnight.astimezone(NEW_YORK).date() + timedelta(days=1)
    assert tomorrow == day
    assert got.start == first_reading(tomorrow, hour24, minute, NEW_YORK)
    wall = got.start.astimezone(NEW_YORK)
    if exists(tomorrow, hour24, minute, NEW_YORK):
        assert (wall.hour, wall.minute) == (hour24, minute)


@FEW
@given(st.integers(0, 24), st.integers(0, 59), st.sampled_from(["{h}h{m}", "{h}h {m}m"]))
def test_hours_and_minutes_lengths_add_up(hours: int, minutes: int, shape: str) -> None:
    total = timedelta(hours=hours, minutes=minutes)
    text = shape.format(h=hours, m=minutes)
    if timedelta(0) < total <= timedelta(hours=24):
        assert parse_duration(text) == total
    else:
        try:
            parse_duration(text)
        except GrammarError as exc:
            assert f'"{text}"' in str(exc)
        else:
            raise AssertionError(f"{text} should be refused")


@FEW
@given(st.integers(1, 48 * 60), instants, zones)
def test_in_minutes_is_now_plus_that(minutes: int, now: datetime, tz: ZoneInfo) -> None:
    got = parse(f"Sync in {minutes}m", now=now, tz=tz)
    assert isinstance(got, CreateMeeting)
    assert got.start == now + timedelta(minutes=minutes)


@FEW
@given(
    st.sets(st.integers(0, 6), min_size=1),
    st.integers(0, 23),
    st.integers(0, 59),
    instants,
)
def test_weekly_rule_round_trip(weekdays: set[int], hour: int, minute: int, now: datetime) -> None:
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    text = f"Standup every {','.join(names[d] for d in sorted(weekdays))} at {hour}:{minute:02d}"
    got = parse(text, now=now, tz=BERLIN)
    assert isinstance(got, CreateSeries)
    assert (got.rule.days, got.rule.hour, got.rule.minute) == (frozenset(weekdays), hour, minute)


# ---- a reading printed back reads the same ---------------------------------------------


def _changes(tz: ZoneInfo) -> list[date]:
    days = []
    for forward in (True, False):
        day = None
        for _ in range(2):
            day = next_clock_change(tz, forward=forward, after=day)
            days.append(day)
    return days


CHANGE_NIGHTS = sorted({d for tz in (BERLIN, NEW_YORK, SYDNEY) for d in _changes(tz)})
# Minute-aligned instants over the next two years, and every minute of the nights around
# the coming clock changes in Berlin, New York and Sydney (both sides of the date line).
future_minutes = st.integers(1, 2 * 366 * 24 * 60).map(
    lambda m: REFERENCE.replace(second=0, microsecond=0) + timedelta(minutes=m)
)
change_minutes = st.builds(
    lambda day, m: at(day, 0, 0) + timedelta(minutes=m),
    st.sampled_from(CHANGE_NIGHTS),
    st.integers(-30 * 60, 30 * 60),
)
meeting_starts = future_minutes | change_minutes
leads = st.integers(1, 300 * 24 * 60).map(lambda m: timedelta(minutes=m))
lengths = st.integers(1, 24 * 60).map(lambda m: timedelta(minutes=m))


@FEW
@given(meeting_starts, leads, lengths, st.sampled_from(SHOWN_ZONES))
@example(at(BERLIN_FALL, 0, 30), timedelta(days=2), timedelta(minutes=30), BERLIN)  # 1st 02:30
@example(at(BERLIN_FALL, 1, 30), timedelta(days=2), timedelta(minutes=30), BERLIN)  # 2nd 02:30
def test_an_instant_printed_as_words_reads_back_as_itself(
    start: datetime, lead: timedelta, length: timedelta, tz: ZoneInfo
) -> None:
    """Every instant can be asked for, the second 02:30 of a fall-back night included."""
    words = phrase(start, start + length, tz)
    got = parse(f"Retro {words}", now=start - lead, tz=tz)
    assert isinstance(got, CreateMeeting), words
    assert (got.title, got.start, got.duration) == ("Retro", start, length), words


FORMS = [
    "at {h}:{m:02d}", "at {h12}:{m:02d}{ap}", "{h}:{m:02d}-{eh}:{em:02d}",
    "from {h12}:{m:02d} {ap} to {eh}:{em:02d}", "at {h}:{m:02d} for {minutes}m",
    "{h}h{m:02d}", "at {h}:{m:02d} UTC+{off}", "at {h}:{m:02d} America/New_York",
]  # fmt: skip
DAYS = ["on {day:%d %b}", "on {day:%B} {day.day}", "{day:%a} {day:%d} {day:%b}", "{iso}",
        "on the {day.day}th of {day:%B} {day.year}"]  # fmt: skip


@FEW
@given(
    st.sampled_from(FORMS),
    st.sampled_from(DAYS),
    st.integers(1, 330),
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(1, 12 * 60),
    st.integers(0, 9),
    st.sampled_from(SHOWN_ZONES),
)
def test_a_reading_printed_back_and_read_again_is_the_same_meeting(
    form: str,
    day_form: str,
    ahead: int,
    hour: int,
    minute: int,
    minutes: int,
    off: int,
    tz: ZoneInfo,
) -> None:
    now = REFERENCE
    day = now.astimezone(tz).date() + timedelta(days=ahead)
    end = datetime.combine(day, time(hour, minute)) + timedelta(minutes=minutes)
    fields = {
        "h": hour, "m": minute, "h12": hour % 12 or 12, "ap": "pm" if hour >= 12 else "am",
        "eh": end.hour, "em": end.minute, "minutes": minutes, "off": off,
    }  # fmt: skip
    text = f"X {day_form.format(day=day, iso=day.isoformat())} {form.format(**fields)}"
    try:
        first = parse(text, now=now, tz=tz)
    except GrammarError as exc:  # e.g. a range past midnight longer than 12 hours
        assert " Try: " in str(exc)
        return
    assert isinstance(first, CreateMeeting) and first.start is not None, text
    length = first.duration or timedelta(minutes=30)
    again = parse(f"X {phrase(first.start, first.start + length, tz)}", now=now, tz=tz)
    assert isinstance(again, CreateMeeting)
    assert (again.start, again.duration or length) == (first.start, length), text
    shown = when(first.start, first.start + length, tz)
    assert shown.endswith(tz.key) and "–" in shown
