"""Moving an SQLite deployment into PostgreSQL (`convene migrate --copy-from FILE`).

The SQLite file is migrated first, so both sides have the same tables; then every
table is copied in foreign-key order inside ONE PostgreSQL transaction, and the
row counts are compared before it commits. Either everything arrives or nothing
does. Values are copied as they are stored: instants stay fixed-width UTC text and
sealed secrets (host links) stay the same ciphertext, so the same
CONVENE_SECRET_KEY opens them. Generated columns (meetings.remind_at) are not copied;
PostgreSQL computes its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storage.db import DatabaseError
from storage.engine import PostgresStore, SqliteStore, Store, open_store
from storage.pg_migrations import migrate

# Parents before children. A new table must be added here, or copying refuses to start.
TABLES = (
    "workspaces",
    "users",
    "series",
    "meetings",
    "deliveries",
    "attendance",
    "attendance_sessions",
    "feedback",
    "feedback_windows",
    "platform_state",
    "rsvps",
    "series_rsvps",
    "private_reminders",
    "calendar_feeds",
    "slack_installs",
    "slack_oauth_states",
)
# Tables in an SQLite file that are not convene's data: bookkeeping, and slack_sdk's
# own stores (their installs came into slack_installs with m008).
NOT_COPIED = frozenset({"_sqlite_migrations", "slack_installations", "slack_bots", "oauth_states"})
PAGE = 1000


async def copy_sqlite(source_path: str, target: PostgresStore) -> dict[str, int]:
    """Copy every convene table of the SQLite file into `target` (opened); rows per
    table. Raises DatabaseError, with nothing written, if the target already holds
    convene data or the copy came out different."""
    if not Path(source_path).is_file():
        raise DatabaseError(f"{source_path} does not exist, so there is nothing to copy.")
    source = open_store(source_path)  # opening migrates it
    assert isinstance(source, SqliteStore)
    try:
        await migrate(target)
        return await _copy(source, target, source_path)
    finally:
        await source.close()


async def _copy(source: SqliteStore, target: PostgresStore, label: str) -> dict[str, int]:
    names = {
        str(row["name"])
        for row in await source.all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    unknown = sorted(names - set(TABLES) - NOT_COPIED)
    if unknown:
        raise DatabaseError(
            f"{label} has tables this version cannot copy ({', '.join(unknown)}); "
            "nothing was copied."
        )
    counts: dict[str, int] = {}
    async with target.transaction() as tx:
        for table in TABLES:
            if await tx.value(f"SELECT COUNT(*) FROM {table}"):  # noqa: S608 (names above)
                raise DatabaseError(
                    f"the PostgreSQL database already holds convene data ({table} has rows), "
                    "so nothing was copied; copy into a new, empty database."
                )
        for table in TABLES:
            counts[table] = await _copy_table(source, tx, table)
        for table, expected in counts.items():
            copied = int(await tx.value(f"SELECT COUNT(*) FROM {table}"))  # noqa: S608
            if copied != expected:
                raise DatabaseError(
                    f"copying {table} gave {copied} rows instead of {expected}; nothing was copied."
                )
    return counts


async def _copy_table(source: SqliteStore, tx: Store, table: str) -> int:
    info = await source.all("SELECT name, type, hidden FROM pragma_table_xinfo(?)", [table])
    columns = [(str(c["name"]), str(c["type"]).upper()) for c in info if c["hidden"] == 0]
    names = ", ".join(name for name, _ in columns)
    insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
    select = (
        f"SELECT rowid AS rowid_, {names} FROM {table} "  # noqa: S608 (names from the schema)
        "WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    total, after = 0, -(2**63)
    while rows := await source.all(select, [after, PAGE]):
        after = rows[-1]["rowid_"]
        await tx.run_many(
            insert, [[_typed(row[name], kind) for name, kind in columns] for row in rows]
        )
        total += len(rows)
    return total


def _typed(value: Any, kind: str) -> Any:
    """A value as its declared column type: SQLite keeps whatever it was given, and
    PostgreSQL refuses an integer in a TEXT column."""
    if value is None:
        return None
    if kind == "TEXT" and not isinstance(value, str):
        return value.decode() if isinstance(value, bytes) else str(value)
    if kind == "INTEGER" and not isinstance(value, int):
        return int(value)
    return value
