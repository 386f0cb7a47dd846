"""Ratings and comments, and the meetings whose feedback window has closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import from_text, to_text
from storage.engine import Store


@dataclass(frozen=True)
class Answer:
    user_id: str
    score: int | None
    comment: str


async def save_answer(
    store: Store, meeting_id: str, user_id: str, score: int | None, comment: str, now: datetime
) -> None:
    """Insert or change one person's answer; a comment alone keeps the earlier score."""
    await store.run(
        """INSERT INTO feedback (meeting_id, user_id, score, comment, answered_at)
           VALUES (?,?,?,?,?)
           ON CONFLICT (meeting_id, user_id) DO UPDATE SET
             score = COALESCE(excluded.score, feedback.score),
             comment = CASE WHEN excluded.comment != '' THEN excluded.comment
                            ELSE feedback.comment END,
             answered_at = excluded.answered_at""",
        [meeting_id, user_id, score, comment, to_text(now)],
    )


async def answers(store: Store, meeting_id: str) -> list[Answer]:
    rows = await store.all(
        "SELECT user_id, score, comment FROM feedback WHERE meeting_id = ? "
        "ORDER BY answered_at, user_id",
        [meeting_id],
    )
    return [Answer(row["user_id"], row["score"], row["comment"]) for row in rows]


@dataclass(frozen=True)
class Window:
    opened_at: datetime
    closes_at: datetime


async def open_window(store: Store, meeting_id: str, opened: datetime, closes: datetime) -> None:
    """Fix a meeting's feedback window when its prompt goes out (again: unchanged)."""
    await store.run(
        "INSERT INTO feedback_windows (meeting_id, opened_at, closes_at) VALUES (?,?,?) "
        "ON CONFLICT DO NOTHING",
        [meeting_id, to_text(opened), to_text(closes)],
    )


async def window(store: Store, meeting_id: str) -> Window | None:
    row = await store.one(
        "SELECT opened_at, closes_at FROM feedback_windows WHERE meeting_id = ?", [meeting_id]
    )
    return Window(from_text(row["opened_at"]), from_text(row["closes_at"])) if row else None


async def closed_windows(store: Store, now: datetime, summary_kind: str) -> list[str]:
    """Meetings whose window has closed and whose summary is not yet delivered."""
    rows = await store.all(
        """SELECT w.meeting_id FROM feedback_windows w
           LEFT JOIN deliveries d ON d.subject = w.meeting_id AND d.kind = ?
           WHERE w.closes_at <= ? AND d.done_at IS NULL
           ORDER BY w.closes_at, w.meeting_id""",
        [summary_kind, to_text(now)],
    )
    return [str(row["meeting_id"]) for row in rows]


async def recent_occurrences(
    store: Store, series_id: str, limit: int = 6
) -> list[tuple[str, datetime]]:
    """(meeting id, end) of a series' last ended occurrences, oldest first."""
    rows = await store.all(
        "SELECT id, end_at FROM meetings WHERE series_id = ? AND status = 'ended' "
        "ORDER BY end_at DESC, id DESC LIMIT ?",
        [series_id, limit],
    )
    return [(str(row["id"]), from_text(row["end_at"])) for row in reversed(rows)]
