"""Properties of the `/meet` grammar over generated input: whatever a user types, the
answer is a request or a readable GrammarError, and times and lengths come back as typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.grammar import parse, parse_day, parse_duration, parse_remind, parse_rule, parse_when
from bot.requests import CreateMeeting, CreateSeries, GrammarError, Request

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# 00:00 on Thursday 2026-06-11 in Berlin, so every HH:MM "today" is still ahead.
MIDNIGHT = datetime(2026, 6, 10, 22, 0, tzinfo=UTC)
FEW = settings(max_examples=300, deadline=None)

TOKENS = [
    "/meet", "at", "in", "on", "for", "remind", "with", "every", "tomorrow", "today", "noon",
    "midnight", "nofeedback", "list", "end", "cancel", "host", "feedback", "skip", "pause",
    "resume", "tz", "config", "provider", "reminder", "length", "schedule", "help", "and",
    "mon", "Monday", "weekday", "day", "weekend", "mon,wed,fri", ",", "15:00", "9:30", "25:00",
    "3pm", "3", "pm", "12am", "13pm", "0", "none", "20m", "1h30", "1h", "30m", "1.5h", "90",
    "minutes", "hours", "parsecs", "45", "2026-12-01", "2026-02-30", "1999-01-01",
    "9999-12-31", "0001-01-01", "2026-13-01", "@sam", "<@U123ABC>", "<@U1|alex>", "<@!42>",
    "<@&7>", "<!here>", '"', "“", "”", "'", "Europe/Berlin", "Mars/Base", "../x", "Retro",
    "Lunch", "the", "park", "999999h", "99999999999m", "1e9h", "٣pm", "²:00", "",
]  # fmt: skip
grammarish = st.lists(st.sampled_from(TOKENS) | st.text(max_size=8), max_size=12).map(" ".join)
zones = st.sampled_from([BERLIN, NEW_YORK, ZoneInfo("Asia/Kathmandu"), ZoneInfo("UTC")])
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)


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
@given(st.integers(0, 23), st.integers(0, 59), st.integers(1, 24 * 60))
def test_time_and_length_round_trip(hour: int, minute: int, minutes: int) -> None:
    got = parse(f"X at {hour}:{minute:02d} for {minutes}m", now=MIDNIGHT, tz=BERLIN)
    assert isinstance(got, CreateMeeting)
    assert got.title == "X"
    assert got.start is not None
    wall = got.start.astimezone(BERLIN)
    assert (wall.date().isoformat(), wall.hour, wall.minute) == ("2026-06-11", hour, minute)
    assert got.duration == timedelta(minutes=minutes)


@FEW
@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]))
def test_twelve_hour_clock_round_trip(hour: int, minute: int, meridiem: str) -> None:
    got = parse(f"X tomorrow {hour}:{minute:02d}{meridiem}", now=MIDNIGHT, tz=NEW_YORK)
    assert isinstance(got, CreateMeeting) and got.start is not None
    wall = got.start.astimezone(NEW_YORK)
    assert (wall.hour, wall.minute) == (hour % 12 + (12 if meridiem == "pm" else 0), minute)


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
)
def test_weekly_rule_round_trip(days: set[int], hour: int, minute: int) -> None:
    names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    text = f"Standup every {','.join(names[d] for d in sorted(days))} at {hour}:{minute:02d}"
    got = parse(text, now=MIDNIGHT, tz=BERLIN)
    assert isinstance(got, CreateSeries)
    assert (got.rule.days, got.rule.hour, got.rule.minute) == (frozenset(days), hour, minute)
