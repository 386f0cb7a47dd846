"""Per-workspace settings and per-user time zones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.models import WorkspaceSettings
from storage.engine import Store

_COLUMNS = {
    "provider": "provider",
    "default_length": "default_length_s",
    "reminder": "reminder_s",
    "feedback": "feedback",
    "feedback_window": "feedback_window_s",
    "mentions": "mentions",
    "events": "events",
    "calls": "calls",
}
_SWITCHES = ("mentions", "events", "calls")  # NULL: on, the default


async def workspace_settings(
    store: Store, platform: str, workspace_id: str, defaults: WorkspaceSettings
) -> WorkspaceSettings:
    """Stored overrides on top of `defaults`; a column left NULL keeps the default."""
    row = await store.one(
        "SELECT provider, default_length_s, reminder_s, feedback, feedback_window_s, "
        "mentions, events, calls FROM workspaces WHERE platform = ? AND workspace_id = ?",
        [platform, workspace_id],
    )
    if row is None:
        return defaults
    switches = {
        name: getattr(defaults, name) if row[name] is None else bool(row[name])
        for name in _SWITCHES
    }
    return WorkspaceSettings(
        provider=row["provider"] or defaults.provider,
        default_length=_seconds(row["default_length_s"], defaults.default_length),
        reminder=_seconds(row["reminder_s"], defaults.reminder),
        feedback=defaults.feedback if row["feedback"] is None else bool(row["feedback"]),
        feedback_window=_seconds(row["feedback_window_s"], defaults.feedback_window),
        **switches,
    )


async def update_workspace(store: Store, platform: str, workspace_id: str, **changes: Any) -> None:
    """Set some settings (keys of WorkspaceSettings); timedeltas stored as seconds,
    switches as 0/1."""
    values = {_COLUMNS[key]: _stored(value) for key, value in changes.items()}
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    updates = ", ".join(f"{column} = excluded.{column}" for column in values)
    await store.run(
        f"INSERT INTO workspaces (platform, workspace_id, {columns}) VALUES (?, ?, {marks}) "  # noqa: S608 - column names come from _COLUMNS
        f"ON CONFLICT (platform, workspace_id) DO UPDATE SET {updates}",
        [platform, workspace_id, *values.values()],
    )


async def user_timezone(store: Store, platform: str, workspace_id: str, user_id: str) -> str | None:
    value = await store.value(
        "SELECT tz FROM users WHERE platform = ? AND workspace_id = ? AND user_id = ?",
        [platform, workspace_id, user_id],
    )
    return None if value is None else str(value)


async def set_user_timezone(
    store: Store, platform: str, workspace_id: str, user_id: str, tz: str
) -> None:
    await store.run(
        "INSERT INTO users (platform, workspace_id, user_id, tz) VALUES (?,?,?,?) "
        "ON CONFLICT (platform, workspace_id, user_id) DO UPDATE SET tz = excluded.tz",
        [platform, workspace_id, user_id, tz],
    )


def _stored(value: Any) -> Any:
    """What a setting's column holds: seconds for a length, 0/1 for a switch (PostgreSQL's
    INTEGER takes no Python bool)."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, bool):
        return int(value)
    return value


def _seconds(value: int | None, default: timedelta) -> timedelta:
    return default if value is None else timedelta(seconds=value)
