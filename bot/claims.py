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

Claimed actions run SEND_CONCURRENCY at a time per process (a burst of timers
waits for a slot *before* claiming, so nothing waits while holding a lease), which
bounds what a kill can repeat: at most the sends in flight in that process. 32 is
enough to keep 1,000 reminders due at once as prompt as the CPU allows (bench/), and
small enough that a kill during a burst repeats a few dozen, never the burst. An
action that claims again from inside its own (an expiry's feedback prompt) runs
in the slot it already holds.

A database too busy to take the claim means "not now": the next timer or
sweep tries again. Once the action has run, its record is written with a
patient async retry, so a briefly locked database neither stalls the loop
nor makes a delivered message go out twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from bot.inflight import InFlight
from bot.observability import CLAIMS_TAKEN_OVER
from bot.ports import Clock
from storage import deliveries
from storage.db import StorageBusy
from storage.deliveries import LEASE, ClaimResult, Kind
from storage.engine import Store

log = logging.getLogger(__name__)

Action = Callable[[], Awaitable[str]]
RECORD_PATIENCE = timedelta(seconds=60)  # how long a record waits for a busy database
SEND_CONCURRENCY = 32  # claimed actions at once per process: a kill repeats at most this many
_IN_SLOT: ContextVar[bool] = ContextVar("convene_claim_slot", default=False)


class Retry(Exception):
    """Raised by a claimed action whose failure may pass: release the claim."""


@dataclass(frozen=True)
class Claims:
    store: Store
    clock: Clock
    owner: str  # this process, as recorded on its claims
    inflight: InFlight  # a send under a claim is waited for at shutdown
    slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(SEND_CONCURRENCY))

    async def once(self, subject: str, kind: Kind, action: Action) -> str | None:
        """Run `action` if this process wins `(subject, kind)`; its outcome, or None
        when another owner has it, it was done already, or it was released to retry.
        A process shutting down takes no new claims: another replica will."""
        if _IN_SLOT.get():
            return await self._claim_and_act(subject, kind, action)
        async with self.slots:
            entered = _IN_SLOT.set(True)
            try:
                return await self._claim_and_act(subject, kind, action)
            finally:
                _IN_SLOT.reset(entered)

    async def _claim_and_act(self, subject: str, kind: Kind, action: Action) -> str | None:
        if self.inflight.draining:
            return None
        try:
            won = await deliveries.claim(self.store, subject, kind, self.clock(), self.owner)
        except StorageBusy:
            log.info("%s for %s waits: the database is busy", kind, subject)
            return None
        if not won:
            return None
        if won is ClaimResult.TAKEN_OVER:
            CLAIMS_TAKEN_OVER.inc()
            log.info("%s for %s taken over from a worker that stopped", kind, subject)
        with self.inflight.track():
            return await self._act(subject, kind, action)

    async def _act(self, subject: str, kind: Kind, action: Action) -> str | None:
        renewing = asyncio.create_task(self._keep(subject, kind), name=f"lease {kind}")
        try:
            outcome = await action()
        except (Retry, StorageBusy) as exc:
            log.warning("%s for %s not delivered, will retry: %s", kind, subject, exc)
            await patiently(lambda: deliveries.release(self.store, subject, kind))
            return None
        except Exception:
            log.exception("%s for %s failed", kind, subject)
            outcome = "error"
        finally:
            renewing.cancel()
        done = self.clock()
        await patiently(lambda: deliveries.mark_done(self.store, subject, kind, done, outcome))
        return outcome

    async def _keep(self, subject: str, kind: Kind) -> None:
        """Renew the lease while the action runs, so only a dead owner's claim expires
        (and is taken over within one LEASE)."""
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            try:
                await deliveries.renew(self.store, subject, kind, self.clock(), self.owner)
            except StorageBusy:
                continue

    async def record_once(self, subject: str, kind: Kind) -> bool:
        """For facts that only need recording once (a webhook's id): True the first time."""
        return await deliveries.record_once(self.store, subject, kind, self.clock())

    async def forget_before(self, kind: Kind, age: timedelta) -> int:
        """Drop records of `kind` older than `age` (replay keys outlive their window)."""
        return await deliveries.prune(self.store, kind, self.clock() - age)

    async def settled(self, timeout: float) -> bool:
        """Once draining: wait until every action queued for a slot has seen the drain
        and left (slots are first come, first served), so none is cancelled mid-way."""
        try:
            async with asyncio.timeout(timeout), self.slots:
                return True
        except TimeoutError:
            return False

    async def release_all(self) -> int:
        """Give back this process's unfinished claims (graceful shutdown)."""
        return await deliveries.release_owned(self.store, self.owner)


async def patiently(
    write: Callable[[], Awaitable[object]], patience: timedelta = RECORD_PATIENCE
) -> None:
    """Retry a small write while the database is busy, yielding the loop between tries.

    Used where giving up would be worse than waiting: after a message went out,
    its record must be written or the lease would send it again."""
    delay, waited = 0.05, 0.0
    while True:
        try:
            await write()
            return
        except StorageBusy:
            if waited >= patience.total_seconds():
                log.error("a delivery record could not be written; it may repeat once")
                return
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 2.0)
