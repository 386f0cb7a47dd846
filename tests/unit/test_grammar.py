"""The `/meet` grammar as a user meets it: what each command creates, and what it says
when it cannot read something."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import timefmt
from bot.grammar import (
    parse,
    parse_day,
    parse_duration,
    parse_remind,
    parse_rule,
    parse_slot,
    parse_when,
)
from bot.models import Rule
from bot.requests import (
    CancelMeeting,
    Configure,
    CreateMeeting,
    CreateSeries,
    EndMeeting,
    FeedbackSummary,
    GrammarError,
    Help,
    ListMeetings,
    OpenScheduleForm,
    PauseSeries,
    Request,
    ResendHost,
    ResumeSeries,
    SetTimezone,
    SkipOccurrence,
)
from bot.rules import weekly
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change, next_weekday, today

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = timedelta(days=1)
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = frozenset(range(5))


def next_on(month: int, day: int) -> date:
    """The next `month`-`day` after today: a year end or a month end still to come."""
    start = today(BERLIN)
    this_year = date(start.year, month, day)
    return this_year if this_year > start else date(start.year + 1, month, day)


def next_month_ending_sunday() -> date:
    """The next Sunday that is the last day of its month."""
    day = today(BERLIN) + DAY
    while day.weekday() != 6 or (day + DAY).day != 1:
        day += DAY
    return day


# Next Wednesday, 10:00 in Berlin (08:00 or 09:00 UTC), 04:00 or 05:00 in New York.
WED = next_weekday(2, BERLIN)
NOW = at(WED, 10, 0, BERLIN)
YESTERDAY, THU, FRI, MON, NEXT_WED = (WED + n * DAY for n in (-1, 1, 2, 5, 7))
FUTURE = WED + 174 * DAY  # a date months ahead, written out in full
PAST = WED - 191 * DAY  # a date months ago
LONG_AGO = date(WED.year - 6, 1, 1)
YEAR = FUTURE.year  # for dates that do not exist in any year
# The next clock changes from today (each a Sunday).
BERLIN_SPRING = next_clock_change(BERLIN, forward=True)  # 02:00 CET -> 03:00 CEST, 01:00 UTC
BERLIN_FALL = next_clock_change(BERLIN, forward=False)  # 03:00 CEST -> 02:00 CET, 01:00 UTC
NY_SPRING = next_clock_change(NEW_YORK, forward=True)  # 02:00 EST -> 03:00 EDT, 07:00 UTC
NY_FALL = next_clock_change(NEW_YORK, forward=False)  # 02:00 EDT -> 01:00 EST, 06:00 UTC
NEW_YEARS_EVE = next_on(12, 31)
NEW_YEAR = NEW_YEARS_EVE + DAY


def p(text: str, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> Request:
    return parse(text, now=now, tz=tz)


def meeting(text: str, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> CreateMeeting:
    request = p(text, now, tz)
    assert isinstance(request, CreateMeeting), request
    return request


def series(text: str) -> CreateSeries:
    request = p(text)
    assert isinstance(request, CreateSeries), request
    return request


def local(day: date, h: int, mi: int, tz: ZoneInfo = BERLIN) -> datetime:
    return at(day, h, mi, tz)


def error(text: str, now: datetime = NOW, tz: ZoneInfo = BERLIN) -> str:
    """The message a user sees, checked to be one sentence plus a working example."""
    with pytest.raises(GrammarError) as caught:
        parse(text, now=now, tz=tz)
    message = str(caught.value)
    sentence, _, example = message.partition(" Try: ")
    assert sentence.endswith("."), message
    assert example.startswith("/meet"), message
    parse(example, now=now, tz=tz)  # the suggestion itself must work
    return message


# ---- instant meetings and titles ---------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "/meet", "/MEET", "/meet   "])
def test_empty_command_is_an_instant_untitled_meeting(text: str) -> None:
    assert p(text) == CreateMeeting()


def test_free_title_makes_an_instant_meeting() -> None:
    assert p("/meet Design review") == CreateMeeting(title="Design review")


def test_title_spacing_is_tidied() -> None:
    assert meeting("  Design    review  ").title == "Design review"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ('"list"', "list"),
        ('"Retro at 25:00"', "Retro at 25:00"),
        ("“Design review”", "Design review"),
        ("„Planung“", "Planung"),
        ('""', ""),
    ],
)
def test_quoted_titles_are_taken_literally(text: str, title: str) -> None:
    assert p(text) == CreateMeeting(title=title)


def test_quoted_title_with_clauses_after_it() -> None:
    got = meeting('"end of year" tomorrow 9am for 1h')
    assert got.title == "end of year"
    assert got.start == local(THU, 9, 0)
    assert got.duration == timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Lunch in the park", "Lunch in the park"),
        ("Catch up on roadmap", "Catch up on roadmap"),
        ("Coffee with Bob", "Coffee with Bob"),
        ("Plan for launch", "Plan for launch"),
        ("Plan for Q3", "Plan for Q3"),
        ("Remind team about OKRs", "Remind team about OKRs"),
        ("Monday planning", "Monday planning"),
        ("Format within teams", "Format within teams"),
        ("Every little thing", "Every little thing"),
        ("Sprint 42 demo", "Sprint 42 demo"),
        ("Bob's 1:1", "Bob's 1:1"),
        ("Skip the line", "Skip the line"),
        ("List of ideas", "List of ideas"),
        ("Config review meeting", "Config review meeting"),
    ],
)
def test_keyword_like_words_stay_in_the_title(text: str, title: str) -> None:
    assert p(text) == CreateMeeting(title=title)


def test_title_with_keywords_before_a_real_time() -> None:
    got = meeting("Lunch in the park at 12:30 for 1h")
    assert (got.title, got.start) == ("Lunch in the park", local(WED, 12, 30))
    assert meeting("Catch up on roadmap tomorrow 9am").title == "Catch up on roadmap"


def test_meeting_without_title_but_with_a_time() -> None:
    assert p("at 15:00") == CreateMeeting(start=local(WED, 15, 0))


def test_keywords_are_case_insensitive() -> None:
    got = meeting("/MEET Retro AT 3PM FOR 45M REMIND 10M NOFEEDBACK")
    assert got == CreateMeeting(
        title="Retro",
        start=local(WED, 15, 0),
        duration=timedelta(minutes=45),
        remind=timedelta(minutes=10),
        feedback=False,
    )


# ---- start times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("at 15:00", local(WED, 15, 0)),
        ("at 3pm", local(WED, 15, 0)),
        ("at 3:30pm", local(WED, 15, 30)),
        ("at 3 pm", local(WED, 15, 0)),
        ("at 11am", local(WED, 11, 0)),
        ("at 12pm", local(WED, 12, 0)),
        ("at noon", local(WED, 12, 0)),
        ("noon", local(WED, 12, 0)),
        ("15:00", local(WED, 15, 0)),
        ("tomorrow 9am", local(THU, 9, 0)),
        ("tomorrow at 9am", local(THU, 9, 0)),
        ("Tomorrow 09:00", local(THU, 9, 0)),
        ("at 9am tomorrow", local(THU, 9, 0)),
        ("at 12am tomorrow", local(THU, 0, 0)),
        ("tomorrow midnight", local(THU, 0, 0)),
        ("today at 17:00", local(WED, 17, 0)),
        ("today 17:00", local(WED, 17, 0)),
        (f"{FUTURE} 14:00", local(FUTURE, 14, 0)),
        (f"{FUTURE} at 2pm", local(FUTURE, 14, 0)),
        (f"on {FUTURE} at 14:00", local(FUTURE, 14, 0)),
        (f"at 14:00 on {FUTURE}", local(FUTURE, 14, 0)),
        ("mon 10:30", local(MON, 10, 30)),
        ("monday at 10:30", local(MON, 10, 30)),
        ("on Friday at 9:00", local(FRI, 9, 0)),
        ("wed 10:30", local(WED, 10, 30)),
        ("wed 9:00", local(NEXT_WED, 9, 0)),
    ],
)
def test_start_time_forms(clause: str, expected: datetime) -> None:
    got = meeting(f"Design review {clause}")
    assert (got.title, got.start) == ("Design review", expected)


@pytest.mark.parametrize(
    ("clause", "offset"),
    [
        ("in 20m", timedelta(minutes=20)),
        ("in 2h", timedelta(hours=2)),
        ("in 1h30", timedelta(minutes=90)),
        ("in 90 minutes", timedelta(minutes=90)),
        ("in 36h", timedelta(hours=36)),
    ],
)
def test_relative_start_is_counted_from_now(clause: str, offset: timedelta) -> None:
    assert meeting(f"Sync {clause}").start == NOW + offset


def test_times_in_new_york_are_new_york_wall_clock() -> None:
    start = meeting("Sync at 9:00", tz=NEW_YORK).start
    assert start == local(WED, 9, 0, NEW_YORK)
    assert start - at(WED, 9, 0) in (timedelta(hours=4), timedelta(hours=5))  # EDT or EST


def test_start_is_aware_utc() -> None:
    start = meeting("Sync tomorrow 9am", tz=NEW_YORK).start
    assert start is not None and start.utcoffset() == timedelta(0)


def test_weekday_today_is_kept_while_the_time_is_ahead_and_rolls_a_week_after() -> None:
    monday_morning = local(MON, 10, 0)
    assert meeting("Sync mon 10:30", now=monday_morning).start == local(MON, 10, 30)
    monday_noon = local(MON, 12, 0)
    assert meeting("Sync mon 10:30", now=monday_noon).start == local(MON + 7 * DAY, 10, 30)


# ---- passed times --------------------------------------------------------------------------


def test_bare_time_that_has_passed_suggests_tomorrow() -> None:
    message = error("Retro at 9:00")
    assert "9:00 today has already passed" in message
    assert "tomorrow 9:00" in message


def test_passed_time_keeps_the_users_spelling_in_the_suggestion() -> None:
    assert "tomorrow 8am" in error("Retro at 8am")
    assert "already passed" in error("Retro today at 9:58")


def test_time_within_the_last_minute_is_still_accepted() -> None:
    just_after = NOW + timedelta(seconds=50)
    assert meeting("Retro at 10:00", now=just_after).start == NOW
    assert "already passed" in error("Retro at 10:00", now=NOW + timedelta(seconds=61))


@pytest.mark.parametrize("clause", [f"{YESTERDAY} 14:00", f"on {PAST} at 9:00"])
def test_explicit_past_date_is_refused(clause: str) -> None:
    message = error(f"Retro {clause}")
    assert "in the past" in message
    assert clause.removeprefix("on ").split()[0] in message


def test_date_later_today_is_fine_but_earlier_today_is_past() -> None:
    assert meeting(f"Retro {WED} 18:00").start == local(WED, 18, 0)
    assert "in the past" in error(f"Retro {WED} 08:00")


def test_far_future_date_is_refused() -> None:
    assert "10 years" in error("Retro 9999-12-31 23:59")
    assert "10 years" in error(f"Retro {WED + 11 * 366 * DAY} 09:00")


# ---- daylight saving -----------------------------------------------------------------------


def test_berlin_spring_forward_gap_moves_to_first_valid_minute() -> None:
    before = at(BERLIN_SPRING - DAY, 12, 0)  # the Saturday before, 13:00 CET
    got = meeting(f"Retro {BERLIN_SPRING} 02:30", now=before)
    assert got.start == at(BERLIN_SPRING, 1, 0)  # 03:00 CEST
    assert got.start.astimezone(BERLIN).strftime("%H:%M") == "03:00"
    assert meeting("Retro tomorrow 2:30", now=before).start == got.start


def test_berlin_fall_back_overlap_takes_the_first_occurrence() -> None:
    weeks_before = at(BERLIN_FALL - 30 * DAY, 12, 0)
    got = meeting(f"Retro {BERLIN_FALL} 02:30", now=weeks_before)
    assert got.start == at(BERLIN_FALL, 0, 30)  # still CEST, +02:00


def test_new_york_gap_and_overlap() -> None:
    before = at(NY_SPRING - 7 * DAY, 12, 0)
    gap = meeting(f"Retro {NY_SPRING} 02:30", now=before, tz=NEW_YORK)
    assert gap.start == at(NY_SPRING, 7, 0)  # 03:00 EDT
    weeks_before = at(NY_FALL - 30 * DAY, 12, 0)
    overlap = meeting(f"Retro {NY_FALL} 01:30", now=weeks_before, tz=NEW_YORK)
    assert overlap.start == at(NY_FALL, 5, 30)  # 01:30 EDT, the first


def test_weekly_time_across_a_dst_change_stays_on_the_wall_clock() -> None:
    saturday = at(BERLIN_SPRING - DAY, 12, 0)
    assert meeting("Retro mon 9:00", now=saturday).start == at(BERLIN_SPRING + DAY, 7, 0)


# ---- calendar rollovers --------------------------------------------------------------------


def test_tomorrow_on_new_years_eve_is_next_year() -> None:
    eve = local(NEW_YEARS_EVE, 18, 0)
    assert NEW_YEAR.year == NEW_YEARS_EVE.year + 1
    assert meeting("Retro tomorrow 9am", now=eve).start == local(NEW_YEAR, 9, 0)
    weekday = DAY_NAMES[NEW_YEAR.weekday()]  # the weekday of 1 January, e.g. "fri"
    assert meeting(f"Retro {weekday} 9:00", now=eve).start == local(NEW_YEAR, 9, 0)


def test_tomorrow_at_month_end() -> None:
    january_31 = next_on(1, 31)
    assert meeting("Retro tomorrow 9am", now=local(january_31, 12, 0)).start == local(
        date(january_31.year, 2, 1), 9, 0
    )


def test_monday_from_sunday_is_the_next_day_even_across_a_month() -> None:
    last_day = next_month_ending_sunday()
    sunday = local(last_day, 20, 0)
    assert meeting("Retro mon 9:00", now=sunday).start == local(last_day + DAY, 9, 0)


def test_tomorrow_uses_the_local_date_late_in_the_evening_west_of_utc() -> None:
    evening = local(WED, 22, 30, NEW_YORK)
    assert evening.date() == THU  # already the next day in UTC
    got = meeting("Retro tomorrow 9am", now=evening, tz=NEW_YORK)
    assert got.start == local(THU, 9, 0, NEW_YORK)
    assert meeting("Retro today at 23:45", now=evening, tz=NEW_YORK).start == local(
        WED, 23, 45, NEW_YORK
    )


def test_tomorrow_uses_the_local_date_early_in_the_morning_east_of_utc() -> None:
    new_year = at(NEW_YEARS_EVE, 20, 0)  # 05:00 on 1 January in Tokyo
    assert new_year.astimezone(TOKYO).date() == NEW_YEAR
    got = meeting("Retro tomorrow 9am", now=new_year, tz=TOKYO)
    assert got.start == local(NEW_YEAR + DAY, 9, 0, TOKYO)


# ---- lengths, reminders, people, feedback ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("45m", 45),
        ("45 min", 45),
        ("45mins", 45),
        ("1 minute", 1),
        ("90 minutes", 90),
        ("2h", 120),
        ("2 hr", 120),
        ("2hrs", 120),
        ("1 hour", 60),
        ("2 hours", 120),
        ("1h30", 90),
        ("1h30m", 90),
        ("1h 30m", 90),
        ("1 hour 30 minutes", 90),
        ("1.5h", 90),
        ("24h", 24 * 60),
    ],
)
def test_meeting_lengths(text: str, minutes: int) -> None:
    assert meeting(f"Retro tomorrow 9am for {text}").duration == timedelta(minutes=minutes)
    assert parse_duration(text) == timedelta(minutes=minutes)


def test_length_without_a_start_is_an_instant_meeting_of_that_length() -> None:
    assert p("Retro for 15m") == CreateMeeting(title="Retro", duration=timedelta(minutes=15))


@pytest.mark.parametrize(
    ("text", "named", "says"),
    [
        ("Retro for 30 hours", "30 hours", "at most 24 hours"),
        ("Retro for 25h", "25h", "at most 24 hours"),
        ("Retro for 1441m", "1441m", "at most 24 hours"),
        ("Retro for 0m", "0m", "at least 1 minute"),
        ("Retro for 30s", "30s", "length"),
        ("Retro for 45", "45", "length"),
        ("Retro for 1h90", "1h90", "length"),
    ],
)
def test_bad_lengths_are_named(text: str, named: str, says: str) -> None:
    message = error(text)
    assert f'"{named}"' in message
    assert says in message


def test_reminders() -> None:
    assert meeting("Retro tomorrow 9am remind 15m").remind == timedelta(minutes=15)
    assert meeting("Retro tomorrow 9am remind 0").remind == timedelta(0)
    assert meeting("Retro tomorrow 9am remind none").remind == timedelta(0)
    assert meeting("Retro tomorrow 9am").remind is None


def test_reminder_over_a_day_is_refused() -> None:
    message = error("Retro tomorrow 9am remind 25h")
    assert '"25h"' in message and "24 hours" in message


def test_defaults_are_left_to_the_workspace() -> None:
    got = meeting("Retro tomorrow 9am")
    assert (got.duration, got.remind, got.invitees, got.feedback) == (None, None, (), True)


@pytest.mark.parametrize(
    ("mentions", "ids"),
    [
        ("<@U123ABC>", ("U123ABC",)),
        ("<@U123ABC|alex>", ("U123ABC",)),
        ("<@123456789>", ("123456789",)),
        ("<@!123456789>", ("123456789",)),
        ("@sam", ("sam",)),
        ("<@U1> <@!22> @sam", ("U1", "22", "sam")),
        ("<@U1>, <@U2> and @sam", ("U1", "U2", "sam")),
        ("<@U1>,<@U2>", ("U1", "U2")),
        ("<@U1> <@U1|alex>", ("U1",)),
    ],
)
def test_invitees_from_slack_and_discord_mentions(mentions: str, ids: tuple[str, ...]) -> None:
    assert meeting(f"Retro tomorrow 9am with {mentions}").invitees == ids


def test_with_before_the_time_and_no_title() -> None:
    got = meeting("with <@U1> at 15:00")
    assert (got.title, got.invitees, got.start) == ("", ("U1",), local(WED, 15, 0))


def test_with_a_name_that_is_not_a_mention_is_reported() -> None:
    message = error("Retro at 15:00 with Bob")
    assert '"with Bob"' in message and "@" in message


def test_role_mentions_are_not_people() -> None:
    assert "<@&42>" in error("Retro at 15:00 with <@&42>")


def test_nofeedback_in_any_position() -> None:
    assert meeting("Retro nofeedback at 15:00").feedback is False
    assert meeting("Retro at 15:00 nofeedback").feedback is False
    assert meeting("nofeedback").feedback is False


def test_clauses_in_any_order() -> None:
    a = meeting("Retro with @sam for 1h remind 5m tomorrow 9am")
    b = meeting("Retro tomorrow 9am for 1h remind 5m with @sam")
    assert a == b and a.invitees == ("sam",) and a.start == local(THU, 9, 0)


# ---- series --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "rule"),
    [
        ("every weekday at 9:30", weekly(WEEKDAYS, 9, 30)),
        ("every weekdays at 9:30", weekly(WEEKDAYS, 9, 30)),
        ("every mon,wed,fri at 10:00", weekly(frozenset({0, 2, 4}), 10, 0)),
        ("every mon, wed and fri at 10am", weekly(frozenset({0, 2, 4}), 10, 0)),
        ("every Monday,Thursday at 10:00", weekly(frozenset({0, 3}), 10, 0)),
        ("every tuesday at 4pm", weekly(frozenset({1}), 16, 0)),
        ("every mondays at 8:00", weekly(frozenset({0}), 8, 0)),
        ("every day at 8:00", weekly(frozenset(range(7)), 8, 0)),
        ("every daily at 8:00", weekly(frozenset(range(7)), 8, 0)),
        ("every weekend at 11:00", weekly(frozenset({5, 6}), 11, 0)),
        ("every sat,sun 11:00", weekly(frozenset({5, 6}), 11, 0)),
    ],
)
def test_series_rules(clause: str, rule: Rule) -> None:
    assert p(f"Standup {clause}") == CreateSeries(title="Standup", rule=rule)


def test_series_with_length_and_nofeedback() -> None:
    got = series("Standup every weekday at 9:30 for 15m nofeedback")
    assert got == CreateSeries("Standup", weekly(WEEKDAYS, 9, 30), timedelta(minutes=15), False)


def test_series_rule_is_wall_clock_whatever_now_is() -> None:
    late = p("Standup every weekday at 9:30", now=local(WED, 23, 0))
    assert isinstance(late, CreateSeries) and (late.rule.hour, late.rule.minute) == (9, 30)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Standup every weekday", "weekday"),
        ("Standup every weekday at 25:00", "25:00"),
        ("Standup every 2 weeks at 9:00", "2 weeks"),
        ("Standup every weekday at 9:30 remind 10m", "remind 10m"),
        ("Standup every weekday at 9:30 tomorrow 9am", "tomorrow 9am"),
        ("Standup every weekday at 9:30 with @sam", "with sam"),
        ("Standup every day at 8:00 every mon at 9:00", "every mon at 9:00"),
    ],
)
def test_series_mistakes_are_named(text: str, named: str) -> None:
    assert f'"{named}"' in error(text)


# ---- mistakes in create forms --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Retro at 25:00", "25:00"),
        ("Retro at 9:75", "9:75"),
        ("Retro at 13pm", "13pm"),
        ("Retro at 3", "3"),
        ("Retro 25:00", "25:00"),
        ("Retro tomorrow at 99", "99"),
        ("Retro in 5 parsecs", "5 parsecs"),
        ("Retro in 0m", "in 0m"),
        (f"Retro on {YEAR}-13-01 at 9:00", f"{YEAR}-13-01"),
        ("Retro on 12/01 at 9:00", "12/01"),
        (f"Retro {YEAR}-02-30 10:00", f"{YEAR}-02-30"),
        (f"Retro {FUTURE}", f"{FUTURE}"),
        (f"Retro at 9am on {YEAR}-13-01", f"{YEAR}-13-01"),
        ("Retro remind 5 parsecs", "5 parsecs"),
    ],
)
def test_clauses_that_tried_and_failed_are_named(text: str, named: str) -> None:
    assert f'"{named}"' in error(text)


def test_error_for_a_bad_time_matches_the_documented_shape() -> None:
    message = error("/meet Retro at 25:00")
    assert message.startswith('I couldn\'t read "25:00" as a time. Try: /meet ')


def test_trailing_words_are_named_without_the_clauses_after_them() -> None:
    message = error("Retro at 15:00 blah blah for 45m")
    assert '"blah blah"' in message
    assert "quotes" in message
    assert '"Retro' not in message


def test_two_start_times_are_refused() -> None:
    message = error("Retro at 15:00 in 20m")
    assert '"at 15:00"' in message and '"in 20m"' in message


def test_two_lengths_are_refused() -> None:
    assert '"for 2h"' in error("Retro for 1h for 2h")


def test_unclosed_quote_is_reported() -> None:
    assert "closing quote" in error('"Design review at 15:00')


def test_long_offending_text_is_shortened_in_the_message() -> None:
    message = error("Retro at 15:00 " + "blah " * 200)
    assert len(message) < 250 and "…" in message


# ---- subcommands ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("list", ListMeetings()),
        ("LIST", ListMeetings()),
        ("/meet schedule", OpenScheduleForm()),
        ("help", Help()),
        ("end 4F2K", EndMeeting("4F2K")),
        ("cancel 4F2K", CancelMeeting("4F2K")),
        ("host 4F2K", ResendHost("4F2K")),
        ("feedback 4F2K", FeedbackSummary("4F2K")),
        ("pause standup", PauseSeries("standup")),
        ("resume standup", ResumeSeries("standup")),
        ("skip standup", SkipOccurrence("standup")),
        (f"skip standup {FUTURE}", SkipOccurrence("standup", FUTURE)),
        ("skip standup tomorrow", SkipOccurrence("standup", THU)),
        ("skip standup mon", SkipOccurrence("standup", MON)),
        ("skip standup today", SkipOccurrence("standup", WED)),
        ("tz Europe/Berlin", SetTimezone("Europe/Berlin")),
        ("tz america/new_york", SetTimezone("America/New_York")),
        ("tz UTC", SetTimezone("UTC")),
        ("config", Configure()),
        ("config provider whereby", Configure("provider", "whereby")),
        ("config reminder 10m", Configure("reminder", "10m")),
        ("config length 30m", Configure("length", "30m")),
        ("config feedback off", Configure("feedback", "off")),
        ("CONFIG Feedback on", Configure("feedback", "on")),
    ],
)
def test_subcommands(text: str, request_: Request) -> None:
    assert p(text) == request_


def test_ids_keep_their_spelling() -> None:
    assert p("end aB3x") == EndMeeting("aB3x")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("End of year party", "End of year party"),
        ("list everything", "list everything"),
        ("help desk sync", "help desk sync"),
        ("schedule review", "schedule review"),
        ("Cancel culture debate", "Cancel culture debate"),
        ("pause and reflect", "pause and reflect"),
        ("tz talk at noon", "tz talk"),
    ],
)
def test_subcommand_words_with_the_wrong_arity_are_titles(text: str, title: str) -> None:
    assert meeting(text).title == title


def test_end_of_year_party_at_a_time() -> None:
    got = meeting("/meet End of year party at 17:00")
    assert (got.title, got.start) == ("End of year party", local(WED, 17, 0))


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("end", "/meet end 4F2K"),
        ("cancel", "/meet cancel 4F2K"),
        ("host", "/meet host 4F2K"),
        ("feedback", "/meet feedback 4F2K"),
        ("skip", "/meet skip standup"),
        ("pause", "/meet pause standup"),
        ("resume", "/meet resume standup"),
        ("tz", "/meet tz Europe/Berlin"),
        ("config provider", "/meet config provider jitsi"),
        ("config reminder", "/meet config reminder 10m"),
    ],
)
def test_subcommand_missing_its_argument_explains_how(text: str, example: str) -> None:
    message = error(text)
    assert f'"{text}"' in message and message.endswith(f"Try: {example}")


def test_unknown_zone_is_named_and_a_real_one_suggested() -> None:
    message = error("tz Mars/Olympus")
    assert '"Mars/Olympus"' in message and "Europe/Berlin" in message
    assert '"../etc/passwd"' in error("tz ../etc/passwd")


@pytest.mark.parametrize(
    ("day", "named"), [(f"{YEAR}-13-01", f"{YEAR}-13-01"), (f"{LONG_AGO}", f"{LONG_AGO.year}")]
)
def test_skip_with_a_bad_or_past_date(day: str, named: str) -> None:
    assert named in error(f"skip standup {day}")


# ---- option values (Discord) ---------------------------------------------------------------


def test_parse_when_forms() -> None:
    assert parse_when("tomorrow 9am", now=NOW, tz=BERLIN) == local(THU, 9, 0)
    assert parse_when("in 20m", now=NOW, tz=BERLIN) == NOW + timedelta(minutes=20)
    assert parse_when("at 15:00", now=NOW, tz=BERLIN) == local(WED, 15, 0)
    assert parse_when(f"{FUTURE} 14:00", now=NOW, tz=NEW_YORK) == local(FUTURE, 14, 0, NEW_YORK)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("tomorrow", "needs a time of day"),
        ("25:00", '"25:00"'),
        ("9:00", "tomorrow 9:00"),
        ("tomorrow 9am please", '"please"'),
        ("soon", '"soon"'),
    ],
)
def test_parse_when_errors(text: str, says: str) -> None:
    with pytest.raises(GrammarError) as caught:
        parse_when(text, now=NOW, tz=BERLIN)
    message = str(caught.value)
    assert says in message
    example = message.partition(" Try: ")[2]
    assert parse_when(example, now=NOW, tz=BERLIN) > NOW


def test_parse_duration_accepts_a_leading_for_and_refuses_bad_lengths() -> None:
    assert parse_duration("for 1h 30m") == timedelta(minutes=90)
    for bad, says in [("25h", "at most 24 hours"), ("0m", "at least"), ("soon", '"soon"')]:
        with pytest.raises(GrammarError, match="Try: 45m") as caught:
            parse_duration(bad)
        assert says in str(caught.value)


def test_parse_remind() -> None:
    assert parse_remind("10m") == timedelta(minutes=10)
    assert parse_remind("0") == parse_remind("none") == timedelta(0)
    with pytest.raises(GrammarError, match="24 hours"):
        parse_remind("25h")


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("weekday at 9:30", weekly(WEEKDAYS, 9, 30)),
        ("mon,wed,fri at 10:00", weekly(frozenset({0, 2, 4}), 10, 0)),
        ("day at 8:00", weekly(frozenset(range(7)), 8, 0)),
        ("every weekend at 10am", weekly(frozenset({5, 6}), 10, 0)),
    ],
)
def test_parse_rule(text: str, rule: Rule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize("text", ["weekday", "fortnightly at 9:00", "weekday at 9:30 for 15m", ""])
def test_parse_rule_errors(text: str) -> None:
    with pytest.raises(GrammarError) as caught:
        parse_rule(text)
    assert parse_rule(str(caught.value).partition(" Try: ")[2]) == weekly(WEEKDAYS, 9, 30)


def test_parse_day() -> None:
    assert parse_day("mon", now=NOW, tz=BERLIN) == MON
    assert parse_day("tomorrow", now=local(NEW_YEARS_EVE, 23, 30), tz=BERLIN) == NEW_YEAR
    with pytest.raises(GrammarError, match="in the past"):
        parse_day(f"{YESTERDAY}", now=NOW, tz=BERLIN)


# ---- previews and notes around DST (Berlin, New York, Sydney) -----------------------------

SYDNEY = ZoneInfo("Australia/Sydney")


@pytest.mark.parametrize(
    ("tz", "clock", "first", "second"),
    [
        (BERLIN, "02:30", "02:30 CEST (UTC+2)", "02:00 CET (UTC+1)"),
        (NEW_YORK, "01:30", "01:30 EDT (UTC-4)", "01:00 EST (UTC-5)"),
        (SYDNEY, "02:30", "02:30 AEDT (UTC+11)", "02:00 AEST (UTC+10)"),
    ],
)
def test_a_fall_back_meeting_shows_both_offsets(
    tz: ZoneInfo, clock: str, first: str, second: str
) -> None:
    fall = next_clock_change(tz, forward=False)
    got = meeting(f"Retro {fall} {clock} for 30m", now=at(fall - 2 * DAY, 12, 0, tz), tz=tz)
    assert got.start is not None and got.duration is not None
    shown = timefmt.when(got.start, got.start + got.duration, tz)
    assert f"{first}–{second} {tz.key}" in shown  # not the misleading "02:30–02:00"
    assert f"{clock} happens twice" in got.note and "the first" in got.note


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK, SYDNEY])
def test_a_nonexistent_time_moves_and_says_so(tz: ZoneInfo) -> None:
    spring = next_clock_change(tz, forward=True)
    got = meeting(f"Retro {spring} 02:30 for 30m", now=at(spring - 2 * DAY, 12, 0, tz), tz=tz)
    day = f"{spring:%a} {spring.day} {spring:%b}"
    assert got.note == (
        f"02:30 does not exist on {day} in {tz.key} (clocks go forward), so it starts at 03:00."
    )
    assert got.start is not None and got.start.astimezone(tz).strftime("%H:%M") == "03:00"


@pytest.mark.parametrize(("tz", "abbreviation"), [(BERLIN, "CET"), (NEW_YORK, "EST")])
def test_the_second_of_a_repeated_hour_can_be_asked_for(tz: ZoneInfo, abbreviation: str) -> None:
    fall = next_clock_change(tz, forward=False)
    clock = "02:30" if tz is BERLIN else "01:30"
    now = at(fall - 2 * DAY, 12, 0, tz)
    first = meeting(f"Retro {fall} {clock}", now=now, tz=tz).start
    second = meeting(f"Retro {fall} {clock} {abbreviation}", now=now, tz=tz).start
    assert first is not None and second is not None
    assert second - first == timedelta(hours=1)


def test_a_span_across_a_change_shows_its_offsets_and_real_length() -> None:
    spring = next_clock_change(BERLIN, forward=True)
    got = meeting(f"Retro {spring} 01:30-03:30", now=at(spring - 2 * DAY, 12, 0))
    assert got.duration == timedelta(hours=1)  # the clocks skipped an hour
    assert got.start is not None
    shown = timefmt.when(got.start, got.start + got.duration, BERLIN)
    assert "01:30 CET (UTC+1)–03:30 CEST (UTC+2)" in shown


def test_an_ordinary_preview_is_unchanged() -> None:
    got = meeting("Retro tomorrow at 15:00 for 45m")
    assert got.start is not None and got.duration is not None
    shown = timefmt.when(got.start, got.start + got.duration, BERLIN)
    assert shown == f"{THU:%a} {THU.day} {THU:%b} 15:00–15:45 Europe/Berlin"


# ---- option values: ranges and zones -------------------------------------------------------


def test_parse_slot_reads_ranges_zones_and_notes() -> None:
    slot = parse_slot("tomorrow 3pm-4:30pm", now=NOW, tz=BERLIN)
    assert (slot.start, slot.end, slot.note) == (local(THU, 15, 0), local(THU, 16, 30), "")
    assert parse_slot("tomorrow 9am America/New_York", now=NOW, tz=BERLIN).start == local(
        THU, 9, 0, NEW_YORK
    )
    assert parse_slot("in 20m", now=NOW, tz=BERLIN).start == NOW + timedelta(minutes=20)
    spring = next_clock_change(BERLIN, forward=True)
    moved = parse_slot(f"{spring} 02:30", now=at(spring - DAY, 12, 0), tz=BERLIN)
    assert "does not exist" in moved.note


@pytest.mark.parametrize("text", ["tomorrow 3pm-4pm", "15:00–16:30", "from 3pm to 4pm"])
def test_parse_when_refuses_a_range_it_could_not_return(text: str) -> None:
    with pytest.raises(GrammarError, match="is a range") as caught:
        parse_when(text, now=NOW, tz=BERLIN)
    assert parse_when(str(caught.value).partition(" Try: ")[2], now=NOW, tz=BERLIN) > NOW


def test_parse_when_reads_zones_and_new_forms() -> None:
    assert parse_when("tomorrow at 9am EST", now=NOW, tz=BERLIN) > NOW
    assert parse_when("dec 3 at 3pm", now=NOW, tz=BERLIN) > NOW
    assert parse_when("next friday at 10", now=NOW, tz=BERLIN) == local(FRI + 7 * DAY, 10, 0)
    with pytest.raises(GrammarError, match='"IST"'):
        parse_when("tomorrow 9am IST", now=NOW, tz=BERLIN)


def test_parse_day_reads_month_names() -> None:
    christmas = next_on(12, 24)
    assert parse_day("dec 24", now=NOW, tz=BERLIN) == christmas
    assert p("skip standup 24 dec") == SkipOccurrence("standup", christmas)
