"""Real `convene run` processes for the replica tests and the replica benchmark.

A `Replica` is one `convene run` in Slack HTTP mode on its own HTTP port, pointed
at a loopback Slack (`SlowSlack`) and at a database (an SQLite file or a
PostgreSQL URL). `prepare_burst` fills a database with Slack meetings whose
reminders all fall due at one chosen instant of the real clock, which is the
clock a real process reads. Waits are bounded only so a broken build fails
instead of hanging; nothing here measures time.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.models import Caller
from tests.emulators import slack as emu
from tests.fakes import TEST_KEY, FakeClock, FakePlatform, harness

ROOT = Path(__file__).resolve().parents[2]
REMINDER = re.compile(r"Reminder: \W*(Burst \d+)")
LEAD = timedelta(minutes=12)  # every burst meeting is reminded this long before it starts
BOUND = 60.0  # seconds: a safety net against hangs, never an expectation


def real_now() -> datetime:
    """The real clock: what a real `convene run` process reads (no injected clock there)."""
    return datetime.now(UTC)


class SlowSlack(emu.SlackEmulator):
    """The Slack emulator answering chat.postMessage `post_delay` seconds late.

    A call is recorded when it arrives, as Slack posts it then: a process killed
    while it waits for the answer has still posted the message."""

    def __init__(self) -> None:
        super().__init__()
        self.post_delay = 0.0
        self.in_flight = 0  # posts made whose answer has not been sent back yet

    async def web_api(self, request: web.Request) -> web.Response:
        answer = await super().web_api(request)
        if request.match_info["method"] == "chat.postMessage" and self.post_delay:
            self.in_flight += 1
            try:
                await asyncio.sleep(self.post_delay)
            finally:
                self.in_flight -= 1
        return answer

    def add_token(self, token: str) -> str:
        """Another bot token for the one team: tells apart which replica made a call."""
        self.bot_tokens[token] = emu.TEAM
        return token

    def reminders(self, token: str | None = None) -> Counter[str]:
        """How many times each burst meeting's reminder reached Slack (sent with `token`)."""
        found = (
            REMINDER.search(str(call.params.get("text", "")))
            for call in self.calls_to("chat.postMessage")
            if token is None or call.token == token
        )
        return Counter(match.group(1) for match in found if match)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(db: str, **extra: str) -> dict[str, str]:
    """The parent's environment without any convene or platform setting, plus `extra`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "CONVENE_", "JITSI_", "WHEREBY_"))
    }
    env.update(CONVENE_DB=db, CONVENE_SECRET_KEY=TEST_KEY, PYTHONPATH=str(ROOT))
    env.update(extra)
    return env


def slack_environment(
    db: str, slack_url: str, port: int, token: str = emu.BOT_TOKEN, **extra: str
) -> dict[str, str]:
    return environment(
        db,
        CONVENE_HTTP_PORT=str(port),
        SLACK_BOT_TOKEN=token,
        SLACK_SIGNING_SECRET=emu.SIGNING_SECRET,
        SLACK_API_URL=f"{slack_url}/api/",
        JITSI_APP_ID="convene-test",
        JITSI_APP_SECRET="a-jitsi-secret-that-is-long-enough-for-hs256",
        **extra,
    )


@dataclass
class Replica:
    """One `convene run` process; its log (stderr, verbose) goes to `log_path`."""

    name: str
    env: dict[str, str]
    workdir: Path
    port: int
    token: str = emu.BOT_TOKEN  # the bot token it calls Slack with
    process: subprocess.Popen[bytes] | None = None
    exits: list[int] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, *argv: str) -> None:
        """Start (or start again) the process; `argv` may prefix it (e.g. faketime)."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*argv, sys.executable, "-m", "adapters.main", "-v", "run"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=self.env,
                cwd=self.workdir,
            )

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, number: signal.Signals) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(number)

    async def wait_exit(self, timeout: float = BOUND) -> int:
        assert self.process is not None
        deadline = asyncio.get_running_loop().time() + timeout
        while self.process.poll() is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.name} did not exit\n{self.log_tail()}")
            await asyncio.sleep(0.02)
        self.exits.append(self.process.returncode)
        return self.process.returncode

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        await self.wait_exit()

    async def readyz(self, session: aiohttp.ClientSession) -> int | None:
        """/readyz's status, or None when nothing answers on the port."""
        try:
            async with session.get(f"{self.base}/readyz", timeout=aiohttp.ClientTimeout(3)) as r:
                return r.status
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def wait_ready(self, session: aiohttp.ClientSession, timeout: float = BOUND) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while await self.readyz(session) != 200:
            if not self.alive or asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.name} never became ready\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    async def metrics(self, session: aiohttp.ClientSession) -> str:
        async with session.get(f"{self.base}/metrics") as response:
            assert response.status == 200
            return await response.text()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_text()[-chars:]

    def stop_now(self) -> None:
        """Teardown: kill whatever is still running."""
        if self.alive:
            assert self.process is not None
            self.process.kill()
            self.process.wait(BOUND)


def replicas(count: int, db: str, slack: SlowSlack, workdir: Path, **extra: str) -> list[Replica]:
    """`count` replicas on `db`, each with its own port and its own bot token."""
    made = []
    for n in range(count):
        port = free_port()
        token = slack.add_token(f"xoxb-replica-{n}")
        env = slack_environment(db, slack.base_url, port, token, **extra)
        made.append(Replica(f"replica-{n}", env, workdir, port, token))
    return made


def burst_titles(count: int) -> set[str]:
    return {f"Burst {i:03d}" for i in range(count)}


async def prepare_burst(db: str, count: int, due: datetime) -> None:
    """`count` Slack meetings in #general whose reminders all fall due at `due`.

    They are made through the service with a clock set so that "in 15m … remind
    12m" puts every reminder at `due`; each starts 12 minutes after it."""
    created = due - (timedelta(minutes=15) - LEAD)
    async with harness(db, clock=FakeClock(created)) as h:
        await h.core.store.open()
        h.core.messengers["slack"] = FakePlatform(h.service, name="slack")
        ana = Caller("slack", emu.TEAM, "CGENERAL", "UANA", user_name="ana", is_admin=True)
        for title in sorted(burst_titles(count)):
            reply = await h.service.run_text(
                ana, f'/meet "{title}" in 15m for 30m remind {LEAD.seconds // 60}m'
            )
            assert reply.ok, reply.text


async def wait_until(moment: datetime) -> None:
    """Sleep until the real clock reaches `moment`."""
    await asyncio.sleep(max((moment - real_now()).total_seconds(), 0.0))


async def wait_for(condition: Any, timeout: float = BOUND, *, every: float = 0.05) -> bool:
    """Poll `condition()` until true or `timeout`; whether it became true."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(every)
    return True


def outcomes(logs: Iterable[str]) -> Counter[str]:
    """Reminder outcomes the processes logged ("sent", "skipped", …)."""
    found = Counter[str]()
    for text in logs:
        found.update(re.findall(r"reminder of meeting \w+: (\w+),", text))
    return found
