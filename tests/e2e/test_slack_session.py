"""Slack's outbound calls: one shared aiohttp session, closed at shutdown; the profile cache.

The emulator is given a note of the client port each Web API request came from, so
keep-alive shows as calls sharing a connection (no timing is measured).
"""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.platform import SlackPlatform
from tests.e2e.slack_rig import Rig, running
from tests.emulators import slack as emu

COMMANDS = 5


@pytest.fixture
def ports(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """(method, client port) of every Web API request the emulator receives."""
    seen: list[tuple[str, int]] = []
    original = emu.SlackEmulator.web_api

    async def noting(self: emu.SlackEmulator, request: web.Request) -> web.Response:
        peer: Any = request.transport.get_extra_info("peername") if request.transport else None
        seen.append((request.match_info["method"], int(peer[1]) if peer else -1))
        return await original(self, request)

    monkeypatch.setattr(emu.SlackEmulator, "web_api", noting)
    return seen


def slack_platform(rig: Rig) -> SlackPlatform:
    [platform] = [p for p in rig.app.platforms if isinstance(p, SlackPlatform)]
    return platform


async def book(rig: Rig, n: int) -> None:
    """One `/meet` after another, each waited for (its card and its private answer)."""
    for i in range(n):
        status, _ = await rig.command(f"/meet Retro {i} at 16:00 for 30m")
        assert status == 200
        await rig.slack.wait_for("chat.postMessage", i + 1)
        await rig.slack.wait_for_responses(i + 1)


async def test_every_web_api_client_shares_one_session(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        platform = slack_platform(rig)
        session = platform.session
        assert isinstance(session, aiohttp.ClientSession) and not session.closed
        assert platform.app.client.session is session  # bolt copies it into each request
        assert platform.messenger._client.session is session


async def test_commands_reuse_one_connection_to_slack(
    tmp_path: Path, ports: list[tuple[str, int]]
) -> None:
    async with running(tmp_path) as rig:
        await book(rig, COMMANDS)
    methods = {method for method, _ in ports}
    assert {"users.info", "chat.postMessage"} <= methods
    assert len(ports) >= COMMANDS
    # One command's calls follow one another, so keep-alive serves them all on one
    # connection; slack_sdk without a shared session opens one per call.
    assert len({port for _, port in ports}) == 1, ports


async def test_the_session_is_closed_at_shutdown(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="asyncio")
    async with running(tmp_path) as rig:
        platform = slack_platform(rig)
        session = platform.session
        await book(rig, 2)
    assert session is not None and session.closed
    assert platform.session is None
    assert platform.app.client.session is None
    gc.collect()
    assert "Unclosed client session" not in caplog.text
    assert "Unclosed connector" not in caplog.text


async def test_the_profile_is_cached_until_meet_tz(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        await book(rig, 2)
        assert len(rig.slack.calls_to("users.info")) == 1  # the second came from the cache
        await rig.command("/meet tz Nowhere/Atlantis")  # refused: the cache stays
        await rig.slack.wait_for_responses(3)
        await rig.command("/meet tz Asia/Tokyo")
        await rig.slack.wait_for_responses(4)
        assert "Asia/Tokyo" in str(rig.slack.responses[-1])
        assert len(rig.slack.calls_to("users.info")) == 1
        await rig.command("/meet list")
        await rig.slack.wait_for_responses(5)
        assert len(rig.slack.calls_to("users.info")) == 2  # asked again after the change
