"""The calendar routes on a real aiohttp server on loopback, asked with httpx as a
calendar app would: a genuine token gets a parseable file, anything else the same
404, and a flood of forged tokens costs a log line, not a line each."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from bot.calendar import (
    FEED_LIFETIME,
    MEETING,
    MEETING_TOKEN_GRACE,
    FeedOwner,
    calendar_file,
    feed_token,
    meeting_event,
    sign,
)
from bot.calendar_routes import add_calendar_routes
from bot.http import HttpServer, make_http_app
from bot.models import Meeting, MeetingStatus
from tests.moments import BERLIN, next_monday_at

SECRET = "routes-test-secret-key"
START = next_monday_at(10, tz=BERLIN)
MEETING_ROW = Meeting(
    id="mtg7k2",
    platform="slack",
    workspace_id="T01",
    channel_id="C01",
    organizer_id="U01",
    title="Design review",
    start=START,
    end=START + timedelta(minutes=45),
    provider="jitsi",
    room_id="room-1",
    join_url="https://meet.example.org/design-review-7k2",
    status=MeetingStatus.SCHEDULED,
    remind=timedelta(minutes=10),
    instant=False,
    host_url="https://meet.example.org/design-review-7k2?jwt=HOST-ONLY",
)
OWNER = FeedOwner("slack", "T01", "U01", 1)


@dataclass
class FakeClock:
    """The injected clock, set by the test (a `bot.ports.Clock`)."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@dataclass
class Files:
    """Lookups as the lead wires them, answering only for what exists."""

    clock: FakeClock
    asked: list[tuple[str, str]] = field(default_factory=list)

    async def meeting(self, meeting_id: str) -> bytes | None:
        self.asked.append(("meeting", meeting_id))
        if meeting_id != MEETING_ROW.id:
            return None
        event = meeting_event(
            MEETING_ROW, sequence=0, zone=BERLIN, organizer="Ana", stamp=self.clock()
        )
        return calendar_file([event])

    async def feed(self, subject: str) -> bytes | None:
        self.asked.append(("feed", subject))
        if subject != OWNER.subject:  # a bumped version revokes the old token
            return None
        event = meeting_event(
            MEETING_ROW, sequence=0, zone=None, organizer="Ana", stamp=self.clock()
        )
        return calendar_file([event], name="Ana's meetings")


@dataclass
class Rig:
    http: httpx.AsyncClient
    clock: FakeClock
    files: Files


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = FakeClock(START - timedelta(days=1))
    files = Files(clock)
    app = make_http_app()
    add_calendar_routes(
        app, secret=SECRET, clock=clock, meeting_file=files.meeting, feed_file=files.feed
    )
    server = HttpServer(app, "127.0.0.1", 0)  # as production serves it: no access log
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            yield Rig(http, clock, files)
    finally:
        await server.stop()


def _meeting_token(meeting_id: str = MEETING_ROW.id) -> str:
    return sign(SECRET, MEETING, meeting_id, MEETING_ROW.end + MEETING_TOKEN_GRACE)


async def test_a_genuine_meeting_token_gets_its_calendar_file(rig: Rig) -> None:
    answer = await rig.http.get(f"/calendar/{_meeting_token()}.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert answer.headers["content-disposition"] == 'attachment; filename="convene-mtg7k2.ics"'
    (event,) = Calendar.from_ical(answer.content).events
    assert str(event["uid"]) == "mtg7k2@convene"
    assert event.decoded("dtstart") == MEETING_ROW.start
    assert b"HOST-ONLY" not in answer.content


async def test_forged_expired_misdirected_and_unknown_all_get_the_same_404(rig: Rig) -> None:
    good = _meeting_token()
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    other_key = sign("not-the-key", MEETING, MEETING_ROW.id, MEETING_ROW.end + MEETING_TOKEN_GRACE)
    unknown = _meeting_token("zzz999")
    answers = [
        await rig.http.get(f"/calendar/{token}.ics") for token in (forged, other_key, unknown)
    ]
    answers.append(await rig.http.get(f"/calendar/feed/{good}.ics"))  # a meeting token
    rig.clock.set(MEETING_ROW.end + MEETING_TOKEN_GRACE)
    answers.append(await rig.http.get(f"/calendar/{good}.ics"))  # expired by the clock
    assert [a.status_code for a in answers] == [404] * 5
    assert len({a.content for a in answers}) == 1  # nothing tells them apart
    assert b"mtg7k2" not in answers[0].content
    assert rig.files.asked == [("meeting", "zzz999")]  # only a verified subject is looked up


async def test_the_feed_serves_its_owner_until_the_version_is_bumped(rig: Rig) -> None:
    token = feed_token(SECRET, OWNER, rig.clock())
    answer = await rig.http.get(f"/calendar/feed/{token}.ics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "content-disposition" not in answer.headers
    assert "max-age" in answer.headers["cache-control"]
    assert "private" in answer.headers["cache-control"]
    calendar = Calendar.from_ical(answer.content)
    assert str(calendar["x-wr-calname"]) == "Ana's meetings"

    polled = await rig.http.get(
        f"/calendar/feed/{token}.ics", headers={"If-None-Match": answer.headers["etag"]}
    )
    assert polled.status_code == 304 and polled.content == b""

    old = feed_token(SECRET, FeedOwner("slack", "T01", "U01", 0), rig.clock())
    assert (await rig.http.get(f"/calendar/feed/{old}.ics")).status_code == 404
    rig.clock.set(rig.clock() + FEED_LIFETIME)
    assert (await rig.http.get(f"/calendar/feed/{token}.ics")).status_code == 404


async def test_a_flood_of_forged_tokens_is_a_line_or_two_of_log(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")  # convene's own lines (httpx logs its URLs)
    caplog.set_level(logging.INFO, logger="aiohttp")
    caplog.clear()
    good = _meeting_token()
    statuses = set()
    for n in range(50):
        forged = f"{n:02d}" + good[2:]
        statuses.add((await rig.http.get(f"/calendar/{forged}.ics")).status_code)
        statuses.add((await rig.http.get(f"/calendar/feed/{forged}.ics")).status_code)
    assert statuses == {404}
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert 1 <= len(warnings) <= 2
    assert good[2:12] not in caplog.text  # no token in the log
    assert rig.files.asked == []
