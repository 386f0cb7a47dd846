"""Exactly once: claim a delivery in storage, act, then record how it went.

Every reminder, start notice, expiry, series occurrence, feedback prompt and
summary goes through `Claims.once`. The claim is taken in storage before
anything is sent, so two processes, a restart, or a sweep racing a timer never
act twice (storage.deliveries explains the lease). The action says how it
went by what it returns or raises:

- it returns an outcome word ("sent", "skipped", …): the delivery is done;
- it raises `Retry`: the failure may pass (rate limit, network), so the claim
  is given back and a later sweep tries again;
- it raises anything else: logged, recorded as "error", never retried, so a
  bug cannot turn into a message sent every 30 seconds.

A database too busy to take the claim means "not now": the next timer or
sweep tries again. Once the action has run, its record is written with a
patient async retry, so a briefly locked database neither stalls the loop
nor makes a delivered message go out twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlite_utils import Database

from bot.ports import Clock
from storage import deliveries
from storage.db import StorageBusy
from storage.deliveries import Kind

log = logging.getLogger(__name__)

Action = Callable[[], Awaitable[str]]
RECORD_PATIENCE = timedelta(seconds=60)  # how long a record waits for a busy database


class Retry(Exception):
    """Raised by a claimed action whose failure may pass: release the claim."""


@dataclass(frozen=True)
class Claims:
    db: Database
    clock: Clock
    owner: str  # this process, as recorded on its claims

    async def once(self, subject: str, kind: Kind, action: Action) -> str | None:
        """Run `action` if this process wins `(subject, kind)`; its outcome, or None
        when another owner has it, it was done already, or it was released to retry."""
        try:
            if not deliveries.claim(self.db, subject, kind, self.clock(), self.owner):
                return None
        except StorageBusy:
            log.info("%s for %s waits: the database is busy", kind, subject)
            return None
        try:
            outcome = await action()
        except (Retry, StorageBusy) as exc:
            log.warning("%s for %s not delivered, will retry: %s", kind, subject, exc)
            await patiently(lambda: deliveries.release(self.db, subject, kind))
            return None
        except Exception:
            log.exception("%s for %s failed", kind, subject)
            outcome = "error"
        done = self.clock()
        await patiently(lambda: deliveries.mark_done(self.db, subject, kind, done, outcome))
        return outcome

    def record_once(self, subject: str, kind: Kind) -> bool:
        """For facts that only need recording once (a webhook's id): True the first time."""
        return deliveries.record_once(self.db, subject, kind, self.clock())

    def forget_before(self, kind: Kind, age: timedelta) -> int:
        """Drop records of `kind` older than `age` (replay keys outlive their window)."""
        return deliveries.prune(self.db, kind, self.clock() - age)


async def patiently(write: Callable[[], None], patience: timedelta = RECORD_PATIENCE) -> None:
    """Retry a small write while the database is busy, yielding the loop between tries.

    Used where giving up would be worse than waiting: after a message went out,
    its record must be written or the lease would send it again."""
    delay, waited = 0.05, 0.0
    while True:
        try:
            write()
            return
        except StorageBusy:
            if waited >= patience.total_seconds():
                log.error("a delivery record could not be written; it may repeat once")
                return
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 2.0)
