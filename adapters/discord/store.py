"""The little the Discord adapter keeps for itself in convene's database.

`discord_state` holds the hash of the last globally synced command tree, so a
restart does not re-upload unchanged commands (Discord rate-limits global
command writes hard). The table comes from the versioned migrations
(`storage.migrations.m004_discord_state`); losing its rows only costs one sync.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import write

_OPEN = ("scheduled", "active")


def get_state(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM discord_state WHERE key = ?", [key]).fetchone()
    return None if row is None else str(row[0])


def set_state(db: Database, key: str, value: str) -> None:
    with write(db):
        db.execute(
            "INSERT INTO discord_state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


def open_meetings_of(
    db: Database, platform: str, guild_id: str, user_id: str, limit: int = 100
) -> list[tuple[str, str]]:
    """(id, title) of the open meetings a person organizes in one guild, soonest first.

    Only ids and titles are read: autocomplete never needs links.
    """
    rows = db.execute(
        """SELECT id, title FROM meetings
           WHERE platform = ? AND workspace_id = ? AND organizer_id = ? AND status IN (?, ?)
           ORDER BY start_at LIMIT ?""",
        [platform, guild_id, user_id, *_OPEN, limit],
    ).fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]
