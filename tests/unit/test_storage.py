"""The database: migrations on an old file, refusing foreign files, WAL, claims."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from sqlite_utils import Database

from storage import deliveries
from storage.db import DatabaseError, open_database
from storage.migrations import MIGRATIONS
from tests.moments import at, next_clock_change, next_monday_at

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


def test_claims_are_exclusive_until_the_lease_runs_out(db_file: str) -> None:
    now = next_monday_at(9)
    one, two = open_database(db_file), open_database(db_file)
    assert deliveries.claim(one, "m1", "reminder", now, "one")
    assert not deliveries.claim(two, "m1", "reminder", now, "two")
    # "one" died before finishing: after the lease, "two" may take over
    later = now + deliveries.LEASE + timedelta(seconds=1)
    assert deliveries.claim(two, "m1", "reminder", later, "two")
    deliveries.mark_done(two, "m1", "reminder", later)
    assert not deliveries.claim(one, "m1", "reminder", later + timedelta(hours=1), "one")
    assert deliveries.outcome(one, "m1", "reminder") == "sent"


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
def test_old_series_rows_migrate_to_rrules_with_the_same_occurrences(
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
    series = get_series(db, "ser234")
    assert series is not None and series.rule.days == frozenset(days)
    tz = ZoneInfo("Europe/Berlin")
    spring = next_clock_change(tz, forward=True)  # 02:30 is missing that night
    after = at(spring - timedelta(days=10), 0, 0, tz)
    got = [s for _, s in islice(series_occurrences(series, after), 30)]
    assert got == _old_occurrences(days, 2, 30, "Europe/Berlin", after.astimezone(tz).date(), 30)
