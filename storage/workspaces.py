"""Per-workspace settings and per-user time zones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlite_utils import Database

from bot.models import WorkspaceSettings
from storage.db import write

_COLUMNS = {
    "provider": "provider",
    "default_length": "default_length_s",
    "reminder": "reminder_s",
    "feedback": "feedback",
    "feedback_window": "feedback_window_s",
}


def workspace_settings(
    db: Database, platform: str, workspace_id: str, defaults: WorkspaceSettings
) -> WorkspaceSettings:
    """Stored overrides on top of `defaults`; a column left NULL keeps the default."""
    row = db.execute(
        "SELECT provider, default_length_s, reminder_s, feedback, feedback_window_s "
        "FROM workspaces WHERE platform = ? AND workspace_id = ?",
        [platform, workspace_id],
    ).fetchone()
    if row is None:
        return defaults
    provider, length_s, reminder_s, feedback, window_s = row
    return WorkspaceSettings(
        provider=provider or defaults.provider,
        default_length=_seconds(length_s, defaults.default_length),
        reminder=_seconds(reminder_s, defaults.reminder),
        feedback=defaults.feedback if feedback is None else bool(feedback),
        feedback_window=_seconds(window_s, defaults.feedback_window),
    )


def update_workspace(db: Database, platform: str, workspace_id: str, **changes: Any) -> None:
    """Set some settings (keys of WorkspaceSettings); timedeltas stored as seconds."""
    values = {
        _COLUMNS[key]: int(value.total_seconds()) if isinstance(value, timedelta) else value
        for key, value in changes.items()
    }
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    updates = ", ".join(f"{column} = excluded.{column}" for column in values)
    with write(db):
        db.execute(
            f"INSERT INTO workspaces (platform, workspace_id, {columns}) VALUES (?, ?, {marks}) "  # noqa: S608 - column names come from _COLUMNS
            f"ON CONFLICT (platform, workspace_id) DO UPDATE SET {updates}",
            [platform, workspace_id, *values.values()],
        )


def user_timezone(db: Database, platform: str, workspace_id: str, user_id: str) -> str | None:
    row = db.execute(
        "SELECT tz FROM users WHERE platform = ? AND workspace_id = ? AND user_id = ?",
        [platform, workspace_id, user_id],
    ).fetchone()
    return row[0] if row else None


def set_user_timezone(
    db: Database, platform: str, workspace_id: str, user_id: str, tz: str
) -> None:
    with write(db):
        db.execute(
            "INSERT INTO users (platform, workspace_id, user_id, tz) VALUES (?,?,?,?) "
            "ON CONFLICT (platform, workspace_id, user_id) DO UPDATE SET tz = excluded.tz",
            [platform, workspace_id, user_id, tz],
        )


def _seconds(value: int | None, default: timedelta) -> timedelta:
    return default if value is None else timedelta(seconds=value)
