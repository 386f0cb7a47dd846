"""Fixtures the Discord end-to-end tests share: the loopback Discord (checked against
the OpenAPI spec when it closes) and convene's Discord platform running against it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.discord_harness import Running, discord_emulator, running, validate_sent
from tests.emulators.discord import DiscordEmulator


@pytest.fixture
async def emu() -> AsyncIterator[DiscordEmulator]:
    async with discord_emulator() as emulator:
        yield emulator
        assert not emulator.violations, emulator.violations
        validate_sent(emulator)


@pytest.fixture
async def bot(emu: DiscordEmulator, db_file: str) -> AsyncIterator[Running]:
    async with running(emu, db_file) as made:
        yield made
