"""Series rows ↔ `Series` dataclasses.

The rule is kept as RFC 5545 text in the `rrule` column, DTSTART (the anchor date and
local wall time, floating: the zone is the `tz` column) and then the RRULE:
`DTSTART:20270119T100000\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU`. The older
`days`, `hour` and `minute` columns are still written (plain weekly rules fill them
as before) but no longer read.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

from bot.models import Rule, Series, SeriesStatus
from storage.db import from_text, to_text
from storage.engine import Row, Store


async def insert_series(store: Store, series: Series) -> None:
    await store.run(
        """INSERT INTO series (id, platform, workspace_id, channel_id, owner_id, title, days,
            hour, minute, rrule, tz, length_s, provider, status, feedback, skipped,
            created_at)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        [
            series.id,
            series.platform,
            series.workspace_id,
            series.channel_id,
            series.owner_id,
            series.title,
            ",".join(str(day) for day in sorted(series.rule.days)),
            series.rule.hour,
            series.rule.minute,
            recurrence_text(series.rule),
            series.tz,
            int(series.length.total_seconds()),
            series.provider,
            series.status.value,
            int(series.feedback),
            json.dumps(sorted(series.skipped)),
            to_text(series.created_at) if series.created_at else "1970-01-01T00:00:00Z",
        ],
    )


async def change_rule(store: Store, series_id: str, rule: Rule, length: timedelta) -> None:
    """A series' new rule and length; skips of days it no longer holds are harmless."""
    await store.run(
        "UPDATE series SET days = ?, hour = ?, minute = ?, rrule = ?, length_s = ? WHERE id = ?",
        [
            ",".join(str(day) for day in sorted(rule.days)),
            rule.hour,
            rule.minute,
            recurrence_text(rule),
            int(length.total_seconds()),
            series_id,
        ],
    )


async def get_series(store: Store, series_id: str) -> Series | None:
    row = await store.one("SELECT * FROM series WHERE id = ?", [series_id])
    return _series(row) if row else None


async def channel_series(
    store: Store, platform: str, workspace_id: str, channel_id: str
) -> list[Series]:
    rows = await store.all(
        "SELECT * FROM series WHERE platform = ? AND workspace_id = ? AND channel_id = ? "
        "AND status != ? ORDER BY created_at",
        [platform, workspace_id, channel_id, SeriesStatus.CANCELLED.value],
    )
    return [_series(row) for row in rows]


async def active_series(store: Store) -> list[Series]:
    rows = await store.all("SELECT * FROM series WHERE status = ?", [SeriesStatus.ACTIVE.value])
    return [_series(row) for row in rows]


async def set_series_status(store: Store, series_id: str, status: SeriesStatus) -> None:
    await store.run("UPDATE series SET status = ? WHERE id = ?", [status.value, series_id])


async def add_skip(store: Store, series_id: str, day: date) -> None:
    """Read, add and write back in one transaction. The first no-op UPDATE takes the
    row's lock on PostgreSQL (SQLite holds the write lock already), so two skips made
    at once on two replicas both stay."""
    async with store.transaction() as tx:
        await tx.run("UPDATE series SET skipped = skipped WHERE id = ?", [series_id])
        text = await tx.value("SELECT skipped FROM series WHERE id = ?", [series_id])
        if text is None:
            return
        skipped = set(json.loads(text)) | {day.isoformat()}
        await tx.run(
            "UPDATE series SET skipped = ? WHERE id = ?", [json.dumps(sorted(skipped)), series_id]
        )


def _series(row: Row) -> Series:
    return Series(
        id=row["id"],
        platform=row["platform"],
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        owner_id=row["owner_id"],
        title=row["title"],
        rule=rule_from_text(row["rrule"]),
        tz=row["tz"],
        length=timedelta(seconds=row["length_s"]),
        provider=row["provider"],
        status=SeriesStatus(row["status"]),
        feedback=bool(row["feedback"]),
        skipped=frozenset(json.loads(row["skipped"])),
        created_at=from_text(row["created_at"]),
    )


def recurrence_text(rule: Rule) -> str:
    """DTSTART and RRULE lines, as rrulestr reads them back."""
    if rule.anchor is None or rule.until_day is not None or rule.lasts is not None:
        raise ValueError("only an anchored rule (bot.recurrence.anchored) is stored")
    start = datetime.combine(rule.anchor, time(rule.hour, rule.minute))
    return f"DTSTART:{start:%Y%m%dT%H%M%S}\nRRULE:{rule.rrule}"


def rule_from_text(text: str) -> Rule:
    pairs = (line.partition(":") for line in text.splitlines())
    lines = {name: value for name, _, value in pairs}
    start = datetime.strptime(lines["DTSTART"], "%Y%m%dT%H%M%S")
    return Rule(lines["RRULE"], start.hour, start.minute, anchor=start.date())


NEVER = "9999-12-31T23:59:59Z"  # next_open_at of a series with no occurrence left


async def unplanned_series(store: Store, after: str | None, limit: int) -> list[str]:
    """One page of ids of active series whose next opening is not yet worked out
    (next_open_at NULL: new, or from before m007), by id; `after` is the last id of
    the page before, or None for the first page."""
    key = after or ""
    rows = await store.all(
        f"""SELECT id FROM series{store.index_hint("series_due")}
            WHERE status = ? AND next_open_at IS NULL AND id > ?
            ORDER BY id LIMIT ?""",  # noqa: S608 (an index name, not input)
        [SeriesStatus.ACTIVE.value, key, limit],
    )
    return [str(row["id"]) for row in rows]


async def opening_series(
    store: Store, now: datetime, after: tuple[str, str], limit: int
) -> list[tuple[str, str]]:
    """One page of (next_open_at, id) of active series whose next opening is due by
    `now`, soonest first; pass the last row back as `after` for the next page."""
    rows = await store.all(
        f"""SELECT next_open_at, id FROM series{store.index_hint("series_due")}
            WHERE status = ? AND next_open_at <= ? AND (next_open_at, id) > (?, ?)
            ORDER BY next_open_at, id LIMIT ?""",  # noqa: S608 (an index name, not input)
        [SeriesStatus.ACTIVE.value, to_text(now), *after, limit],
    )
    return [(str(row["next_open_at"]), str(row["id"])) for row in rows]


def opening_text(when: datetime | None) -> str:
    return to_text(when) if when else NEVER


async def next_opens(store: Store) -> dict[str, str | None]:
    """next_open_at of every active series, by id (start-up compares against it)."""
    rows = await store.all(
        "SELECT id, next_open_at FROM series WHERE status = ?", [SeriesStatus.ACTIVE.value]
    )
    return {str(row["id"]): row["next_open_at"] for row in rows}


async def replan_workspace(store: Store, platform: str, workspace_id: str) -> None:
    """Forget the next openings of a workspace's series (its lead time changed): the
    next sweep works them out again."""
    await store.run(
        "UPDATE series SET next_open_at = NULL WHERE platform = ? AND workspace_id = ?",
        [platform, workspace_id],
    )


async def set_next_open(store: Store, opens: list[tuple[str, datetime | None]]) -> None:
    """Record when each series' next occurrence opens (None: it has none left), in one
    transaction."""
    if not opens:
        return
    await store.run_many(
        "UPDATE series SET next_open_at = ? WHERE id = ?",
        [(opening_text(when), series_id) for series_id, when in opens],
    )
