"""Slack HTTP mode under a burst: how fast convene acknowledges `/meet`, and how fast
the card reaches the channel, compared with a bare bolt app that only acknowledges.

Two processes on loopback, as in production where Slack and convene are different
machines:

- this process plays Slack and the provider: the Slack Web API emulator (records
  when each `chat.postMessage` arrives), the Whereby emulator answering after a
  fixed delay, and the load generator that posts N signed `/meet Retro at 16:00
  for 30m` slash commands at once to `POST /slack/events`;
- a child process serves either convene (ConveneApp, Slack platform in HTTP mode,
  Whereby as provider, a file database) or the baseline (a bare bolt AsyncApp with
  the same signing secret whose `/meet` listener only acks), both through convene's
  own aiohttp server.

The ack is the HTTP response to the slash command; command → card is from sending
the command to the card's `chat.postMessage` arriving at the emulator (both clocks
are CLOCK_MONOTONIC, shared by the two processes). Every command comes from a
different user in a different channel, so each one also costs convene a cold
`users.info` call.

    .venv/bin/python bench/ack_latency.py [--quick] [--levels 50,200,500] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import resource
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from bench.profiling import ask_child_to_profile, profiled  # noqa: E402
from tests.emulators import slack as emu  # noqa: E402
from tests.emulators.base import serve  # noqa: E402
from tests.emulators.whereby import WherebyEmulator  # noqa: E402
from tests.moments import next_monday_at  # noqa: E402

PROVIDER_DELAY = 0.050  # seconds the provider takes to create a room
NOW = next_monday_at(9)  # convene's clock, from the real date: 16:00 is always ahead
TEXT = "Retro at 16:00 for 30m"
WHEREBY_KEY = "wb-bench-key"
CARD_TIMEOUT = 60.0
SERIAL = 30  # commands sent one after another before the bursts


# ---- the child: convene or a bare bolt app -----------------------------------------


async def serve_convene(slack_url: str, whereby_url: str, db_path: str) -> None:
    from adapters.main import build_app
    from bot.config import Settings
    from tests.fakes import TEST_KEY

    settings = Settings(
        db_path=db_path,
        http_port=0,
        provider="whereby",
        secret_key=TEST_KEY,
        slack_bot_token=emu.BOT_TOKEN,
        slack_signing_secret=emu.SIGNING_SECRET,
        slack_api_url=f"{slack_url}/api/",
        whereby_api_key=WHEREBY_KEY,
        whereby_api_url=f"{whereby_url}/v1",
    )
    app = build_app(settings, clock=lambda: NOW)
    task = asyncio.create_task(app.run())
    while not app.http.port:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    with profiled():
        await _announce_and_wait(app.http.port)
    _report_cpu()
    for platform in app.platforms:
        await platform.stop()
    await asyncio.wait_for(task, 10)


async def serve_bare(slack_url: str) -> None:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.http import HttpServer, make_http_app

    bolt = AsyncApp(
        client=AsyncWebClient(token=emu.BOT_TOKEN, base_url=f"{slack_url}/api/"),
        signing_secret=emu.SIGNING_SECRET,
    )

    @bolt.command("/meet")
    async def meet(ack: AsyncAck) -> None:
        await ack()

    async def dispatch(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    server = HttpServer(make_http_app(), "127.0.0.1", 0)
    server.app.router.add_post("/slack/events", dispatch)
    await server.start()
    await _announce_and_wait(server.port)
    _report_cpu()
    await server.stop()


_cpu_at_start = 0.0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _report_cpu() -> None:
    """The process CPU seconds spent serving (after start-up), for the parent to read."""
    print(f"CPU {_cpu_seconds() - _cpu_at_start:.6f}", flush=True)


async def _announce_and_wait(port: int) -> None:
    global _cpu_at_start
    _cpu_at_start = _cpu_seconds()
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # until the parent closes stdin


# ---- the parent: Slack, the provider and the load ---------------------------------


class TimedSlack(emu.SlackEmulator):
    """The Slack emulator, noting when each channel's card arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.card_at: dict[str, float] = {}
        self.signs_by_now = False

    def _post_message(self, team: str, params: dict[str, Any]) -> web.Response:
        self.card_at.setdefault(str(params.get("channel")), time.monotonic())
        return super()._post_message(team, params)


