"""Coalesced card edits, stepped through convene's own sleep seam (no real waiting)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.card_edits import CardEdits


class Steps:
    """A loop-time stand-in: `sleep` waits until `advance` moves past its deadline."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = 0

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._order += 1
        self._sleepers.append((self.now + delay, self._order, future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.now + seconds
        await settle()
        while due := sorted(s for s in self._sleepers if s[0] <= target and not s[2].done()):
            when, _, future = due[0]
            self._sleepers.remove(due[0])
            self.now = when
            future.set_result(None)
            await settle()
        self.now = target
        await settle()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class Card:
    """What a channel would show: the presses each edit rendered, and when it was made."""

    def __init__(self, steps: Steps, takes: float = 0.0) -> None:
        self.steps = steps
        self.takes = takes  # how long the platform call takes
        self.presses = 0
        self.edits: list[tuple[float, int]] = []

    async def update(self, meeting_id: str) -> None:
        started, shown = self.steps.now, self.presses  # rendered from the state at the start
        if self.takes:
            await self.steps.sleep(self.takes)
        self.edits.append((started, shown))


@pytest.mark.parametrize(("span", "takes"), [(1.0, 0.0), (1.0, 0.4), (3.0, 0.5)])
async def test_a_burst_of_50_presses_makes_a_handful_of_edits_showing_the_last(
    span: float, takes: float
) -> None:
    steps = Steps()
    card = Card(steps, takes)
    edits = CardEdits(card.update, delay=1.0, sleep=steps.sleep)
    for _ in range(50):
        card.presses += 1
        edits.touch("abc234")
        await steps.advance(span / 50)
    await steps.advance(10)
    assert 1 <= len(card.edits) <= span + 1
    assert card.edits[-1][1] == 50  # the card ends up showing every press
    starts = [started for started, _ in card.edits]
    assert all(b - a >= 1.0 for a, b in zip(starts, starts[1:], strict=False))
    assert edits.pending == frozenset()


async def test_one_burst_in_a_second_makes_at_most_two_edits_even_when_slow() -> None:
    steps = Steps()
    card = Card(steps, takes=0.9)
    edits = CardEdits(card.update, delay=1.0, sleep=steps.sleep)
    for _ in range(50):
        card.presses += 1
        edits.touch("abc234")
        await steps.advance(0.02)
    await steps.advance(10)
    assert len(card.edits) == 1 and card.edits[0] == (1.0, 50)


async def test_a_press_after_a_quiet_spell_waits_the_delay_again() -> None:
    steps = Steps()
    card = Card(steps)
    edits = CardEdits(card.update, delay=1.0, sleep=steps.sleep)
    card.presses += 1
    edits.touch("abc234")
    await steps.advance(5)
    card.presses += 1
    edits.touch("abc234")
    await steps.advance(0.5)
    assert card.edits == [(1.0, 1)]  # not yet: the second edit waits a full delay
    await steps.advance(1)
    assert card.edits == [(1.0, 1), (6.0, 2)]


async def test_cards_of_different_meetings_are_edited_separately() -> None:
    steps = Steps()
    seen: list[str] = []

    async def update(meeting_id: str) -> None:
        seen.append(meeting_id)

    edits = CardEdits(update, delay=1.0, sleep=steps.sleep)
    for meeting in ("abc234", "def567", "abc234"):
        edits.touch(meeting)
    await steps.advance(2)
    assert sorted(seen) == ["abc234", "def567"]


async def test_a_failed_edit_is_logged_and_the_next_press_still_edits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    steps = Steps()
    made: list[str] = []

    async def update(meeting_id: str) -> None:
        if not made:
            made.append("failed")
            raise RuntimeError("chat.update refused")
        made.append("edited")

    edits = CardEdits(update, delay=1.0, sleep=steps.sleep)
    with caplog.at_level(logging.ERROR, logger="bot.card_edits"):
        edits.touch("abc234")
        await steps.advance(2)
    assert "abc234 could not be updated" in caplog.text
    edits.touch("abc234")
    await steps.advance(2)
    assert made == ["failed", "edited"]


async def test_closing_makes_every_pending_edit_at_once() -> None:
    steps = Steps()
    card = Card(steps)
    edits = CardEdits(card.update, delay=1.0, sleep=steps.sleep)
    card.presses = 3
    edits.touch("abc234")
    await steps.advance(0.3)
    await edits.aclose()
    assert card.edits == [(0.3, 3)] and edits.pending == frozenset()


async def test_closing_during_an_edit_finishes_it_and_the_press_that_came_meanwhile() -> None:
    steps = Steps()
    card = Card(steps, takes=0.5)
    edits = CardEdits(card.update, delay=1.0, sleep=steps.sleep)
    card.presses = 1
    edits.touch("abc234")
    await steps.advance(1.2)  # the edit started at 1.0 and is under way
    card.presses = 2
    edits.touch("abc234")
    closing = asyncio.ensure_future(edits.aclose())
    await steps.advance(1)
    await closing
    assert [shown for _, shown in card.edits] == [1, 2]
