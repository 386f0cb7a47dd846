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


def recent_occurrences(db: Database, series_id: str, limit: int = 6) -> list[tuple[str, str]]:
    """(meeting id, end) of a series' last ended occurrences, oldest first."""
    rows = db.execute(
        "SELECT id, end_at FROM meetings WHERE series_id = ? AND status = 'ended' "
        "ORDER BY end_at DESC LIMIT ?",
        [series_id, limit],
    ).fetchall()
    return [(row[0], row[1]) for row in reversed(rows)]


def prompted(db: Database) -> list[tuple[str, datetime]]:
    """(meeting id, when prompted) for every prompt whose summary is not yet sent."""
    rows = db.execute(
        """SELECT p.subject, p.claimed_at FROM deliveries p
           LEFT JOIN deliveries s ON s.subject = p.subject AND s.kind = 'feedback-summary'
           WHERE p.kind = 'feedback-prompt' AND s.subject IS NULL"""
    ).fetchall()
    return [(row[0], from_text(row[1])) for row in rows]


def prompted_at(db: Database, meeting_id: str) -> datetime | None:
    row = db.execute(
        "SELECT claimed_at FROM deliveries WHERE subject = ? AND kind = 'feedback-prompt'",
        [meeting_id],
    ).fetchone()
    return from_text(row[0]) if row else None
