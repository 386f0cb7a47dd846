"""Opening the SQLite database: pragmas, migrations, and the errors both engines raise.

Every SQLite write transaction opens with BEGIN IMMEDIATE (storage.engine's
SqliteStore): a deferred transaction that reads and then writes can fail
with "database is locked" whatever busy_timeout says, because SQLite cannot
upgrade its read lock while another writer waits.

SQLite waits for a lock by blocking its caller, and convene's caller is the
event loop. So once the database is open the busy timeout is short
(BUSY_TIMEOUT_MS): a write that cannot get the lock in that time raises
`StorageBusy` instead of stalling every acknowledgement behind it. Commands
answer "busy, try again"; timers and sweeps simply try again later. Reads
never wait in WAL mode. Opening and migrating may wait longer (START_TIMEOUT_MS):
nothing is being served yet.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from storage.migrations import MIGRATIONS

START_TIMEOUT_MS = 5000
BUSY_TIMEOUT_MS = 100  # the longest one write may hold up the event loop


class DatabaseError(Exception):
    """The database cannot be used; the message says which file and what to do."""


class StorageBusy(DatabaseError):
    """Another process holds the write lock (or the disk refused the write): nothing
    was written. Safe to retry later; the message is one sentence for a user."""


def open_database(path: str | Path | None = None) -> Database:
    """Open (or create) the database, check it is convene's, and migrate it.

    `path=None` opens a private in-memory database, for tests.
    """
    label = str(path) if path is not None else ":memory:"
    try:
        if path is None:
            db = Database(memory=True)
        else:
            db = Database(sqlite3.connect(str(path), timeout=START_TIMEOUT_MS / 1000))
        db.execute(f"PRAGMA busy_timeout = {START_TIMEOUT_MS}")
        _refuse_foreign(db, label)
        if path is not None:
            db.enable_wal()
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        MIGRATIONS.apply(db)
        _prove_writable(db)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(_explain(label, exc)) from exc
    return db


def _prove_writable(db: Database) -> None:
    """Fail at start, not at the first meeting, when the file cannot be written
    (read-only, or another program holds the write lock): rewrite the schema
    version in place, which changes nothing."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {int(version)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _refuse_foreign(db: Database, label: str) -> None:
    """Never write into a database some other program owns."""
    tables = set(db.table_names())
    if tables and "_sqlite_migrations" not in tables:
        raise DatabaseError(
            f"{label} is not a convene database (it has tables {', '.join(sorted(tables)[:3])}"
            "…); point CONVENE_DB at a new file."
        )


def _explain(label: str, exc: sqlite3.DatabaseError) -> str:
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return f"{label} is locked by another program; stop it or point CONVENE_DB elsewhere."
    if "readonly" in text or "read-only" in text:
        return f"{label} is read-only; give convene write access or point CONVENE_DB elsewhere."
    if "not a database" in text or "malformed" in text:
        return f"{label} is not an SQLite database; point CONVENE_DB at a new file."
    if "unable to open" in text:
        return f"convene cannot open {label}; check that its folder exists and is writable."
    return f"convene cannot use {label}: {exc}."


def is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("locked", "busy", "full", "disk i/o"))


def busy_error(exc: sqlite3.OperationalError) -> StorageBusy:
    if "full" in str(exc).lower():
        return StorageBusy(
            "convene's database is full, so nothing was saved; ask an admin to free disk space."
        )
    return StorageBusy(
        "convene's database is busy right now, so nothing was saved; try again in a moment."
    )


def to_text(moment: datetime) -> str:
    """UTC instants as fixed-width text, so they sort and compare as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_text(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
