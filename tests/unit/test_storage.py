"""The database: migrations on an old file, refusing foreign files, WAL, claims."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import deliveries
from storage.db import DatabaseError, open_database
from storage.migrations import MIGRATIONS
from tests.moments import next_monday_at

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
