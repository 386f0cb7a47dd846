"""Rendering instants and durations for people, in their own zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def when(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """'Mon 1 Dec 14:00–14:45 Europe/Berlin' (the end date only when it differs).

    Around a DST change a bare wall time can mislead ('02:30–02:00' on a fall-back night,
    an hour that happens twice): then both times carry their zone abbreviation and UTC
    offset, 'Sun 31 Oct 02:30 CEST (UTC+2)–02:00 CET (UTC+1) Europe/Berlin'."""
    local_start = start.astimezone(tz)
    local_end = end.astimezone(tz)
    marked = (
        local_start.utcoffset() != local_end.utcoffset()
        or _repeated(local_start)
        or _repeated(local_end)
    )
    day = f"{local_start:%a} {local_start.day} {local_start:%b}"
    start_text = f"{local_start:%H:%M}" + (f" {_offset(local_start)}" if marked else "")
    end_text = f"{local_end:%H:%M}" + (f" {_offset(local_end)}" if marked else "")
    if local_end.date() != local_start.date():
        end_text = f"{local_end:%a} {local_end.day} {local_end:%b} {end_text}"
    return f"{day} {start_text}–{end_text} {tz.key}"


def _repeated(local: datetime) -> bool:
    """Whether this wall time happens twice in its zone (the hour a fall-back repeats)."""
    other = local.replace(fold=1 - local.fold)
    return other.utcoffset() != local.utcoffset() and _exists(other)


def _exists(local: datetime) -> bool:
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None, fold=0) == local.replace(tzinfo=None, fold=0)


def _offset(local: datetime) -> str:
    """'CEST (UTC+2)', or 'UTC-3' where the zone has no lettered abbreviation."""
    minutes = round((local.utcoffset() or timedelta(0)).total_seconds() / 60)
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{'-' if minutes < 0 else '+'}{hours}" + (f":{rest:02d}" if rest else "")
    name = local.tzname() or ""
    return f"{name} ({utc})" if name.isalpha() and name != "UTC" else utc


def phrase(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """The words that ask for exactly this meeting in `tz`: 'on 31 Oct 2027 at 02:30
    for 30m'. A wall time that happens twice names its offset ('at 02:30 UTC+1'), so
    reading the words back gives the same instant (tests rely on it)."""
    local = start.astimezone(tz)
    minutes = round((end - start).total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    length = f"{hours}h{rest:02d}" if hours and rest else f"{hours}h" if hours else f"{rest}m"
    zone = f" {_offset(local).split(' (')[-1].rstrip(')')}" if _repeated(local) else ""
    day = f"{local.day} {local:%b %Y}"
    return f"on {day} at {local:%H:%M}{zone} for {length}"


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
