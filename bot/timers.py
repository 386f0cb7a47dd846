"""APScheduler jobs planned from convene's own clock.

APScheduler reads the machine's clock; everything else in convene reads the
injected one. The two meet only here: a job due at clock-time `due` is given
the machine-time `machine_now + (due - clock_now)`, so a timer always waits
the right *delay*, whichever clock the test or the process runs on. A timer
may still fire early or late against the injected clock (it was moved, the
machine slept): every job re-checks the clock and re-plans itself, so a timer
is only ever a hint to look again.

Every job is a coroutine function, so it runs on the event loop: a plain
function would run in APScheduler's thread pool, away from the loop's SQLite
connection. `at` and `every` refuse anything else.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.observability import TIMERS_PLANNED
from bot.ports import Clock

Job = Callable[..., Awaitable[object]]


class Timers:
    def __init__(self, scheduler: AsyncIOScheduler | None, clock: Clock) -> None:
        """`scheduler=None` keeps no timers at all: tests then drive time by sweeping."""
        self._scheduler = scheduler
        self._clock = clock

    @property
    def running(self) -> bool:
        return self._scheduler is not None and self._scheduler.running

    def at(self, job_id: str, due: datetime, job: Job, *args: Any) -> None:
        """Run `job(*args)` once, when the injected clock reaches `due` (replacing `job_id`)."""
        if self._scheduler is None:
            return
        delay = max(due - self._clock(), timedelta(0))
        self._scheduler.add_job(
            _on_loop(job),
            "date",
            run_date=datetime.now(UTC) + delay,  # the scheduler's clock, by design
            args=list(args),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,  # never drop a late job: the job decides what late means
        )
        TIMERS_PLANNED.inc()

    def every(self, job_id: str, period: timedelta, job: Job) -> None:
        """Run `job()` every `period`; one at a time, missed runs coalesced into one."""
        if self._scheduler is None:
            return
        self._scheduler.add_job(
            _on_loop(job),
            "interval",
            seconds=period.total_seconds(),
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def cancel(self, job_id: str) -> None:
        if self._scheduler is not None:
            with contextlib.suppress(JobLookupError):
                self._scheduler.remove_job(job_id)

    def pending(self) -> list[str]:
        """Ids of the jobs waiting to run (for tests and diagnostics)."""
        return [job.id for job in self._scheduler.get_jobs()] if self._scheduler else []

    def start(self) -> None:
        if self._scheduler is not None and not self._scheduler.running:
            self._scheduler.start()

    def pause(self) -> None:
        """Fire no more jobs, but let running ones finish (a graceful shutdown's first
        step; `shutdown` would cancel a send half-way)."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.pause()

    def shutdown(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)


def _on_loop(job: Job) -> Job:
    if not inspect.iscoroutinefunction(job):
        raise TypeError(f"{job!r} is not a coroutine function: it would run off the event loop")
    return job
