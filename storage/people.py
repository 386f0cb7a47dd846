"""What people say and do around a meeting: RSVPs, private reminders, attendance
sessions, and what their calendars show (the SEQUENCE of an event, a feed's version).

Answers are kept in the order they were given (`seq`; the instant has whole seconds
and a burst of presses shares one), so a card lists the first people who said Going.
Giving the same answer again keeps a person's place; changing it moves them last.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from bot.models import Meeting
from storage.db import from_text, to_text
from storage.engine import Store
from storage.meetings import _meeting

FEED_LIMIT = 200  # the most meetings one person's calendar feed lists
ATTENDING = ("going", "maybe")


async def set_rsvp(
    store: Store, meeting_id: str, user_id: str, answer: str | None, at: datetime
) -> None:
    """Record a person's answer to one meeting; None withdraws it."""
    if answer is None:
        await store.run(
            "DELETE FROM rsvps WHERE meeting_id = ? AND user_id = ?", [meeting_id, user_id]
        )
        return
    await store.run(
        """INSERT INTO rsvps (meeting_id, user_id, answer, answered_at, seq)
           VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM rsvps WHERE meeting_id = ?))
           ON CONFLICT (meeting_id, user_id) DO UPDATE SET
             seq = CASE WHEN rsvps.answer = excluded.answer THEN rsvps.seq ELSE excluded.seq END,
             answered_at = CASE WHEN rsvps.answer = excluded.answer THEN rsvps.answered_at
                                ELSE excluded.answered_at END,
             answer = excluded.answer""",
        [meeting_id, user_id, answer, to_text(at), meeting_id],
    )


async def rsvps(store: Store, meeting_id: str) -> list[tuple[str, str]]:
    """(user id, answer) of everyone who answered, in the order they answered."""
    rows = await store.all(
        "SELECT user_id, answer FROM rsvps WHERE meeting_id = ? ORDER BY seq, answered_at, user_id",
        [meeting_id],
    )
    return [(str(row["user_id"]), str(row["answer"])) for row in rows]


async def set_series_rsvp(
    store: Store, series_id: str, user_id: str, answer: str | None, at: datetime
) -> None:
    """A person's standing answer for every meeting of a series ("Going to all")."""
    if answer is None:
        await store.run(
            "DELETE FROM series_rsvps WHERE series_id = ? AND user_id = ?", [series_id, user_id]
        )
        return
    await store.run(
        "INSERT INTO series_rsvps (series_id, user_id, answer, answered_at) VALUES (?,?,?,?) "
        "ON CONFLICT (series_id, user_id) DO UPDATE SET answer = excluded.answer, "
        "answered_at = excluded.answered_at",
        [series_id, user_id, answer, to_text(at)],
    )


async def series_rsvps(store: Store, series_id: str) -> list[tuple[str, str]]:
    rows = await store.all(
        "SELECT user_id, answer FROM series_rsvps WHERE series_id = ? "
        "ORDER BY answered_at, user_id",
        [series_id],
    )
    return [(str(row["user_id"]), str(row["answer"])) for row in rows]


async def add_private_reminder(store: Store, meeting_id: str, user_id: str) -> bool:
    """Ask for a private reminder; False if this person had asked already."""
    added = await store.run(
        "INSERT INTO private_reminders (meeting_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [meeting_id, user_id],
    )
    return added == 1


async def private_reminders(store: Store, meeting_id: str) -> list[str]:
    rows = await store.all(
        "SELECT user_id FROM private_reminders WHERE meeting_id = ? ORDER BY user_id", [meeting_id]
    )
    return [str(row["user_id"]) for row in rows]


async def open_session(
    store: Store, meeting_id: str, person_key: str | None, name: str, at: datetime
) -> str:
    """A join as a provider reported it; the new session's id. `person_key` is the
    platform user the attendee was matched to (None: a guest, known by name only)."""
    session_id = f"{meeting_id}:{uuid.uuid4().hex}"
    await store.run(
        "INSERT INTO attendance_sessions (id, meeting_id, person_key, name, joined_at, left_at) "
        "VALUES (?, ?, ?, ?, ?, NULL)",
        [session_id, meeting_id, person_key, name, to_text(at)],
    )
    return session_id


async def close_session(
    store: Store, meeting_id: str, person_key: str | None, name: str, at: datetime
) -> bool:
    """A leave: closes that person's latest open session. False (and nothing changes)
    for a leave with no open session, e.g. a join that was never reported."""
    who = "person_key = ?" if person_key is not None else "person_key IS NULL AND name = ?"
    closed = await store.run(
        f"""UPDATE attendance_sessions SET left_at = ?
            WHERE id = (SELECT id FROM attendance_sessions
                        WHERE meeting_id = ? AND {who} AND left_at IS NULL
                        ORDER BY joined_at DESC, id DESC LIMIT 1)""",  # noqa: S608 (fixed text)
        [to_text(at), meeting_id, person_key if person_key is not None else name],
    )
    return closed == 1


