"""Coalesced card updates: a burst of RSVP presses becomes a handful of edits.

Slack allows about one `chat.update` a second per channel, Discord five message edits
in five seconds, and a card press burst (50 people answering as a meeting is
announced) would otherwise spend the whole budget and start a 429 queue. Each
meeting's card is therefore redrawn at most once per `delay`: the first touch waits
`delay`, touches during the wait or during the update merge into the next one, and
each update renders the card as it is then, so the last update shows the last press.

The wait goes through an injected `sleep`, so tests step time themselves.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Update = Callable[[str], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


class CardEdits:
    """Redraw a meeting's card at most once per `delay`; errors are logged, never raised."""

    def __init__(self, update: Update, *, delay: float = 1.0, sleep: Sleep = asyncio.sleep) -> None:
        self._update = update
        self._delay = delay
        self._sleep = sleep
        self._dirty: set[str] = set()  # touched since its last update began
        self._waiting: set[str] = set()  # in the pause before an update
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    def touch(self, meeting_id: str) -> None:
        """This meeting's card changed: redraw it soon (merged with any pending redraw)."""
        self._dirty.add(meeting_id)
        if meeting_id not in self._tasks:
            task = asyncio.get_running_loop().create_task(self._run(meeting_id))
            self._tasks[meeting_id] = task

    @property
    def pending(self) -> frozenset[str]:
        """Meetings whose card still has an update coming."""
        return frozenset(self._tasks)

    async def _run(self, meeting_id: str) -> None:
        try:
            while meeting_id in self._dirty:
                if not self._closing:
                    self._waiting.add(meeting_id)
                    try:
                        await self._sleep(self._delay)
                    finally:
                        self._waiting.discard(meeting_id)
                self._dirty.discard(meeting_id)
                await self._apply(meeting_id)
        finally:
            self._tasks.pop(meeting_id, None)

    async def _apply(self, meeting_id: str) -> None:
        try:
            await self._update(meeting_id)
        except Exception:
            log.exception("the card of meeting %s could not be updated", meeting_id)

    async def aclose(self) -> None:
        """Make every pending update now (no more waiting), and wait for them all."""
        self._closing = True
        waiting = [self._tasks[m] for m in self._waiting if m in self._tasks]
        for task in waiting:
            task.cancel()  # only ever cancelled in its pause, never mid-update
        while self._tasks:  # updates under way finish; a touch meanwhile runs at once
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        for meeting_id in sorted(self._dirty):
            self._dirty.discard(meeting_id)
            await self._apply(meeting_id)
