"""Work in progress, counted, so a graceful shutdown can wait for it.

At SIGTERM the app stops taking new work, then waits here until every command
being answered and every send under a claim has finished (or a deadline
passes), and only then releases what it still holds and exits. A replica
rolled during a burst therefore neither drops a command nor leaves a send
half-done for another replica to repeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class InFlight:
    def __init__(self) -> None:
        self.count = 0
        self.draining = False
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def track(self) -> Iterator[None]:
        self.count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.count -= 1
            if self.count == 0:
                self._idle.set()

    async def drained(self, timeout: float) -> bool:
        """Stop accepting (`draining`), then wait until nothing is in flight.
        False if work was still running at the deadline."""
        self.draining = True
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True