async def sessions(store: Store, meeting_id: str) -> list[dict[str, Any]]:
    """Every session of a meeting, earliest join first, as `bot.attendance.Session`'s
    fields: person_key, name, joined, left (None while still in)."""
    rows = await store.all(
        "SELECT person_key, name, joined_at, left_at FROM attendance_sessions "
        "WHERE meeting_id = ? ORDER BY joined_at, id",
        [meeting_id],
    )
    return [
        {
            "person_key": row["person_key"],
            "name": row["name"],
            "joined": from_text(row["joined_at"]),
            "left": None if row["left_at"] is None else from_text(row["left_at"]),
        }
        for row in rows
    ]


async def bump_sequence(store: Store, meeting_id: str) -> int:
    """The meeting changed (times, title, cancelled): its calendar SEQUENCE, now one more."""
    value = await store.value(
        "UPDATE meetings SET sequence = sequence + 1 WHERE id = ? RETURNING sequence",
        [meeting_id],
    )
    return int(value or 0)


async def meeting_sequence(store: Store, meeting_id: str) -> int:
    value = await store.value("SELECT sequence FROM meetings WHERE id = ?", [meeting_id])
    return int(value or 0)


async def feed_version(store: Store, platform: str, workspace_id: str, user_id: str) -> int:
    """The version a person's feed token must carry (1 the first time it is asked for)."""
    key = [platform, workspace_id, user_id]
    value = await store.value(
        "SELECT version FROM calendar_feeds WHERE platform = ? AND workspace_id = ? "
        "AND user_id = ?",
        key,
    )
    if value is not None:
        return int(value)
    value = await store.value(
        "INSERT INTO calendar_feeds (platform, workspace_id, user_id, version) VALUES (?,?,?,1) "
        "ON CONFLICT (platform, workspace_id, user_id) DO UPDATE SET "
        "version = calendar_feeds.version RETURNING version",
        key,
    )
    return int(value)


async def reset_feed(store: Store, platform: str, workspace_id: str, user_id: str) -> int:
    """Revoke a person's feed token: the new version, which old tokens do not carry."""
    value = await store.value(
        "INSERT INTO calendar_feeds (platform, workspace_id, user_id, version) VALUES (?,?,?,2) "
        "ON CONFLICT (platform, workspace_id, user_id) DO UPDATE SET "
        "version = calendar_feeds.version + 1 RETURNING version",
        [platform, workspace_id, user_id],
    )
    return int(value)


async def meetings_for_person(
    store: Store, platform: str, workspace_id: str, user_id: str, since: datetime
) -> list[Meeting]:
    """The meetings of one workspace a person's calendar feed lists: those they organize,
    said Going or Maybe to (themselves or for the whole series), or were invited to
    and did not decline; any status (a cancelled one shows as cancelled), ending after
    `since`, soonest first, at most FEED_LIMIT. Host links are never read."""
    # Invitees are a JSON list: LIKE finds the candidates on both engines (SQLite's
    # LIKE ignores case), and the list itself decides.
    invited = "%" + _like_escape(json.dumps(user_id)) + "%"
    theirs = [user_id, user_id, *ATTENDING, user_id, *ATTENDING]  # organizes, or said yes
    rows = await store.all(
        """SELECT m.*,
             (m.organizer_id = ?
              OR EXISTS (SELECT 1 FROM rsvps r WHERE r.meeting_id = m.id
                         AND r.user_id = ? AND r.answer IN (?, ?))
              OR EXISTS (SELECT 1 FROM series_rsvps s WHERE s.series_id = m.series_id
                         AND s.user_id = ? AND s.answer IN (?, ?))) AS theirs
           FROM meetings m
           WHERE m.platform = ? AND m.workspace_id = ? AND m.end_at > ?
             AND (m.organizer_id = ?
                  OR EXISTS (SELECT 1 FROM rsvps r WHERE r.meeting_id = m.id
                             AND r.user_id = ? AND r.answer IN (?, ?))
                  OR EXISTS (SELECT 1 FROM series_rsvps s WHERE s.series_id = m.series_id
                             AND s.user_id = ? AND s.answer IN (?, ?))
                  OR (m.invitees LIKE ? ESCAPE '\\'
                      AND NOT EXISTS (SELECT 1 FROM rsvps r WHERE r.meeting_id = m.id
                                      AND r.user_id = ? AND r.answer NOT IN (?, ?))))
           ORDER BY m.start_at, m.id LIMIT ?""",
        [
            *theirs,
            platform,
            workspace_id,
            to_text(since),
            *theirs,
            invited,
            user_id,
            *ATTENDING,
            FEED_LIMIT,
        ],
    )
    return [
        _meeting(row)
        for row in rows
        if row["theirs"] or user_id in json.loads(row["invitees"])
    ]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
