"""Small key/value bookkeeping a platform adapter keeps across restarts.

The Discord adapter stores the hash of the last globally synced command tree
here, so a restart does not re-upload unchanged commands (Discord rate-limits
global command writes hard). Losing a row only costs one sync.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage.db import write


def get(db: Database, platform: str, key: str) -> str | None:
    row = db.execute(
        "SELECT value FROM platform_state WHERE platform = ? AND key = ?", [platform, key]
    ).fetchone()
    return None if row is None else str(row[0])


def put(db: Database, platform: str, key: str, value: str) -> None:
    with write(db):
        db.execute(
            "INSERT INTO platform_state (platform, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (platform, key) DO UPDATE SET value = excluded.value",
            [platform, key, value],
        )
