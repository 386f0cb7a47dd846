"""Rendering instants and durations for people, in their own zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """'Mon 1 Dec 14:00–14:45 Europe/Berlin' (the end date only when it differs)."""
    local_start = start.astimezone(tz)
    local_end = end.astimezone(tz)
    day = f"{local_start:%a} {local_start.day} {local_start:%b}"
    end_text = f"{local_end:%H:%M}"
    if local_end.date() != local_start.date():
        end_text = f"{local_end:%a} {local_end.day} {local_end:%b} {end_text}"
    return f"{day} {local_start:%H:%M}–{end_text} {tz.key}"


def duration(delta: timedelta) -> str:
    """'45 minutes', '1 hour', '1 hour 30 minutes'."""
    minutes = round(delta.total_seconds() / 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def suggest_zones(text: str, limit: int = 3) -> list[str]:
    """Zones whose name contains `text` (case-insensitive), for a helpful error."""
    needle = text.lower().replace(" ", "_")
    return sorted(zone for zone in available_timezones() if needle in zone.lower())[:limit]
