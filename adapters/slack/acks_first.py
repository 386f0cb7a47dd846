"""Acks before work: under a burst, every acknowledgement leaves before the heavy work.

Slack waits 3 seconds for an ack and then shows the user an error (and retries); a
card can wait a moment. bolt runs a listener's work right after its `ack()`, on the
same loop as the requests still arriving, so at 09:00 on Monday the first commands'
provider calls and posts delay the later commands' acks. Work after an ack therefore
starts only once no request is between its arrival and its ack, or after MAX_WAIT
at the latest, so a steady stream of requests cannot starve it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

MAX_WAIT = 0.25  # seconds the work after an ack may wait for the acks behind it


class AcksFirst:
    def __init__(self, max_wait: float = MAX_WAIT) -> None:
        self.max_wait = max_wait
        self.arriving = 0  # requests read but not yet acknowledged
        self._quiet = asyncio.Event()
        self._quiet.set()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Around one inbound request, from arrival until its response is ready."""
        self.arriving += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self.arriving -= 1
            if self.arriving == 0:
                self._quiet.set()

    async def turn(self) -> None:
        """Wait until no request waits for its ack (at most `max_wait`)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._quiet.wait(), self.max_wait)
