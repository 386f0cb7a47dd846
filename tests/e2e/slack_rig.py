"""The whole of convene with Slack enabled, against the loopback Slack emulator.

`running(...)` starts ConveneApp (real aiohttp server on port 0, real bolt,
real slack_sdk, Jitsi as provider, database under tmp_path) and yields a Rig
whose `clock` is the app's own clock, to be moved forward by tests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from adapters.main import build_app
from bot.app import ConveneApp
from bot.config import Settings
from bot.ports import Capabilities, ProviderSource, Room, RoomSpec
from bot.providers.errors import ProviderError
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.fakes import TEST_KEY, FakeClock, StubProvider
from tests.moments import next_monday_at

NOW = next_monday_at(9)
SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "slack-web-openapi-v2.json"
needs_spec = pytest.mark.skipif(
    not SPEC.exists(), reason=f"no Slack Web API spec at {SPEC} (a plain clone)"
)
NOT_IN_SPEC = {"apps.connections.open"}  # Socket Mode's method is missing from that spec
# slack_sdk adds the request's team_id to every call of bolt's per-request client
# (for org-wide installs); the v2 spec predates that parameter.
SDK_PARAMS = {"token", "team_id"}


@dataclass
class Rig:
    app: ConveneApp
    slack: emu.SlackEmulator
    client: emu.SlackClient
    session: aiohttp.ClientSession
    base: str
    clock: FakeClock

    async def command(self, text: str, **kwargs: Any) -> tuple[int, str]:
        n = len(self.slack.responses) + len(self.slack.api) + 1
        payload = emu.command_payload(text, response_url=self.slack.response_url_for(n), **kwargs)
        return await self.client.command(payload)


@asynccontextmanager
async def running(
    tmp_path: Path, *, providers: ProviderSource | None = None, **overrides: Any
) -> AsyncIterator[Rig]:
    slack = emu.SlackEmulator()
    slack.user("UANA", real_name="Ana", tz="Europe/Berlin")
    slack.user("URAJ", real_name="Raj", tz="Asia/Kolkata")
    async with serve(slack.app) as slack_url, aiohttp.ClientSession() as session:
        slack.base_url = slack_url
        fields: dict[str, Any] = {
            "db_path": str(tmp_path / "convene.db"),
            "http_port": 0,
            "secret_key": TEST_KEY,
            "slack_bot_token": emu.BOT_TOKEN,
            "slack_signing_secret": emu.SIGNING_SECRET,
            "slack_api_url": f"{slack_url}/api/",
            "jitsi_app_id": "convene-test",
            "jitsi_app_secret": "a-jitsi-secret-that-is-long-enough-for-hs256",
            **overrides,
        }
        clock = FakeClock(NOW)
        app = build_app(Settings(**fields), clock=clock, providers=providers)
        task = asyncio.create_task(app.run())
        try:
            for _ in range(500):
                if app.http.port or task.done():
                    break
                await asyncio.sleep(0.01)
            if task.done():
                task.result()
            base = f"http://127.0.0.1:{app.http.port}"
            client = emu.SlackClient(session, f"{base}/slack/events", clock=clock)
            yield Rig(app, slack, client, session, base, clock)
        finally:
            for platform in app.platforms:
                await platform.stop()
            await asyncio.wait_for(task, 10)


class SlowProvider(StubProvider):
    """A provider that takes `delay` seconds to create a room (or fails after it)."""

    capabilities = Capabilities(host_link=True)

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.delay = delay
        self.fail = fail

    async def create_room(self, spec: RoomSpec) -> Room:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise ProviderError("Jitsi", "Jitsi could not create the room; try again in a minute.")
        return Room(
            room_id=f"room-{spec.meeting_id}",
            join_url=f"https://meet.example/room-{spec.meeting_id}",
            host_url=f"https://meet.example/room-{spec.meeting_id}?host=secret-host-key",
        )


# ---- payload checks ------------------------------------------------------------------


def spec_problems(calls: list[emu.ApiCall]) -> list[str]:
    """Methods and parameter names convene sent that the Web API spec does not know."""
    spec = json.loads(SPEC.read_text())
    problems = []
    for call in calls:
        if call.method in NOT_IN_SPEC:
            continue
        path = spec["paths"].get(f"/{call.method}")
        if path is None:
            problems.append(f"unknown method {call.method}")
            continue
        known = {p["name"] for op in path.values() for p in op.get("parameters", [])}
        problems += [
            f"{call.method}: unknown parameter {name}"
            for name in call.params
            if name not in SDK_PARAMS and name not in known
        ]
    return problems


def block_problems(calls: list[emu.ApiCall]) -> list[str]:
    """Blocks and views that slack_sdk's own models reject."""
    problems = []
    for call in calls:
        blocks = call.params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        for raw in blocks or []:
            parsed = Block.parse(raw)
            if parsed is None:
                problems.append(f"{call.method}: unparsable block {raw}")
                continue
            try:
                parsed.validate_json()
            except Exception as exc:  # slack_sdk raises SlackObjectFormationError
                problems.append(f"{call.method}: {exc}")
        view = call.params.get("view")
        if view is not None:
            view = json.loads(view) if isinstance(view, str) else view
            try:
                View(**view).validate_json()
            except Exception as exc:
                problems.append(f"{call.method} view: {exc}")
    return problems
