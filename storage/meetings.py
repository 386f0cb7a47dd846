"""Meeting rows ↔ `Meeting` dataclasses. Host links are sealed on the way in and
opened only by `host_link`, for `/meet host`: a meeting read for anything else (a
reminder, a card, a list, a calendar) carries none, so plaintext host links are
rarely even in memory, and no reminder pays for a decryption."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.models import Meeting, MeetingStatus
from storage.db import from_text, to_text
from storage.engine import Row, Store
from storage.secrets import SecretBox

OPEN = (MeetingStatus.SCHEDULED.value, MeetingStatus.ACTIVE.value)


async def insert_meeting(store: Store, meeting: Meeting, box: SecretBox) -> None:
    await store.run(
        """INSERT INTO meetings (id, platform, workspace_id, channel_id, organizer_id, title,
            start_at, end_at, provider, room_id, join_url, host_url_sealed, status, remind_s,
            instant, feedback, invitees, message_ref, series_id, created_at)
           VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)""",
        [
            meeting.id,
            meeting.platform,
            meeting.workspace_id,
            meeting.channel_id,
            meeting.organizer_id,
            meeting.title,
            to_text(meeting.start),
            to_text(meeting.end),
            meeting.provider,
            meeting.room_id,
            meeting.join_url,
            box.seal(meeting.host_url),
            meeting.status.value,
            int(meeting.remind.total_seconds()),
            int(meeting.instant),
            int(meeting.feedback),
            json.dumps(list(meeting.invitees)),
            meeting.message_ref,
            meeting.series_id,
            to_text(meeting.created_at or meeting.start),
        ],
    )


async def id_taken(store: Store, candidate: str) -> bool:
    """Meetings and series share one id space, so `/meet cancel <id>` is never ambiguous."""
    sql = "SELECT 1 AS taken FROM meetings WHERE id = ? UNION ALL SELECT 1 FROM series WHERE id = ?"
    return await store.one(sql, [candidate, candidate]) is not None


async def get_meeting(store: Store, meeting_id: str) -> Meeting | None:
    row = await store.one("SELECT * FROM meetings WHERE id = ?", [meeting_id])
    return _meeting(row) if row else None


async def find_by_room(store: Store, provider: str, room_id: str) -> Meeting | None:
    row = await store.one(
        "SELECT * FROM meetings WHERE provider = ? AND room_id = ?", [provider, room_id]
    )
    return _meeting(row) if row else None


async def channel_meetings(
    store: Store, platform: str, workspace_id: str, channel_id: str, now: datetime
) -> list[Meeting]:
    """Upcoming and running meetings of one channel, soonest first."""
    rows = await store.all(
        """SELECT * FROM meetings
           WHERE platform = ? AND workspace_id = ? AND channel_id = ?
             AND status IN (?, ?) AND end_at > ?
           ORDER BY start_at LIMIT 50""",
        [platform, workspace_id, channel_id, *OPEN, to_text(now)],
    )
    return [_meeting(row) for row in rows]


async def series_meetings(store: Store, series_id: str) -> list[Meeting]:
    """The open meetings of one series (uses the meetings_series index)."""
    rows = await store.all(
        "SELECT * FROM meetings WHERE series_id = ? AND status IN (?, ?)", [series_id, *OPEN]
    )
    return [_meeting(row) for row in rows]


# The column each event is due by (m007 indexes each over open meetings only); the
# start notice is never sent for an instant meeting.
_EVENT_RANGES = {
    "reminder": ("meetings_due_remind", "remind_at", ""),
    "start": ("meetings_due_start", "start_at", " AND m.instant = 0"),
    "end": ("meetings_due_end", "end_at", ""),
}

Cursor = tuple[str, str]  # (due text, meeting id) of the last row of the page before
FIRST: Cursor = ("", "")


async def due_events(
    store: Store, kind: str, until: datetime, after: Cursor = FIRST, limit: int = 200
) -> list[Cursor]:
    """One page of (due, meeting id) for open meetings whose `kind` event ("reminder",
    "start" or "end") is due by `until` and not yet delivered, by due time.

    Ids only, from an index over open meetings: the cost is what is due, not how many
    meetings are pending. Pass the last row back as `after` for the next page."""
    index, column, extra = _EVENT_RANGES[kind]
    sql = f"""SELECT m.{column} AS due, m.id AS id FROM meetings m{store.index_hint(index)}
              WHERE m.status IN ('scheduled', 'active') AND m.{column} <= ?
                AND (m.{column}, m.id) > (?, ?){extra}
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subject = m.id
                                AND d.kind = ? AND d.done_at IS NOT NULL)
              ORDER BY m.{column}, m.id LIMIT ?"""  # noqa: S608 (names from the table above)
    rows = await store.all(sql, [to_text(until), *after, kind, limit])
    return [(str(row["due"]), str(row["id"])) for row in rows]


async def open_meetings_of(
    store: Store, platform: str, workspace_id: str, user_id: str, limit: int
) -> list[tuple[str, str]]:
    """(id, title) of the open meetings a person organizes in one workspace, soonest first.

    Only ids and titles are read: pickers and autocomplete never need links."""
    rows = await store.all(
        """SELECT id, title FROM meetings
           WHERE platform = ? AND workspace_id = ? AND organizer_id = ? AND status IN (?, ?)
           ORDER BY start_at LIMIT ?""",
        [platform, workspace_id, user_id, *OPEN, limit],
    )
    return [(str(row["id"]), str(row["title"])) for row in rows]


async def set_status(
    store: Store, meeting_id: str, status: MeetingStatus, only_if_open: bool = True
) -> bool:
    """Move a meeting to `status`; False if it was no longer open (someone else won)."""
    sql = "UPDATE meetings SET status = ? WHERE id = ?"
    params: list[Any] = [status.value, meeting_id]
    if only_if_open:
        sql += " AND status IN (?, ?)"
        params += list(OPEN)
    return await store.run(sql, params) == 1


async def move_meeting(
    store: Store, meeting: Meeting, box: SecretBox, forget: tuple[str, ...]
) -> bool:
    """Give an open meeting its new times and room, and forget the deliveries the old
    times had made (a reminder already sent must go out again for the new time), in
    one transaction. False if the meeting was closed meanwhile."""
    async with store.transaction() as tx:
        changed = await tx.run(
            """UPDATE meetings SET start_at = ?, end_at = ?, remind_s = ?, room_id = ?,
                   join_url = ?, host_url_sealed = ?, status = ?
               WHERE id = ? AND status IN (?, ?)""",
            [
                to_text(meeting.start),
                to_text(meeting.end),
                int(meeting.remind.total_seconds()),
                meeting.room_id,
                meeting.join_url,
                box.seal(meeting.host_url),
                meeting.status.value,
                meeting.id,
                *OPEN,
            ],
        )
        if changed and forget:
            marks = ",".join("?" * len(forget))
            await tx.run(
                f"DELETE FROM deliveries WHERE subject = ? AND kind IN ({marks})",  # noqa: S608
                [meeting.id, *forget],
            )
        return changed == 1


async def rename_meeting(store: Store, meeting_id: str, title: str) -> None:
    await store.run("UPDATE meetings SET title = ? WHERE id = ?", [title, meeting_id])


async def set_message_ref(store: Store, meeting_id: str, message_ref: str | None) -> None:
    await store.run("UPDATE meetings SET message_ref = ? WHERE id = ?", [message_ref, meeting_id])




async def host_link(store: Store, meeting_id: str, box: SecretBox) -> str | None:
    """The meeting's host link, opened: only `/meet host` asks, and only then is it
    decrypted (a meeting read for anything else carries none)."""
    sealed = await store.value("SELECT host_url_sealed FROM meetings WHERE id = ?", [meeting_id])
    return box.open(sealed)


def _meeting(row: Row) -> Meeting:
    return Meeting(
        id=row["id"],
        platform=row["platform"],
        workspace_id=row["workspace_id"],
        channel_id=row["channel_id"],
        organizer_id=row["organizer_id"],
        title=row["title"],
        start=_instant(row["start_at"]),
        end=_instant(row["end_at"]),
        provider=row["provider"],
        room_id=row["room_id"],
        join_url=row["join_url"],
        status=MeetingStatus(row["status"]),
        remind=timedelta(seconds=row["remind_s"]),
        instant=bool(row["instant"]),
        feedback=bool(row["feedback"]),
        invitees=tuple(json.loads(row["invitees"])),
        message_ref=row["message_ref"],
        series_id=row["series_id"],
        created_at=_instant(row["created_at"]),
    )


def _instant(text: str) -> datetime:
    """`storage.db.from_text` for the fixed-width UTC text `to_text` writes, about ten
    times faster than strptime (a meeting row holds three, read on every firing)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is UTC else from_text(text)
