"""The delivery record that makes every reminder, notice and expiry exactly-once.

A firing is *claimed* by one atomic statement before anything is sent, then
marked *done*. Two schedulers on one database, replicas on one PostgreSQL, a
restart, or a clock jump all race on the same (subject, kind) primary key, and
only one wins.

A claim is a short lease (LEASE): the owner renews it while its work runs, so a
claim that stops being renewed (the process died mid-send) is taken over by the
next sweep of any replica within seconds, and a crash loses nothing; the price
is that a send which succeeded just before a crash may repeat once. A send that
failed for a passing reason (rate limit, network) releases its claim so the next
sweep retries it; a graceful shutdown releases all of its owner's claims.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from storage.db import to_text
from storage.engine import Store

LEASE = timedelta(seconds=15)


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


class ClaimResult(StrEnum):
    """How a claim went. Truthy when the caller now owns the firing, so
    `if not await claim(...)` reads as before."""

    WON = "won"  # nobody had claimed it
    TAKEN_OVER = "taken-over"  # another owner's lease had run out (it died mid-send)
    LOST = "lost"  # done already, or another owner holds a live lease

    def __bool__(self) -> bool:
        return self is not ClaimResult.LOST


# One statement on both engines: insert the claim, or take over an unfinished one
# whose lease ran out; `takeovers` counts how often a firing changed hands.
_CLAIM = """INSERT INTO deliveries (subject, kind, claimed_at, claimed_by) VALUES (?,?,?,?)
ON CONFLICT (subject, kind) DO UPDATE SET claimed_at = excluded.claimed_at,
    claimed_by = excluded.claimed_by, takeovers = deliveries.takeovers + 1
WHERE deliveries.done_at IS NULL AND deliveries.claimed_at <= ?
RETURNING takeovers"""


async def claim(store: Store, subject: str, kind: Kind, now: datetime, owner: str) -> ClaimResult:
    """Whether this caller now owns the firing of `kind` for `subject`, and how."""
    row = await store.one(_CLAIM, [subject, kind, to_text(now), owner, to_text(now - LEASE)])
    if row is None:
        return ClaimResult.LOST
    return ClaimResult.WON if row["takeovers"] == 0 else ClaimResult.TAKEN_OVER


async def renew(store: Store, subject: str, kind: Kind, now: datetime, owner: str) -> bool:
    """Extend `owner`'s lease while its work runs; False if the claim is no longer
    its own (it was taken over, or released) or already done."""
    changed = await store.run(
        "UPDATE deliveries SET claimed_at = ? "
        "WHERE subject = ? AND kind = ? AND claimed_by = ? AND done_at IS NULL",
        [to_text(now), subject, kind, owner],
    )
    return changed == 1


async def claim_owner(store: Store, subject: str, kind: Kind) -> str | None:
    """Who holds an unfinished claim on the firing (None: unclaimed or done)."""
    value = await store.value(
        "SELECT claimed_by FROM deliveries WHERE subject = ? AND kind = ? AND done_at IS NULL",
        [subject, kind],
    )
    return None if value is None else str(value)


async def mark_done(
    store: Store, subject: str, kind: Kind, now: datetime, outcome: str = "sent"
) -> None:
    await store.run(
        "UPDATE deliveries SET done_at = ?, outcome = ? WHERE subject = ? AND kind = ?",
        [to_text(now), outcome, subject, kind],
    )


async def release(store: Store, subject: str, kind: Kind) -> None:
    """Give a claim back after a passing failure, so the next sweep tries again."""
    await store.run(
        "DELETE FROM deliveries WHERE subject = ? AND kind = ? AND done_at IS NULL",
        [subject, kind],
    )


async def release_owned(store: Store, owner: str) -> int:
    """Give back every unfinished claim of `owner` (a graceful shutdown), so another
    replica takes them at once instead of after the lease; how many there were."""
    return await store.run(
        "DELETE FROM deliveries WHERE claimed_by = ? AND done_at IS NULL", [owner]
    )


async def outcome(store: Store, subject: str, kind: Kind) -> str | None:
    value = await store.value(
        "SELECT outcome FROM deliveries WHERE subject = ? AND kind = ?", [subject, kind]
    )
    return None if value is None else str(value)


async def record_once(store: Store, subject: str, kind: Kind, now: datetime) -> bool:
    """Claim and finish in one step, for facts that only need recording once."""
    written = await store.run(
        "INSERT INTO deliveries (subject, kind, claimed_at, claimed_by, done_at, outcome) "
        "VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
        [subject, kind, to_text(now), "", to_text(now), "recorded"],
    )
    return written == 1


async def prune(store: Store, kind: Kind, before: datetime) -> int:
    """Forget records of `kind` made before `before` (replay keys outlive their window)."""
    return await store.run(
        "DELETE FROM deliveries WHERE kind = ? AND claimed_at < ?", [kind, to_text(before)]
    )
