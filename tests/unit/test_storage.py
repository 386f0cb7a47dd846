"""The database: migrations on an old file, refusing foreign files, WAL, claims, and
the repository functions, each on both engines (the `store` fixture)."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlite_utils import Database

from bot.models import MeetingStatus, SeriesStatus, WorkspaceSettings
from storage import deliveries, people, platform_state, workspaces
from storage import feedback as feedback_rows
from storage import meetings as meeting_rows
from storage import series as series_rows
from storage.db import DatabaseError, open_database, to_text
from storage.deliveries import ClaimResult, Kind
from storage.engine import SqliteStore, Store
from storage.migrations import MIGRATIONS
from storage.slack_installs import StoreInstallationStore, StoreOAuthStateStore
from tests.fakes import FakeClock
from tests.moments import at, next_clock_change, next_monday_at
from tests.records import BOX, a_meeting, a_series

ISO = "%Y-%m-%dT%H:%M:%SZ"  # how the first schema stored instants


def test_old_database_is_migrated_and_keeps_its_meetings(db_file: str) -> None:
    start = next_monday_at(14) + timedelta(days=8)
    created = start - timedelta(days=11, hours=4)
    old = Database(db_file)
    MIGRATIONS.apply(old, stop_before="m002_attendance")
    old.execute(
        "INSERT INTO meetings (id, platform, workspace_id, channel_id, organizer_id, title, "
        "start_at, end_at, provider, room_id, join_url, status, remind_s, instant, feedback, "
        "created_at) VALUES ('abc234','slack','T1','C1','U1','Kept',?,?,'jitsi','room',"
        "'https://meet.jit.si/room','scheduled',600,0,1,?)",
        [f"{start:{ISO}}", f"{start + timedelta(minutes=30):{ISO}}", f"{created:{ISO}}"],
    )
    old.conn.commit()
    old.close()
    db = open_database(db_file)
    assert "attendance" in db.table_names()
    assert db.execute("SELECT title FROM meetings").fetchall() == [("Kept",)]
    assert [m.name for m in MIGRATIONS.applied(db)][:2] == ["m001_core", "m002_attendance"]
    assert [m.name for m in MIGRATIONS.applied(db)] == [
        m.name for m in MIGRATIONS.pending(Database(memory=True))
    ]


def test_file_database_uses_wal_and_foreign_keys(db_file: str) -> None:
    db = open_database(db_file)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)


def test_someone_elses_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not a convene database"):
        open_database(path)
    assert path.read_bytes() == before


def test_a_file_that_is_not_sqlite_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(DatabaseError, match="not an SQLite database"):
        open_database(path)
    assert path.read_text().startswith("these are my notes")


async def test_claims_are_exclusive_until_the_lease_runs_out(store: Store) -> None:
    now = next_monday_at(9)
    assert await deliveries.claim(store, "m1", Kind.REMINDER, now, "one") is ClaimResult.WON
    assert not await deliveries.claim(store, "m1", Kind.REMINDER, now, "two")
    assert not await deliveries.claim(store, "m1", Kind.REMINDER, now + deliveries.LEASE / 2, "two")
    # "one" died before finishing: once its lease ran out, "two" takes over
    later = now + deliveries.LEASE + timedelta(seconds=1)
    taken = await deliveries.claim(store, "m1", Kind.REMINDER, later, "two")
    assert taken is ClaimResult.TAKEN_OVER
    assert await deliveries.claim_owner(store, "m1", Kind.REMINDER) == "two"
    await deliveries.mark_done(store, "m1", Kind.REMINDER, later)
    assert not await deliveries.claim(store, "m1", Kind.REMINDER, later + timedelta(hours=1), "one")
    assert await deliveries.outcome(store, "m1", Kind.REMINDER) == "sent"
    assert await deliveries.claim_owner(store, "m1", Kind.REMINDER) is None


async def test_claims_on_two_sqlite_connections_to_one_file(db_file: str) -> None:
    """Two processes on one SQLite file: the claim is one statement under the write lock."""
    now = next_monday_at(9)
    one = SqliteStore(open_database(db_file).conn, db_file)
    two = SqliteStore(open_database(db_file).conn, db_file)
    assert await deliveries.claim(one, "m1", Kind.START, now, "one")
    assert not await deliveries.claim(two, "m1", Kind.START, now, "two")
    await deliveries.release(one, "m1", Kind.START)
    assert await deliveries.claim(two, "m1", Kind.START, now, "two")
    await one.close()
    await two.close()


async def test_a_renewed_claim_is_not_taken_over(store: Store) -> None:
    now = next_monday_at(9)
    assert await deliveries.claim(store, "m1", Kind.END, now, "one")
    step = deliveries.LEASE * 2 / 3
    for beat in range(1, 4):  # the work runs three leases long, renewed as it goes
        assert await deliveries.renew(store, "m1", Kind.END, now + step * beat, "one")
        assert not await deliveries.claim(store, "m1", Kind.END, now + step * beat, "two")
    assert not await deliveries.renew(store, "m1", Kind.END, now, "two")  # not its claim
    await deliveries.mark_done(store, "m1", Kind.END, now + step * 4)
    assert not await deliveries.renew(store, "m1", Kind.END, now + step * 5, "one")  # done


async def test_release_owned_frees_only_that_owners_unfinished_claims(store: Store) -> None:
    now = next_monday_at(9)
    for subject in ("a", "b", "c"):
        assert await deliveries.claim(store, subject, Kind.REMINDER, now, "leaving")
    assert await deliveries.claim(store, "d", Kind.REMINDER, now, "staying")
    await deliveries.mark_done(store, "c", Kind.REMINDER, now)
    assert await deliveries.release_owned(store, "leaving") == 2
    assert await deliveries.claim(store, "a", Kind.REMINDER, now, "staying")  # at once
    assert not await deliveries.claim(store, "d", Kind.REMINDER, now, "other")
    assert await deliveries.outcome(store, "c", Kind.REMINDER) == "sent"  # done stays done


async def test_record_once_and_prune(store: Store) -> None:
    now = next_monday_at(9)
    assert await deliveries.record_once(store, "whereby:e1", Kind.WEBHOOK, now)
    assert not await deliveries.record_once(store, "whereby:e1", Kind.WEBHOOK, now)
    assert await deliveries.prune(store, Kind.WEBHOOK, now + timedelta(minutes=1)) == 1
    assert await deliveries.record_once(store, "whereby:e1", Kind.WEBHOOK, now)


def _old_occurrences(
    days: set[int], hour: int, minute: int, tz: str, first: date, n: int
) -> list[datetime]:
    """What the weekly-only rule of earlier versions produced: each listed weekday, in
    order, at the wall time (local_to_utc, as it used)."""
    from bot.timeparse import local_to_utc

    found: list[datetime] = []
    day = first
    while len(found) < n:
        if day.weekday() in days:
            found.append(local_to_utc(day, hour, minute, ZoneInfo(tz)))
        day += timedelta(days=1)
    return found


@pytest.mark.parametrize(
    ("days", "rrule"),
    [
        ({0, 1, 2, 3, 4}, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        (set(range(7)), "FREQ=DAILY"),
        ({2}, "FREQ=WEEKLY;BYDAY=WE"),
        ({5, 6}, "FREQ=WEEKLY;BYDAY=SA,SU"),
    ],
)
async def test_old_series_rows_migrate_to_rrules_with_the_same_occurrences(
    db_file: str, days: set[int], rrule: str
) -> None:
    from bot.recurrence import series_occurrences
    from storage.series import get_series

    created = next_monday_at(14) - timedelta(days=40)  # a Monday, weeks ago
    old = Database(db_file)
    MIGRATIONS.apply(old, stop_before="m006_series_rrule")
    old.execute(
        "INSERT INTO series (id, platform, workspace_id, channel_id, owner_id, title, days, "
        "hour, minute, tz, length_s, provider, status, feedback, skipped, created_at) "
        "VALUES ('ser234','slack','T1','C1','U1','Standup',?,2,30,'Europe/Berlin',900,"
        "'jitsi','active',1,'[]',?)",
        [",".join(str(d) for d in sorted(days)), f"{created:{ISO}}"],
    )
    old.conn.commit()
    old.close()
    db = open_database(db_file)
    [(text,)] = db.execute("SELECT rrule FROM series").fetchall()
    start, line = text.split("\n")
    assert line == f"RRULE:{rrule}" and start.endswith("T023000")
    assert rrulestr(text) is not None  # a calendar's RRULE reader takes it as it is
    series = await get_series(SqliteStore(db.conn, db_file), "ser234")
    assert series is not None and series.rule.days == frozenset(days)
    tz = ZoneInfo("Europe/Berlin")
    spring = next_clock_change(tz, forward=True)  # 02:30 is missing that night
    after = at(spring - timedelta(days=10), 0, 0, tz)
    got = [s for _, s in islice(series_occurrences(series, after), 30)]
    assert got == _old_occurrences(days, 2, 30, "Europe/Berlin", after.astimezone(tz).date(), 30)


# --- repository functions, on both engines ------------------------------------------


async def test_a_meeting_round_trips_with_its_host_link_sealed(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    read = replace(meeting, host_url=None)  # a meeting read back carries no host link
    assert await meeting_rows.get_meeting(store, meeting.id) == read
    sealed = await store.value("SELECT host_url_sealed FROM meetings WHERE id = ?", [meeting.id])
    assert "secret" not in sealed and BOX.open(sealed) == meeting.host_url
    assert await meeting_rows.host_link(store, meeting.id, BOX) == meeting.host_url
    assert await meeting_rows.find_by_room(store, "jitsi", meeting.room_id) == read
    assert await meeting_rows.id_taken(store, meeting.id)
    assert not await meeting_rows.id_taken(store, "zzz999")
    assert await meeting_rows.open_meetings_of(store, "slack", "T1", "U1", 5) == [
        (meeting.id, meeting.title)
    ]


async def test_due_events_page_through_open_meetings(store: Store) -> None:
    start = next_monday_at(14)
    ids = [f"m{i}" for i in range(5)]
    for i, meeting_id in enumerate(ids):
        moment = start + timedelta(minutes=i)
        await meeting_rows.insert_meeting(
            store, a_meeting(meeting_id, start=moment, end=moment + timedelta(minutes=30)), BOX
        )
    await meeting_rows.insert_meeting(store, a_meeting("inst", instant=True), BOX)
    until = start + timedelta(hours=2)
    seen: list[str] = []
    after = meeting_rows.FIRST
    while page := await meeting_rows.due_events(store, "reminder", until, after, limit=2):
        seen += [meeting_id for _, meeting_id in page]
        after = page[-1]
    assert seen == ids  # the instant meeting has no reminder
    first_due, _ = (await meeting_rows.due_events(store, "reminder", until))[0]
    assert first_due == to_text(start - timedelta(minutes=10))
    assert await deliveries.claim(store, "m0", Kind.REMINDER, start, "me")
    await deliveries.mark_done(store, "m0", Kind.REMINDER, start)
    assert await meeting_rows.set_status(store, "m1", MeetingStatus.CANCELLED)
    assert not await meeting_rows.set_status(store, "m1", MeetingStatus.ENDED)  # closed already
    rest = [mid for _, mid in await meeting_rows.due_events(store, "reminder", until)]
    assert rest == ["m2", "m3", "m4"]
    starts = [mid for _, mid in await meeting_rows.due_events(store, "start", until)]
    assert "inst" not in starts and "m0" in starts


async def test_moving_a_meeting_forgets_what_the_old_times_sent(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    assert await deliveries.claim(store, meeting.id, Kind.REMINDER, meeting.start, "me")
    await deliveries.mark_done(store, meeting.id, Kind.REMINDER, meeting.start)
    moved = replace(
        meeting, start=meeting.start + timedelta(hours=3), end=meeting.end + timedelta(hours=3)
    )
    assert await meeting_rows.move_meeting(store, moved, BOX, (Kind.REMINDER.value,))
    assert await deliveries.outcome(store, meeting.id, Kind.REMINDER) is None
    [(due, _)] = await meeting_rows.due_events(store, "reminder", moved.end)
    assert due == to_text(moved.start - timedelta(minutes=10))
    await meeting_rows.set_status(store, meeting.id, MeetingStatus.ENDED)
    assert not await meeting_rows.move_meeting(store, meeting, BOX, ())


async def test_series_rows_and_their_openings(store: Store) -> None:
    created = next_monday_at(8)
    series = a_series(created, "FREQ=WEEKLY;BYDAY=MO,WE")
    await series_rows.insert_series(store, series)
    assert await series_rows.get_series(store, "ser234") == series
    await series_rows.add_skip(store, "ser234", created.date())
    got = await series_rows.get_series(store, "ser234")
    assert got is not None and got.skipped == frozenset({created.date().isoformat()})
    assert await series_rows.unplanned_series(store, None, 10) == ["ser234"]
    await series_rows.set_next_open(store, [("ser234", created + timedelta(hours=1))])
    assert await series_rows.unplanned_series(store, None, 10) == []
    due = await series_rows.opening_series(store, created + timedelta(hours=2), ("", ""), 10)
    assert [series_id for _, series_id in due] == ["ser234"]
    await series_rows.replan_workspace(store, "slack", "T1")
    assert await series_rows.next_opens(store) == {"ser234": None}
    await series_rows.set_series_status(store, "ser234", SeriesStatus.PAUSED)
    assert await series_rows.active_series(store) == []
    assert [s.id for s in await series_rows.channel_series(store, "slack", "T1", "C1")] == [
        "ser234"
    ]


async def test_workspace_settings_and_switches(store: Store) -> None:
    defaults = WorkspaceSettings(provider="jitsi")
    assert await workspaces.workspace_settings(store, "slack", "T1", defaults) == defaults
    await workspaces.update_workspace(
        store, "slack", "T1", reminder=timedelta(minutes=5), mentions=False
    )
    await workspaces.update_workspace(store, "slack", "T1", provider="whereby", calls=False)
    got = await workspaces.workspace_settings(store, "slack", "T1", defaults)
    assert got == replace(
        defaults, provider="whereby", reminder=timedelta(minutes=5), mentions=False, calls=False
    )
    assert got.events  # never set: on
    assert await workspaces.user_timezone(store, "slack", "T1", "U1") is None
    await workspaces.set_user_timezone(store, "slack", "T1", "U1", "Europe/Berlin")
    await workspaces.set_user_timezone(store, "slack", "T1", "U1", "Asia/Tokyo")
    assert await workspaces.user_timezone(store, "slack", "T1", "U1") == "Asia/Tokyo"


async def test_feedback_answers_and_windows(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    now = meeting.end
    await feedback_rows.save_answer(store, meeting.id, "U2", 4, "", now)
    await feedback_rows.save_answer(store, meeting.id, "U2", None, "good", now)
    assert await feedback_rows.answers(store, meeting.id) == [feedback_rows.Answer("U2", 4, "good")]
    await feedback_rows.open_window(store, meeting.id, now, now + timedelta(hours=1))
    await feedback_rows.open_window(store, meeting.id, now, now + timedelta(hours=9))  # unchanged
    window = await feedback_rows.window(store, meeting.id)
    assert window == feedback_rows.Window(now, now + timedelta(hours=1))
    summary = Kind.FEEDBACK_SUMMARY.value
    assert await feedback_rows.closed_windows(store, now, summary) == []
    assert await feedback_rows.closed_windows(store, now + timedelta(hours=1), summary) == [
        meeting.id
    ]


async def test_platform_state(store: Store) -> None:
    assert await platform_state.get(store, "discord", "tree") is None
    await platform_state.put(store, "discord", "tree", "abc")
    await platform_state.put(store, "discord", "tree", "def")
    assert await platform_state.get(store, "discord", "tree") == "def"


async def test_rsvps_keep_answer_order_and_withdraw(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    now = meeting.start - timedelta(hours=1)  # a burst: every press in the same second
    for user, answer in (("U5", "going"), ("U2", "maybe"), ("U9", "going"), ("U4", "no")):
        await people.set_rsvp(store, meeting.id, user, answer, now)
    await people.set_rsvp(store, meeting.id, "U5", "going", now)  # same answer: keeps place
    assert await people.rsvps(store, meeting.id) == [
        ("U5", "going"), ("U2", "maybe"), ("U9", "going"), ("U4", "no"),
    ]  # fmt: skip
    await people.set_rsvp(store, meeting.id, "U2", "going", now)  # changed: moves last
    await people.set_rsvp(store, meeting.id, "U9", None, now)  # withdrawn
    assert await people.rsvps(store, meeting.id) == [
        ("U5", "going"), ("U4", "no"), ("U2", "going"),
    ]  # fmt: skip


async def test_series_rsvps_and_private_reminders(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    now = meeting.start
    assert await people.add_private_reminder(store, meeting.id, "U7")
    assert not await people.add_private_reminder(store, meeting.id, "U7")
    await people.add_private_reminder(store, meeting.id, "U3")
    assert await people.private_reminders(store, meeting.id) == ["U3", "U7"]
    await store.run(
        "INSERT INTO series (id, platform, workspace_id, channel_id, owner_id, title, days, "
        "hour, minute, tz, length_s, provider, status, feedback, created_at) "
        "VALUES ('ser1','slack','T1','C1','U1','S','0',9,0,'UTC',900,'jitsi','active',1,?)",
        ["2000-01-01T00:00:00Z"],
    )
    await people.set_series_rsvp(store, "ser1", "U8", "going", now)
    await people.set_series_rsvp(store, "ser1", "U8", "maybe", now)
    assert await people.series_rsvps(store, "ser1") == [("U8", "maybe")]
    await people.set_series_rsvp(store, "ser1", "U8", None, now)
    assert await people.series_rsvps(store, "ser1") == []


async def test_attendance_sessions_open_and_close(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    t = meeting.start
    await people.open_session(store, meeting.id, "U2", "Raj", t)
    assert not await people.close_session(store, meeting.id, None, "Bob", t)  # never joined
    await people.open_session(store, meeting.id, None, "Bob", t + timedelta(minutes=1))
    assert await people.close_session(store, meeting.id, "U2", "Raj", t + timedelta(minutes=5))
    await people.open_session(store, meeting.id, "U2", "Raj", t + timedelta(minutes=7))
    assert await people.close_session(store, meeting.id, None, "Bob", t + timedelta(minutes=9))
    assert not await people.close_session(store, meeting.id, None, "Bob", t + timedelta(minutes=9))
    got = [
        (s["person_key"], s["name"], s["joined"] - t, s["left"] and s["left"] - t)
        for s in await people.sessions(store, meeting.id)
    ]
    minutes = [timedelta(minutes=n) for n in range(10)]
    assert got == [
        ("U2", "Raj", minutes[0], minutes[5]),
        (None, "Bob", minutes[1], minutes[9]),
        ("U2", "Raj", minutes[7], None),
    ]


async def test_sequence_and_feed_versions(store: Store) -> None:
    meeting = a_meeting()
    await meeting_rows.insert_meeting(store, meeting, BOX)
    assert await people.meeting_sequence(store, meeting.id) == 0
    assert await people.bump_sequence(store, meeting.id) == 1
    assert await people.bump_sequence(store, meeting.id) == 2
    assert await people.meeting_sequence(store, meeting.id) == 2
    assert await people.feed_version(store, "slack", "T1", "U1") == 1
    assert await people.feed_version(store, "slack", "T1", "U1") == 1
    assert await people.reset_feed(store, "slack", "T1", "U1") == 2
    assert await people.feed_version(store, "slack", "T1", "U1") == 2
    assert await people.reset_feed(store, "slack", "T1", "U9") == 2  # never asked: old v1 dies


async def test_a_persons_feed_lists_only_their_meetings(store: Store) -> None:
    since = next_monday_at(9)
    organized = a_meeting("org111", organizer_id="U5", invitees=())
    invited = a_meeting("inv111", invitees=("U55", "U5"))
    declined = a_meeting("dec111", invitees=("U5",))
    going = a_meeting("goi111", invitees=())
    lookalike = a_meeting("lik111", invitees=("U5_", "XU5", "u5"))  # not U5
    past = a_meeting("pas111", organizer_id="U5", end=since - timedelta(minutes=1))
    other = a_meeting("oth111", organizer_id="U5", workspace_id="T2")
    for meeting in (organized, invited, declined, going, lookalike, past, other):
        await meeting_rows.insert_meeting(store, meeting, BOX)
    await people.set_rsvp(store, declined.id, "U5", "no", since)
    await people.set_rsvp(store, going.id, "U5", "going", since)
    found = await people.meetings_for_person(store, "slack", "T1", "U5", since)
    assert sorted(m.id for m in found) == sorted([organized.id, invited.id, going.id])
    assert all(m.host_url is None for m in found)  # a feed never even reads host links


# --- Slack installs and OAuth states ---------------------------------------------------


def an_install(user: str, token: str, **changes: object) -> Installation:
    fields: dict[str, object] = {
        "app_id": "A1",
        "team_id": "T1",
        "team_name": "Team",
        "user_id": user,
        "user_token": f"xoxp-{user}",
        "user_scopes": "search:read",
        "bot_token": token,
        "bot_id": "B1",
        "bot_user_id": "UBOT",
        "bot_scopes": "commands,chat:write",
        "bot_refresh_token": f"xoxe-{token}",
        "bot_token_expires_at": int(next_monday_at(12).timestamp()),
        "installed_at": next_monday_at(8),
    }
    fields.update(changes)
    return Installation(**fields)  # type: ignore[arg-type]


async def test_slack_installs_round_trip_and_the_newest_bot_token_wins(store: Store) -> None:
    clock = FakeClock(next_monday_at(9))
    installs = StoreInstallationStore(store, clock)
    await installs.async_save(an_install("U1", "xoxb-old"))
    clock.advance(minutes=5)
    await installs.async_save(an_install("U2", "xoxb-new"))
    found = await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert found is not None and found.user_token == "xoxp-U1"
    assert found.bot_token == "xoxb-new"  # the workspace's newest bot token
    assert found.bot_scopes == ["commands", "chat:write"]
    assert found.bot_token_expires_at == int(next_monday_at(12).timestamp())
    latest = await installs.async_find_installation(enterprise_id=None, team_id="T1")
    assert latest is not None and latest.user_id == "U2"
    clock.advance(minutes=5)
    bot = an_install("U2", "xoxb-rotated").to_bot()
    await installs.async_save_bot(bot)  # token rotation, bot-only
    found_bot = await installs.async_find_bot(enterprise_id=None, team_id="T1")
    assert found_bot is not None and found_bot.bot_token == "xoxb-rotated"
    assert await installs.async_find_bot(enterprise_id=None, team_id="T9") is None
    await installs.async_delete_bot(enterprise_id=None, team_id="T1")
    assert await installs.async_find_bot(enterprise_id=None, team_id="T1") is None
    kept = await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1")
    assert kept is not None and kept.bot_token is None and kept.user_token == "xoxp-U1"
    data = " ".join(str(row["data"]) for row in await store.all("SELECT data FROM slack_installs"))
    assert "xoxb" not in data and "xoxe-xoxb" not in data  # no bot token left anywhere
    await installs.async_delete_installation(enterprise_id=None, team_id="T1")
    assert await installs.async_find_installation(enterprise_id=None, team_id="T1") is None


async def test_an_org_wide_install_is_found_by_its_enterprise(store: Store) -> None:
    installs = StoreInstallationStore(store, FakeClock(next_monday_at(9)))
    org = an_install("U1", "xoxb-org", enterprise_id="E1", team_id=None, is_enterprise_install=True)
    await installs.async_save(org)
    found = await installs.async_find_installation(
        enterprise_id="E1", team_id="T5", is_enterprise_install=True
    )
    assert found is not None and found.bot_token == "xoxb-org" and found.is_enterprise_install


async def test_oauth_states_are_single_use_and_expire(store: Store) -> None:
    clock = FakeClock(next_monday_at(9))
    states = StoreOAuthStateStore(store, clock, expiration_seconds=600)
    first = await states.async_issue()
    assert await states.async_consume(first)
    assert not await states.async_consume(first)  # a replayed redirect
    late = await states.async_issue()
    clock.advance(seconds=601)
    assert not await states.async_consume(late)
    await states.async_issue()  # prunes the expired one
    assert await store.value("SELECT COUNT(*) FROM slack_oauth_states") == 1
    assert not await states.async_consume("never-issued")


def test_installs_slack_sdk_kept_in_the_file_come_across(db_file: str) -> None:
    """Deployments before m008 kept installs in slack_sdk's own SQLite table."""
    from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore

    old = Database(db_file)
    MIGRATIONS.apply(old, stop_before="m008_people_and_calendars")
    old.close()
    legacy = SQLite3InstallationStore(database=db_file, client_id="C")
    legacy.save(an_install("U1", "xoxb-first"))
    legacy.save(an_install("U1", "xoxb-second"))  # the same installer again: the latest counts
    legacy.save(an_install("U2", "xoxb-third", bot_token_expires_at=None))

    async def read() -> tuple[Installation | None, Installation | None]:
        store = SqliteStore(open_database(db_file).conn, db_file)
        installs = StoreInstallationStore(store, FakeClock(next_monday_at(9)))
        found = (
            await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="U1"),
            await installs.async_find_installation(enterprise_id=None, team_id="T1", user_id="U2"),
        )
        assert await store.value("SELECT COUNT(*) FROM slack_installs") == 2
        await store.close()
        return found

    one, two = asyncio.run(read())
    assert one is not None and one.user_token == "xoxp-U1"
    assert two is not None and two.bot_scopes == ["commands", "chat:write"]
    assert {one.bot_token, two.bot_token} <= {"xoxb-second", "xoxb-third"}