@dataclass
class Round:
    acks: list[float] = field(default_factory=list)
    cards: list[float] = field(default_factory=list)
    errors: int = 0
    missing_cards: int = 0


@dataclass
class Run:
    """One server's rounds, and the CPU its process spent serving them."""

    rounds: dict[int, Round] = field(default_factory=dict)
    commands: int = 0
    cpu_seconds: float = float("nan")

    def cpu_ms_per_command(self) -> float:
        return self.cpu_seconds / self.commands * 1000 if self.commands else float("nan")


class Server:
    """The child process serving convene or the bare bolt app."""

    def __init__(self, kind: str, slack_url: str, whereby_url: str, db_path: str) -> None:
        self.args = [
            sys.executable, __file__, "--serve", kind, "--slack", slack_url,
            "--whereby", whereby_url, "--db", db_path,
        ]  # fmt: skip
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.cpu_seconds = float("nan")

    async def __aenter__(self) -> Server:
        self.proc = await asyncio.create_subprocess_exec(
            *self.args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)
        if not line.startswith(b"PORT "):
            raise RuntimeError(f"server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/slack/events"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        assert self.proc.stdout is not None
        with contextlib.suppress(TimeoutError):
            line = await asyncio.wait_for(self.proc.stdout.readline(), 15)
            if line.startswith(b"CPU "):
                self.cpu_seconds = float(line.split()[1])
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


async def burst(
    session: aiohttp.ClientSession, url: str, slack: TimedSlack, tag: str, n: int, cards: bool
) -> Round:
    """N slash commands at once, each from its own user in its own channel."""
    bodies = []
    for i in range(n):
        payload = emu.command_payload(
            TEXT,
            response_url=slack.response_url_for(f"{tag}-{i}"),
            channel=f"C{tag}X{i}",
            user=f"U{tag}X{i}",
            trigger_id=f"trigger-{tag}-{i}",
        )
        bodies.append(urlencode(payload))
    sent: list[float] = [0.0] * n
    result = Round()

    async def one(i: int) -> None:
        # convene's gate checks the timestamp by its own clock (NOW); bolt's is off here
        stamp = int(NOW.timestamp()) if slack.signs_by_now else int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": emu.sign(bodies[i], stamp),
        }
        sent[i] = time.monotonic()
        try:
            async with session.post(url, data=bodies[i], headers=headers) as response:
                await response.read()
                ok = response.status == 200
        except aiohttp.ClientError:
            ok = False
        if ok:
            result.acks.append(time.monotonic() - sent[i])
        else:
            result.errors += 1

    await asyncio.gather(*(one(i) for i in range(n)))
    if cards:
        channels = [f"C{tag}X{i}" for i in range(n)]
        deadline = time.monotonic() + CARD_TIMEOUT
        while time.monotonic() < deadline and not all(c in slack.card_at for c in channels):
            await asyncio.sleep(0.02)
        for i, channel in enumerate(channels):
            if channel in slack.card_at:
                result.cards.append(slack.card_at[channel] - sent[i])
            else:
                result.missing_cards += 1
    return result


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1] * 1000


async def measure(kind: str, levels: list[int], rounds: int) -> Run:
    slack = TimedSlack()
    whereby = WherebyEmulator(api_key=WHEREBY_KEY)
    whereby.slow_create = PROVIDER_DELAY
    run = Run()
    out = run.rounds
    connector = aiohttp.TCPConnector(limit=0)
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            serve(slack.app) as slack_url,
            serve(whereby.app) as whereby_url,
            aiohttp.ClientSession(connector=connector) as session,
        ):
            slack.base_url = slack_url
            slack.signs_by_now = kind == "convene"
            db_path = str(Path(tmp) / "convene.db")
            async with Server(kind, slack_url, whereby_url, db_path) as server:
                cards = kind == "convene"
                await burst(session, server.url, slack, "warm", 20, cards)  # caches, imports
                run.commands += 20
                alone = Round()  # one command at a time: the cost of a command without a queue
                for i in range(SERIAL):
                    got = await burst(session, server.url, slack, f"s{i}", 1, cards)
                    alone.acks += got.acks
                    alone.cards += got.cards
                    alone.errors += got.errors + got.missing_cards
                out[1] = alone
                run.commands += SERIAL
                for level in levels:
                    total = Round()
                    for r in range(rounds):
                        got = await burst(session, server.url, slack, f"{level}r{r}", level, cards)
                        total.acks += got.acks
                        total.cards += got.cards
                        total.errors += got.errors
                        total.missing_cards += got.missing_cards
                        run.commands += level
                        await asyncio.sleep(0.5)  # let the previous burst's tail finish
                    out[level] = total
            run.cpu_seconds = server.cpu_seconds
    return run


