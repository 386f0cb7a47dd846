"""The delivery record that makes every reminder, notice and expiry exactly-once.

A firing is *claimed* in one BEGIN IMMEDIATE transaction before anything is
sent, then marked *done*. Two schedulers on one database, a restart, or a clock
jump all race on the same (subject, kind) primary key, and only one wins.

A claim that was never marked done (the process died mid-send) is reclaimable
after a lease, so a crash loses nothing; the price is that a send which
succeeded just before a crash may repeat once. A send that failed for a passing
reason (rate limit, network) releases its claim so the next sweep retries it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlite_utils import Database

from storage.db import from_text, to_text, write

LEASE = timedelta(minutes=2)


class Kind(StrEnum):
    """What was delivered. The one place these names are spelled."""

    REMINDER = "reminder"
    START = "start"
    END = "end"
    OCCURRENCE = "occurrence"  # subject: "<series id>@<local date>"
    FEEDBACK_PROMPT = "feedback-prompt"
    FEEDBACK_SUMMARY = "feedback-summary"
    WEBHOOK = "webhook"  # subject: "<provider>:<event id>", recorded to ignore replays
    INBOUND_REQUEST = "inbound-request"  # subject: a signed request's key, for replays


def claim(db: Database, subject: str, kind: Kind, now: datetime, owner: str) -> bool:
    """True if this caller now owns the firing of `kind` for `subject`."""
    with write(db):
        row = db.execute(
            "SELECT claimed_at, done_at FROM deliveries WHERE subject = ? AND kind = ?",
            [subject, kind],
        ).fetchone()
        if row is None:
            db.execute(
                "INSERT INTO deliveries (subject, kind, claimed_at, claimed_by) VALUES (?,?,?,?)",
                [subject, kind, to_text(now), owner],
            )
            return True
        claimed_at, done_at = row
        if done_at is not None or now - from_text(claimed_at) < LEASE:
            return False
        db.execute(
            "UPDATE deliveries SET claimed_at = ?, claimed_by = ? WHERE subject = ? AND kind = ?",
            [to_text(now), owner, subject, kind],
        )
        return True


def mark_done(db: Database, subject: str, kind: Kind, now: datetime, outcome: str = "sent") -> None:
    with write(db):
        db.execute(
            "UPDATE deliveries SET done_at = ?, outcome = ? WHERE subject = ? AND kind = ?",
            [to_text(now), outcome, subject, kind],
        )


def release(db: Database, subject: str, kind: Kind) -> None:
    """Give a claim back after a passing failure, so the next sweep tries again."""
    with write(db):
        db.execute(
            "DELETE FROM deliveries WHERE subject = ? AND kind = ? AND done_at IS NULL",
            [subject, kind],
        )


def outcome(db: Database, subject: str, kind: Kind) -> str | None:
    row = db.execute(
        "SELECT outcome FROM deliveries WHERE subject = ? AND kind = ?", [subject, kind]
    ).fetchone()
    return row[0] if row else None


def record_once(db: Database, subject: str, kind: Kind, now: datetime) -> bool:
    """Claim and finish in one step, for facts that only need recording once."""
    with write(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO deliveries (subject, kind, claimed_at, claimed_by, done_at, "
            "outcome) VALUES (?,?,?,?,?,?)",
            [subject, kind, to_text(now), "", to_text(now), "recorded"],
        )
        return cursor.rowcount == 1


def prune(db: Database, kind: Kind, before: datetime) -> int:
    """Forget records of `kind` made before `before` (replay keys outlive their window)."""
    with write(db):
        return int(
            db.execute(
                "DELETE FROM deliveries WHERE kind = ? AND claimed_at < ?", [kind, to_text(before)]
            ).rowcount
        )
