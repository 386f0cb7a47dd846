"""Calendar files, template links and signed tokens, read back as a calendar app would.

Every `.ics` is parsed with icalendar and its instants compared in UTC with the
meeting's; a series' RRULE is expanded with dateutil and must give exactly the
meetings convene itself opens, across a DST change.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rruleset, rrulestr
from icalendar import Calendar, Event

from bot.calendar import (
    FEED,
    FEED_LIFETIME,
    FEED_REFRESH,
    MEETING,
    MEETING_TOKEN_GRACE,
    FeedOwner,
    calendar_file,
    calendar_links,
    feed_links,
    google_template_link,
    meeting_event,
    meeting_token,
    outlook_template_link,
    series_event,
    sign,
    verify,
)
from bot.models import Meeting, MeetingStatus, Series, SeriesStatus
from bot.recurrence import anchored, series_occurrences, weekly
from bot.rules import End, with_end
from bot.timeparse import Ctx
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change, next_monday_at

SECRET = "calendar-test-secret-key"
JOIN = "https://team.whereby.com/standup-4f2a?embed&lang=en"
HOST = "https://team.whereby.com/standup-4f2a?roomKey=HOST-ONLY-secret"


def _meeting(start: datetime, minutes: int = 45, **changes: object) -> Meeting:
    made = Meeting(
        id="mtg7k2",
        platform="slack",
        workspace_id="T01",
        channel_id="C01",
        organizer_id="U01",
        title="Design review",
        start=start,
        end=start + timedelta(minutes=minutes),
        provider="whereby",
        room_id="room-1",
        join_url=JOIN,
        status=MeetingStatus.SCHEDULED,
        remind=timedelta(minutes=10),
        instant=False,
        host_url=HOST,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def _one_event(data: bytes) -> tuple[Calendar, Event]:
    calendar = Calendar.from_ical(data)
    assert len(calendar.events) == 1, data.decode()
    return calendar, calendar.events[0]


def _file(meeting: Meeting, zone: ZoneInfo | None, *, sequence: int = 0) -> bytes:
    stamp = meeting.start - timedelta(days=2)
    event = meeting_event(meeting, sequence=sequence, zone=zone, organizer="Ana", stamp=stamp)
    return calendar_file([event])


# ---- one meeting ---------------------------------------------------------------------


@pytest.mark.parametrize(("zone", "hour"), [(BERLIN, 10), (NEW_YORK, 14)])
def test_a_meeting_reads_back_at_its_instant_in_the_organizers_zone(
    zone: ZoneInfo, hour: int
) -> None:
    meeting = _meeting(next_monday_at(hour, 30, tz=zone))
    data = _file(meeting, zone, sequence=3)
    calendar, event = _one_event(data)

    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.astimezone(UTC) == meeting.start and end.astimezone(UTC) == meeting.end
    assert event["dtstart"].params["TZID"] == zone.key
    assert (start.hour, start.minute) == (hour, 30)  # the organizer's wall time
    assert [tz.tz_name for tz in calendar.timezones] == [zone.key]
    assert str(event["summary"]) == "Design review"
    assert str(event["url"]) == JOIN and str(event["location"]) == JOIN
    assert str(event["uid"]) == "mtg7k2@convene"
    assert event.decoded("dtstamp") == meeting.start - timedelta(days=2)
    assert event.sequence == 3 and str(event["status"]) == "CONFIRMED"
    assert str(calendar["method"]) == "PUBLISH" and str(calendar["version"]) == "2.0"


def test_the_host_link_is_nowhere_in_the_file() -> None:
    for zone in (BERLIN, NEW_YORK, None):
        data = _file(_meeting(next_monday_at(10, tz=BERLIN)), zone)
        assert b"HOST-ONLY" not in data.replace(b"\r\n ", b"")  # unfolded lines too
        assert b"roomKey" not in data.replace(b"\r\n ", b"")


def test_without_a_zone_the_times_are_utc_and_no_vtimezone_is_needed() -> None:
    meeting = _meeting(next_monday_at(9, tz=NEW_YORK))
    calendar, event = _one_event(_file(meeting, None))
    assert event.decoded("dtstart") == meeting.start
    assert event.decoded("dtstart").utcoffset() == timedelta(0)
    assert "TZID" not in event["dtstart"].params
    assert calendar.timezones == []


def test_meetings_either_side_of_a_dst_change_keep_their_wall_time() -> None:
    """09:30 in Berlin the day before and the day after the clocks go forward is
    an hour apart in UTC; the file's own VTIMEZONE says so too, for apps that
    trust it rather than their own zone database."""
    change = next_clock_change(BERLIN, forward=True)
    before = _meeting(at(change - timedelta(days=1), 9, 30, BERLIN))
    after = _meeting(at(change + timedelta(days=1), 9, 30, BERLIN), id="mtg8m3")
    stamp = before.start
    events = [
        meeting_event(m, sequence=0, zone=BERLIN, organizer="Ana", stamp=stamp)
        for m in (before, after)
    ]
    calendar = Calendar.from_ical(calendar_file(events))
    (vtimezone,) = calendar.timezones
    own_rules = vtimezone.to_tz()
    for meeting, event in zip((before, after), calendar.events, strict=True):
        start = event.decoded("dtstart")
        assert start.astimezone(UTC) == meeting.start
        assert (start.hour, start.minute) == (9, 30)
        by_vtimezone = start.replace(tzinfo=None).replace(tzinfo=own_rules)
        assert by_vtimezone.astimezone(UTC) == meeting.start
    assert after.start.astimezone(UTC).time() != before.start.astimezone(UTC).time()


def test_a_cancelled_meeting_says_so_with_a_newer_sequence() -> None:
    meeting = _meeting(next_monday_at(10, tz=BERLIN))
    _, first = _one_event(_file(meeting, BERLIN, sequence=0))
    cancelled = replace(meeting, status=MeetingStatus.CANCELLED)
    _, later = _one_event(_file(cancelled, BERLIN, sequence=1))
    assert str(first["status"]) == "CONFIRMED" and str(later["status"]) == "CANCELLED"
    assert str(later["uid"]) == str(first["uid"])  # the same event, replaced
    assert later.sequence > first.sequence


# ---- series --------------------------------------------------------------------------


def _series(tz: ZoneInfo, now: datetime, **changes: object) -> Series:
    rule = anchored(weekly({0, 2}, 9, 30), now, tz)  # Mondays and Wednesdays at 09:30
    made = Series(
        id="ser4kq",
        platform="slack",
        workspace_id="T01",
        channel_id="C01",
        owner_id="U01",
        title="Standup",
        rule=rule,
        tz=tz.key,
        length=timedelta(minutes=15),
        provider="jitsi",
        status=SeriesStatus.ACTIVE,
    )
    return replace(made, **changes)  # type: ignore[arg-type]


def _expanded(event: Event, count: int) -> list[datetime]:
    """What a calendar app shows: the RRULE from DTSTART, minus the EXDATEs."""
    start = event.decoded("dtstart")
    rules = rruleset()
    for recur in event.rrules:
        rules.rrule(rrulestr(recur.to_ical().decode(), dtstart=start))
    for excluded in event.exdates:
        rules.exdate(excluded)
    return list(islice(rules, count))


@pytest.mark.parametrize("tz", [BERLIN, NEW_YORK])
def test_a_series_rrule_gives_the_meetings_convene_opens_across_a_dst_change(
    tz: ZoneInfo,
) -> None:
    change = next_clock_change(tz, forward=False)
    now = at(change - timedelta(days=15), 12, 0, tz)
    first_skip = next(day for day, _ in series_occurrences(_series(tz, now), now))
    series = _series(tz, now, skipped=frozenset({first_skip.isoformat()}))
    event = series_event(series, sequence=0, organizer="Ana", join_url=None, stamp=now)
    _, parsed = _one_event(calendar_file([event]))

    shown = _expanded(parsed, 10)
    convene = [start for _, start in islice(series_occurrences(series, now), 10)]
    assert [s.astimezone(UTC) for s in shown] == convene
    assert all((s.astimezone(tz).hour, s.astimezone(tz).minute) == (9, 30) for s in shown)
    days = [s.astimezone(tz).date() for s in shown]
    assert days[0] < change < days[-1]  # the change falls inside what is compared
    assert len({s.astimezone(UTC).time() for s in shown}) == 2  # so UTC moved, wall time did not
    assert first_skip not in {s.astimezone(tz).date() for s in shown}
    assert parsed["dtstart"].params["TZID"] == tz.key
    assert parsed.decoded("dtend") - parsed.decoded("dtstart") == timedelta(minutes=15)
    assert str(parsed["uid"]) == "series-ser4kq@convene"


def test_a_series_until_is_utc_and_its_last_meeting_is_on_that_day() -> None:
    now = next_monday_at(8, tz=BERLIN)
    last_day = (now + timedelta(days=30)).astimezone(BERLIN).date()
    ended = End("until", until=last_day)
    rule = with_end(weekly({0, 2}, 9, 30), ended, Ctx(now=now, tz=BERLIN))
    series = _series(BERLIN, now, rule=anchored(rule, now, BERLIN))
    event = series_event(series, sequence=0, organizer="Ana", join_url=JOIN, stamp=now)
    data = calendar_file([event])
    _, parsed = _one_event(data)

    (recur,) = parsed.rrules
    assert recur["UNTIL"][0].utcoffset() == timedelta(0)  # RFC 5545: UTC beside a TZID
    shown = _expanded(parsed, 100)
    convene = [start for _, start in series_occurrences(series, now)]
    assert [s.astimezone(UTC) for s in shown] == convene
    last_shown = shown[-1].astimezone(BERLIN).date()
    assert last_day - timedelta(days=7) < last_shown <= last_day
    assert str(parsed["location"]) == JOIN


@pytest.mark.parametrize(
    ("status", "word"),
    [(SeriesStatus.CANCELLED, "CANCELLED"), (SeriesStatus.PAUSED, "TENTATIVE")],
)
def test_a_series_status_reaches_the_calendar(status: SeriesStatus, word: str) -> None:
    now = next_monday_at(8, tz=BERLIN)
    series = _series(BERLIN, now, status=status)
    event = series_event(series, sequence=4, organizer="Ana", join_url=None, stamp=now)
    _, parsed = _one_event(calendar_file([event]))
    assert str(parsed["status"]) == word and parsed.sequence == 4


def test_an_opened_meeting_of_a_series_replaces_its_instance_in_a_feed() -> None:
    now = next_monday_at(8, tz=NEW_YORK)
    series = _series(NEW_YORK, now)
    day, start = next(series_occurrences(series, now))
    meeting = _meeting(start, 15, series_id=series.id, title="Standup")
    events = [
        series_event(series, sequence=0, organizer="Ana", join_url=None, stamp=now),
        meeting_event(meeting, sequence=0, zone=None, organizer="Ana", stamp=now, series=series),
    ]
    calendar = Calendar.from_ical(calendar_file(events, name="Ana's meetings"))
    rule, occurrence = calendar.events
    assert str(occurrence["uid"]) == str(rule["uid"])
    assert occurrence.decoded("recurrence-id") in _expanded(rule, 3)
    assert occurrence.decoded("recurrence-id").astimezone(NEW_YORK).date() == day
    assert str(occurrence["url"]) == JOIN and "url" not in rule


def test_a_feed_names_itself_and_asks_to_be_polled() -> None:
    data = calendar_file([], name="Ana's meetings", refresh=FEED_REFRESH)
    calendar = Calendar.from_ical(data)
    assert str(calendar["x-wr-calname"]) == "Ana's meetings"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in data
    assert b"X-PUBLISHED-TTL:PT1H" in data


# ---- template links ------------------------------------------------------------------


def _query(link: str) -> dict[str, str]:
    pairs = parse_qs(urlsplit(link).query, strict_parsing=True)
    assert all(len(values) == 1 for values in pairs.values()), pairs
    return {name: values[0] for name, values in pairs.items()}


def test_template_links_carry_the_utc_times_title_and_join_link() -> None:
    meeting = _meeting(next_monday_at(10, 30, tz=BERLIN), title="Q&A #3 + 50% off?")
    google = _query(google_template_link(meeting))
    assert google["action"] == "TEMPLATE" and google["text"] == "Q&A #3 + 50% off?"
    begin, finish = google["dates"].split("/")
    fmt = "%Y%m%dT%H%M%SZ"
    assert datetime.strptime(begin, fmt).replace(tzinfo=UTC) == meeting.start
    assert datetime.strptime(finish, fmt).replace(tzinfo=UTC) == meeting.end
    assert google["location"] == JOIN and JOIN in google["details"]

    link = outlook_template_link(meeting)
    assert link.startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    assert "+" not in urlsplit(link).query  # Outlook would show a plus, not a space
    outlook = _query(link)
    assert outlook["subject"] == "Q&A #3 + 50% off?"
    assert outlook["path"] == "/calendar/action/compose" and outlook["rru"] == "addevent"
    assert datetime.fromisoformat(outlook["startdt"]) == meeting.start
    assert datetime.fromisoformat(outlook["enddt"]) == meeting.end
    assert outlook["location"] == JOIN and JOIN in outlook["body"]
    for made in (google_template_link(meeting), link):
        assert "HOST-ONLY" not in made and "roomKey" not in made


def test_a_card_offers_the_ics_only_with_a_public_url_and_a_key() -> None:
    meeting = _meeting(next_monday_at(10, tz=BERLIN))
    now = meeting.start - timedelta(hours=1)
    for public_url, secret in ((None, SECRET), ("https://convene.example.com", None)):
        links = calendar_links(meeting, public_url=public_url, secret=secret, now=now)
        assert links.ics_url is None
        assert links.google.startswith("https://calendar.google.com/calendar/render?")
        assert links.outlook.startswith("https://outlook.live.com/")
    links = calendar_links(
        meeting, public_url="https://convene.example.com/", secret=SECRET, now=now
    )
    assert links.ics_url is not None
    prefix, suffix = "https://convene.example.com/calendar/", ".ics"
    assert links.ics_url.startswith(prefix) and links.ics_url.endswith(suffix)
    token = links.ics_url[len(prefix) : -len(suffix)]
    assert verify(SECRET, MEETING, token, now) == meeting.id
    again = calendar_links(
        meeting, public_url="https://convene.example.com", secret=SECRET, now=now
    )
    assert again.ics_url == links.ics_url  # a re-rendered card keeps its link


# ---- tokens --------------------------------------------------------------------------


def test_a_token_round_trips_until_it_expires_by_the_injected_clock() -> None:
    now = next_monday_at(9)
    expires = now + timedelta(days=3)
    token = sign(SECRET, MEETING, "mtg7k2", expires)
    assert verify(SECRET, MEETING, token, now) == "mtg7k2"
    assert verify(SECRET, MEETING, token, expires - timedelta(seconds=1)) == "mtg7k2"
    assert verify(SECRET, MEETING, token, expires) is None
    assert verify(SECRET, MEETING, token, expires + timedelta(days=400)) is None


def test_any_one_changed_character_is_a_forgery() -> None:
    now = next_monday_at(9)
    token = sign(SECRET, MEETING, "mtg7k2", now + timedelta(days=1))
    for i, char in enumerate(token):
        for other in {"A", "B", "a", "_", "-", "0"} - {char}:
            forged = token[:i] + other + token[i + 1 :]
            assert verify(SECRET, MEETING, forged, now) is None, (i, other)


def test_a_token_is_only_good_for_its_purpose_and_key() -> None:
    now = next_monday_at(9)
    token = sign(SECRET, MEETING, "mtg7k2", now + timedelta(days=1))
    assert verify(SECRET, FEED, token, now) is None
    assert verify("another-key", MEETING, token, now) is None
    assert verify("", MEETING, token, now) is None
    for junk in ("", "x", token[:-1], token + "A", token + "==", "../" + token, "é" * 60):
        assert verify(SECRET, MEETING, junk, now) is None, junk


def test_a_token_shows_no_secret_and_signing_needs_a_key() -> None:
    now = next_monday_at(9)
    token = sign(SECRET, MEETING, "mtg7k2", now + timedelta(days=1))
    assert SECRET not in token and all(c.isalnum() or c in "-_" for c in token)
    with pytest.raises(ValueError, match="secret"):
        sign("", MEETING, "mtg7k2", now)
    with pytest.raises(ValueError, match="aware"):
        sign(SECRET, MEETING, "mtg7k2", now.replace(tzinfo=None))


def test_a_meeting_token_lasts_thirty_days_past_the_end() -> None:
    meeting = _meeting(next_monday_at(10, tz=BERLIN))
    token = meeting_token(SECRET, meeting)
    assert verify(SECRET, MEETING, token, meeting.end + MEETING_TOKEN_GRACE / 2) == meeting.id
    assert verify(SECRET, MEETING, token, meeting.end + MEETING_TOKEN_GRACE) is None
    late = calendar_links(
        meeting,
        public_url="https://c.example",
        secret=SECRET,
        now=meeting.end + MEETING_TOKEN_GRACE,
    )
    assert late.ics_url is None  # no dead link on an old card


def test_a_feed_link_is_webcal_and_names_its_owner_and_version() -> None:
    now = next_monday_at(9)
    owner = FeedOwner("discord", "G123", "U456", 2)
    links = feed_links(owner, public_url="https://convene.example.com/bot/", secret=SECRET, now=now)
    assert links is not None
    assert links.subscribe.startswith("webcal://convene.example.com/bot/calendar/feed/")
    assert links.https == "https" + links.subscribe.removeprefix("webcal")
    token = links.https.rsplit("/", 1)[1].removesuffix(".ics")
    subject = verify(SECRET, FEED, token, now + FEED_LIFETIME - timedelta(days=1))
    assert subject is not None and FeedOwner.from_subject(subject) == owner
    assert verify(SECRET, FEED, token, now + FEED_LIFETIME) is None
    assert verify(SECRET, MEETING, token, now) is None
    assert feed_links(owner, public_url=None, secret=SECRET, now=now) is None
    assert feed_links(owner, public_url="https://c.example", secret=None, now=now) is None


def test_feed_subjects_are_unambiguous() -> None:
    assert FeedOwner.from_subject("slack:T1:U1:0") == FeedOwner("slack", "T1", "U1", 0)
    for bad in ("slack:T1:U1", "slack:T1:U1:x", "slack::U1:0", "a:b:c:d:1", ""):
        assert FeedOwner.from_subject(bad) is None, bad
    with pytest.raises(ValueError):
        _ = FeedOwner("slack", "T:1", "U1", 0).subject

