"""Helpers for the Discord end-to-end tests (no tests here): running convene's Discord
platform against the loopback Discord, and checking what it sent against Discord's
published OpenAPI description."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.platform import DiscordPlatform
from bot.config import Settings
from tests.emulators.base import serve
from tests.emulators.discord import GUILD_ID, DiscordEmulator
from tests.fakes import FakeClock, Harness, harness
from tests.moments import next_monday_at

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "specs" / "discord-openapi.json"


@dataclass
class Running:
    h: Harness
    platform: DiscordPlatform


@asynccontextmanager
async def discord_emulator() -> AsyncIterator[DiscordEmulator]:
    emulator = DiscordEmulator()
    async with serve(emulator.app) as url:
        emulator.base_url = url
        yield emulator


@asynccontextmanager
async def running(
    emu: DiscordEmulator, db_path: str, guild_ids: tuple[int, ...] = (GUILD_ID,)
) -> AsyncIterator[Running]:
    """A service on `db_path` and a real discord.py client connected to `emu`.

    The service's clock starts at next Monday 09:00 UTC as seen from today, so
    "tomorrow 15:00" and "weekday at 9:30" mean the same days whenever this runs.
    """
    async with harness(db_path, clock=FakeClock(next_monday_at(9))) as h:
        settings = Settings(
            db_path=db_path,
            discord_token="test-token",
            discord_api_url=emu.api_url,
            discord_gateway_url=emu.gateway_url,
            discord_guild_ids=guild_ids,
        )
        platform = DiscordPlatform(settings, h.service, guild_ready_timeout=0.05)
        h.core.messengers[platform.name] = platform.messenger
        task = asyncio.create_task(platform.run())
        try:
            await _until_ready(platform, task)
            yield Running(h, platform)
        finally:
            await platform.stop()
            await asyncio.wait_for(task, 10)


async def _until_ready(platform: DiscordPlatform, task: asyncio.Task[None]) -> None:
    for _ in range(1000):
        if task.done():
            task.result()
            raise AssertionError("the platform stopped before it was ready")
        if platform.client.is_ready():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the client never became ready")


# -- request bodies against the OpenAPI description -------------------------------------


def require_spec() -> None:
    if not SPEC.exists():
        pytest.skip(f"Discord OpenAPI description not found at {SPEC}; payloads not validated")


@cache
def _spec() -> dict[str, Any]:
    return dict(json.loads(SPEC.read_text()))


@cache
def _operations() -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    found = []
    for template, item in _spec()["paths"].items():
        pieces = re.split(r"\{[^}]+\}", template)
        pattern = re.compile("[^/]+".join(re.escape(piece) for piece in pieces) + "$")
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            schema = op.get("requestBody", {}).get("content", {}).get("application/json")
            if schema:
                found.append((method.upper(), pattern, schema["schema"]))
    return found


@cache
def _components() -> dict[str, Any]:
    """The spec's components, with one documented leniency: the spec types snowflakes
    as strings, but Discord also accepts integers, and discord.py sends integers in
    a few places (message_reference, recipient_id)."""
    components = json.loads(json.dumps(_spec()["components"]))
    snowflake = components["schemas"]["SnowflakeType"]
    components["schemas"]["SnowflakeType"] = {
        "anyOf": [snowflake, {"type": "integer", "minimum": 0}]
    }
    return dict(components)


def validate_sent(emu: DiscordEmulator, api_prefix: str = "/api/v10") -> int:
    """Validate every recorded JSON body that has a schema; return how many were checked
    (0 when the spec is absent: a plain clone still passes; `require_spec` skips)."""
    if not SPEC.exists():
        return 0
    from jsonschema import Draft202012Validator

    components = _components()
    checked = 0
    for record in emu.requests:
        path = record.path.removeprefix(api_prefix)
        if not record.body:
            continue
        for method, pattern, schema in _operations():
            if method == record.method and pattern.match(path):
                validator = Draft202012Validator({**schema, "components": components})
                errors = sorted(validator.iter_errors(record.json()), key=str)
                assert not errors, f"{record.method} {path}: {errors[0].message}"
                checked += 1
                break
    return checked
