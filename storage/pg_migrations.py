"""Versioned schema for PostgreSQL, the same tables SQLite's migrations make.

`p001_schema` is what SQLite holds after m001–m007, made in one go (a PostgreSQL
deployment starts there); each later migration mirrors one SQLite migration, and
shares its statements where the SQL reads the same on both engines. Never edit a
migration that has shipped; add a new one.

Replicas starting together all call `migrate`: it runs every pending migration in
ONE transaction under a transaction-scoped advisory lock, so the first replica
applies them and the others wait, then find nothing pending. A failure rolls
everything back, so a database is never left half-migrated.
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.engine import Store
from storage.migrations import M008_TABLES

LOCK_KEY = 0x636F_6E76  # "conv": the advisory lock every replica's migration takes

# SQLite's m007 derives remind_at with strftime over the fixed-width UTC text. The same
# text from PostgreSQL: `timestamp` (no zone) reads 'YYYY-MM-DDTHH:MM:SSZ' and ignores
# the Z, so nothing depends on the session's time zone. Declared IMMUTABLE (the text
# casts are only STABLE because of DateStyle, which ISO input does not depend on) so a
# generated column may use it.
REMIND_AT_FUNCTION = """CREATE FUNCTION convene_remind_at(start_at TEXT, remind_s INTEGER,
        instant INTEGER) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN instant = 0 AND remind_s > 0 THEN
        to_char(start_at::timestamp - make_interval(secs => remind_s),
                'YYYY-MM-DD"T"HH24:MI:SS"Z"') END
$$"""

P001_SCHEMA = (
    """CREATE TABLE workspaces (
        platform TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        provider TEXT,
        default_length_s INTEGER,
        reminder_s INTEGER,
        feedback INTEGER,
        feedback_window_s INTEGER,
        PRIMARY KEY (platform, workspace_id)
    )""",
    """CREATE TABLE users (
        platform TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        tz TEXT NOT NULL,
        PRIMARY KEY (platform, workspace_id, user_id)
    )""",
    """CREATE TABLE series (
        id TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        owner_id TEXT NOT NULL,
        title TEXT NOT NULL,
        days TEXT NOT NULL,
        hour INTEGER NOT NULL,
        minute INTEGER NOT NULL,
        tz TEXT NOT NULL,
        length_s INTEGER NOT NULL,
        provider TEXT NOT NULL,
        status TEXT NOT NULL,
        feedback INTEGER NOT NULL,
        skipped TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        rrule TEXT NOT NULL DEFAULT '',
        next_open_at TEXT
    )""",
    REMIND_AT_FUNCTION,
    """CREATE TABLE meetings (
        id TEXT PRIMARY KEY,
        platform TEXT NOT NULL,
        workspace_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        organizer_id TEXT NOT NULL,
        title TEXT NOT NULL,
        start_at TEXT NOT NULL,
        end_at TEXT NOT NULL,
        provider TEXT NOT NULL,
        room_id TEXT NOT NULL,
        join_url TEXT NOT NULL,
        host_url_sealed TEXT,
        status TEXT NOT NULL,
        remind_s INTEGER NOT NULL,
        instant INTEGER NOT NULL,
        feedback INTEGER NOT NULL,
        invitees TEXT NOT NULL DEFAULT '[]',
        message_ref TEXT,
        series_id TEXT REFERENCES series(id),
        created_at TEXT NOT NULL,
        remind_at TEXT GENERATED ALWAYS AS (convene_remind_at(start_at, remind_s, instant)) STORED
    )""",
    "CREATE INDEX meetings_channel ON meetings (platform, workspace_id, channel_id, status)",
    "CREATE INDEX meetings_open_end ON meetings (status, end_at)",
    "CREATE INDEX meetings_room ON meetings (provider, room_id)",
    "CREATE INDEX meetings_series ON meetings (series_id, end_at)",
    """CREATE TABLE deliveries (
        subject TEXT NOT NULL,
        kind TEXT NOT NULL,
        claimed_at TEXT NOT NULL,
        claimed_by TEXT NOT NULL,
        done_at TEXT,
        outcome TEXT,
        PRIMARY KEY (subject, kind)
    )""",
    """CREATE TABLE attendance (
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        participant TEXT NOT NULL,
        joined_at TEXT NOT NULL,
        PRIMARY KEY (meeting_id, participant)
    )""",
    """CREATE TABLE feedback (
        meeting_id TEXT NOT NULL REFERENCES meetings(id),
        user_id TEXT NOT NULL,
        score INTEGER,
        comment TEXT NOT NULL DEFAULT '',
        answered_at TEXT NOT NULL,
        PRIMARY KEY (meeting_id, user_id)
    )""",
    """CREATE TABLE platform_state (
        platform TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (platform, key)
    )""",
    """CREATE TABLE feedback_windows (
        meeting_id TEXT PRIMARY KEY REFERENCES meetings(id),
        opened_at TEXT NOT NULL,
        closes_at TEXT NOT NULL
    )""",
    "CREATE INDEX feedback_windows_closing ON feedback_windows (closes_at)",
    *(
        f"CREATE INDEX meetings_due_{name} ON meetings ({column}, id) "
        "WHERE status IN ('scheduled', 'active')"
        for name, column in (("remind", "remind_at"), ("start", "start_at"), ("end", "end_at"))
    ),
    "CREATE INDEX series_due ON series (status, next_open_at, id)",
)

MIGRATIONS: tuple[tuple[str, Sequence[str]], ...] = (
    ("p001_schema", P001_SCHEMA),
    ("p002_people_and_calendars", M008_TABLES),
)


async def applied(store: Store) -> list[str]:
    """Names of the migrations this database has, in the order they were applied."""
    if await store.value("SELECT to_regclass('convene_migrations') IS NOT NULL") is not True:
        return []
    rows = await store.all("SELECT name FROM convene_migrations ORDER BY applied_at, name")
    return [str(row["name"]) for row in rows]


async def pending(store: Store) -> list[str]:
    """Names of the migrations this code knows and the database lacks (readiness)."""
    done = set(await applied(store))
    return [name for name, _ in MIGRATIONS if name not in done]


async def migrate(store: Store) -> list[str]:
    """Apply every pending migration in one transaction; the names applied (none when
    another replica got there first)."""
    async with store.transaction() as tx:
        await tx.run(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        await tx.run(
            "CREATE TABLE IF NOT EXISTS convene_migrations "
            "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
        )
        rows = await tx.all("SELECT name FROM convene_migrations")
        done = {str(row["name"]) for row in rows}
        todo = [(name, statements) for name, statements in MIGRATIONS if name not in done]
        for name, statements in todo:
            for statement in statements:
                await tx.run(statement)
            # The server's clock only labels the record; nothing reads it as "now".
            await tx.run(
                "INSERT INTO convene_migrations (name, applied_at) VALUES "
                "(?, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))",
                [name],
            )
    return [name for name, _ in todo]
