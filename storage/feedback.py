"""Ratings and comments, and the meetings whose feedback window has closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from storage.db import from_text, to_text, write


@dataclass(frozen=True)
class Answer:
    user_id: str
    score: int | None
    comment: str


def save_answer(
    db: Database, meeting_id: str, user_id: str, score: int | None, comment: str, now: datetime
) -> None:
    """Insert or change one person's answer; a comment alone keeps the earlier score."""
    with write(db):
        db.execute(
            """INSERT INTO feedback (meeting_id, user_id, score, comment, answered_at)
               VALUES (?,?,?,?,?)
               ON CONFLICT (meeting_id, user_id) DO UPDATE SET
                 score = COALESCE(excluded.score, feedback.score),
                 comment = CASE WHEN excluded.comment != '' THEN excluded.comment
                                ELSE feedback.comment END,
                 answered_at = excluded.answered_at""",
            [meeting_id, user_id, score, comment, to_text(now)],
        )


def answers(db: Database, meeting_id: str) -> list[Answer]:
    rows = db.execute(
        "SELECT user_id, score, comment FROM feedback WHERE meeting_id = ? ORDER BY answered_at",
        [meeting_id],
    ).fetchall()
    return [Answer(*row) for row in rows]


@dataclass(frozen=True)
class Window:
    opened_at: datetime
    closes_at: datetime


def open_window(db: Database, meeting_id: str, opened: datetime, closes: datetime) -> None:
    """Fix a meeting's feedback window when its prompt goes out (again: unchanged)."""
    with write(db):
        db.execute(
            "INSERT OR IGNORE INTO feedback_windows (meeting_id, opened_at, closes_at) "
            "VALUES (?,?,?)",
            [meeting_id, to_text(opened), to_text(closes)],
        )


def window(db: Database, meeting_id: str) -> Window | None:
    row = db.execute(
        "SELECT opened_at, closes_at FROM feedback_windows WHERE meeting_id = ?", [meeting_id]
    ).fetchone()
    return Window(from_text(row[0]), from_text(row[1])) if row else None


def closed_windows(db: Database, now: datetime, summary_kind: str) -> list[str]:
    """Meetings whose window has closed and whose summary is not yet delivered."""
    rows = db.execute(
        """SELECT w.meeting_id FROM feedback_windows w
           LEFT JOIN deliveries d ON d.subject = w.meeting_id AND d.kind = ?
           WHERE w.closes_at <= ? AND d.done_at IS NULL
           ORDER BY w.closes_at""",
        [summary_kind, to_text(now)],
    ).fetchall()
    return [str(row[0]) for row in rows]


def recent_occurrences(db: Database, series_id: str, limit: int = 6) -> list[tuple[str, datetime]]:
    """(meeting id, end) of a series' last ended occurrences, oldest first."""
    rows = db.execute(
        "SELECT id, end_at FROM meetings WHERE series_id = ? AND status = 'ended' "
        "ORDER BY end_at DESC LIMIT ?",
        [series_id, limit],
    ).fetchall()
    return [(row[0], from_text(row[1])) for row in reversed(rows)]