def report(levels: list[int], rounds: int, bare_run: Run, conv_run: Run) -> None:
    bare, conv = bare_run.rounds, conv_run.rounds
    delay = PROVIDER_DELAY * 1000
    print(f"provider delay {delay:.0f} ms; {rounds} round(s) per level; times in ms")
    print(
        f"{'N':>5} {'server':<8} {'ack p50':>8} {'ack p99':>8} {'card p50':>9} {'card p99':>9}"
        f" {'card-prov p50':>14} {'errors':>6}"
    )
    for level in [1, *levels]:
        for name, data in (("bare", bare[level]), ("convene", conv[level])):
            card50 = pct(data.cards, 50)
            print(
                f"{level:>5} {name:<8} {pct(data.acks, 50):>8.1f} {pct(data.acks, 99):>8.1f}"
                f" {card50:>9.1f} {pct(data.cards, 99):>9.1f} {card50 - delay:>14.1f}"
                f" {data.errors + data.missing_cards:>6}"
            )
    print(f"(N=1: {SERIAL} commands one after another, no concurrency)")
    print()
    for level in [1, *levels]:
        b, c = bare[level], conv[level]
        print(
            f"N={level}: ack p50 ratio convene/bare {pct(c.acks, 50) / pct(b.acks, 50):.2f}, "
            f"ack p99 ratio {pct(c.acks, 99) / pct(b.acks, 99):.2f}; "
            f"command->card overhead excluding provider, p50 {pct(c.cards, 50) - delay:.1f} ms"
        )
    print()
    for name, run in (("bare", bare_run), ("convene", conv_run)):
        print(
            f"CPU {name}: {run.cpu_seconds:.2f} s over {run.commands} commands = "
            f"{run.cpu_ms_per_command():.2f} ms per /meet (process CPU while serving)"
        )
    summary: dict[str, Any] = {
        str(level): {
            "bare_ack_p50": pct(bare[level].acks, 50),
            "bare_ack_p99": pct(bare[level].acks, 99),
            "convene_ack_p50": pct(conv[level].acks, 50),
            "convene_ack_p99": pct(conv[level].acks, 99),
            "convene_card_p50": pct(conv[level].cards, 50),
            "convene_card_p99": pct(conv[level].cards, 99),
        }
        for level in [1, *levels]
    }
    summary["cpu_ms_per_command"] = {
        "bare": bare_run.cpu_ms_per_command(),
        "convene": conv_run.cpu_ms_per_command(),
    }
    print("json:", json.dumps(summary, separators=(",", ":")))


async def main_async(levels: list[int], rounds: int) -> None:
    bare = await measure("bare", levels, rounds)
    conv = await measure("convene", levels, rounds)
    report(levels, rounds, bare, conv)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 and 200 only, one round")
    parser.add_argument("--levels", default="50,200,500")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", metavar="FILE", help="write a pyinstrument profile of convene's child here"
    )
    parser.add_argument("--serve", choices=("convene", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--slack", help=argparse.SUPPRESS)
    parser.add_argument("--whereby", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.serve == "convene":
        asyncio.run(serve_convene(args.slack, args.whereby, args.db))
        return
    if args.serve == "bare":
        asyncio.run(serve_bare(args.slack))
        return
    ask_child_to_profile(args.profile)
    levels = [50, 200] if args.quick else [int(x) for x in args.levels.split(",")]
    rounds = 1 if args.quick else max(1, min(args.rounds, 5))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(levels, rounds))


if __name__ == "__main__":
    main()
