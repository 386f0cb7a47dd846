"""Discord sharding: discord.py's AutoShardedClient against a loopback Discord that
routes each guild's events to the shard owning it (`(guild_id >> 22) % shard_count`).

First one process running every shard, then two real `convene run` replicas on one
PostgreSQL, each running one shard of two: every command reaches exactly one replica,
and every reminder is posted once whichever replica claims it. Each replica calls
Discord with its own bot token (the loopback Discord accepts both), only so the test
can tell which one posted what; a real deployment shares one token.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp

from adapters.discord.platform import DiscordPlatform, ShardedConveneClient
from bot.config import Settings
from bot.models import Caller
from tests.e2e.discord_harness import discord_emulator
from tests.e2e.processes import (
    BOUND,
    Replica,
    environment,
    free_port,
    outcomes,
    real_now,
    wait_for,
    wait_until,
)
from tests.emulators.discord import (
    CHANNEL_ID,
    GUILD_ID,
    TOKEN,
    DiscordEmulator,
    Sent,
    shard_of,
)
from tests.fakes import FakeClock, FakePlatform, harness
from tests.moments import next_monday_at

ANA = 1700000000000000001
SHARDS = 2
OTHER_GUILD = GUILD_ID + (1 << 22)  # the next guild id that Discord puts on the other shard
OTHER_CHANNEL = CHANNEL_ID + 1
SETTLE = 1.0  # after everything arrived: room for a duplicate to show


def two_guilds(emu: DiscordEmulator) -> dict[int, int]:
    """Add a second guild; each guild's shard of two (one guild per shard)."""
    emu.add_guild(OTHER_GUILD, OTHER_CHANNEL)
    shards = {guild: shard_of(guild, SHARDS) for guild in (GUILD_ID, OTHER_GUILD)}
    assert sorted(shards.values()) == [0, 1]
    return shards


def cards_titled(emu: DiscordEmulator, title: str) -> list[Sent]:
    return [
        s
        for s in emu.sent
        if s.kind == "channel" and any(e.get("title") == title for e in s.body.get("embeds", []))
    ]


def channel_posts_naming(emu: DiscordEmulator, title: str) -> list[Sent]:
    return [s for s in emu.sent if s.kind == "channel" and title in str(s.body.get("content"))]


async def meet_now(emu: DiscordEmulator, guild_id: int, title: str) -> tuple[str, Sent]:
    """`/meet now title:<title>` in `guild_id`'s channel; the interaction and its card."""
    interaction = await emu.slash("now", {"title": title}, user_id=ANA, guild_id=guild_id)
    await emu.wait_for(lambda s: bool(cards_titled(emu, title)), timeout=10)
    return interaction, cards_titled(emu, title)[0]


# ---- 1. one process, every shard -----------------------------------------------------


@asynccontextmanager
async def all_shards(emu: DiscordEmulator, db_path: str) -> AsyncIterator[DiscordPlatform]:
    """convene's Discord platform with DISCORD_SHARD_COUNT=2 and no shard ids."""
    async with harness(db_path, clock=FakeClock(next_monday_at(9))) as h:
        settings = Settings(
            db_path=db_path,
            discord_token=TOKEN,
            discord_api_url=emu.api_url,
            discord_gateway_url=emu.gateway_url,
            discord_shard_count=SHARDS,
        )
        platform = DiscordPlatform(settings, h.service, guild_ready_timeout=0.05)
        h.core.messengers[platform.name] = platform.messenger
        task = asyncio.create_task(platform.run())
        try:
            ready = await wait_for(lambda: platform.client.is_ready() or task.done(), 10)
            if task.done():
                task.result()
            assert ready and platform.client.is_ready(), "the shards never became ready"
            yield platform
        finally:
            await platform.stop()
            await asyncio.wait_for(task, 10)


async def test_one_process_runs_every_shard_and_answers_in_a_guild_on_shard_one(
    db_file: str,
) -> None:
    async with discord_emulator() as emu:
        shards = two_guilds(emu)
        async with all_shards(emu, db_file) as platform:
            assert isinstance(platform.client, ShardedConveneClient)
            assert set(emu.shards_identified()) == {(0, SHARDS), (1, SHARDS)}
            assert emu.identifies == SHARDS
            for guild, shard in shards.items():  # each guild arrived on its own shard
                seen = platform.client.get_guild(guild)
                assert seen is not None and seen.shard_id == shard
            on_shard_one = next(g for g, s in shards.items() if s == 1)
            interaction, card = await meet_now(emu, on_shard_one, "Shard one standup")
            assert card.channel_id == str(emu.guilds[on_shard_one]) and card.public
            defer = [s for s in emu.answers_to(interaction) if s.kind == "callback"]
            assert len(defer) == 1 and defer[0].ephemeral
            await asyncio.sleep(0.2)
            assert len(cards_titled(emu, "Shard one standup")) == 1
        assert not emu.violations, emu.violations


# ---- 2. two replicas, one shard each -------------------------------------------------


def discord_environment(
    db: str, emu: DiscordEmulator, port: int, token: str, **extra: str
) -> dict[str, str]:
    """A `convene run` on `db` serving Discord through `emu`, its HTTP server on `port`."""
    return environment(
        db,
        CONVENE_HTTP_PORT=str(port),
        DISCORD_TOKEN=token,
        DISCORD_API_URL=emu.api_url,
        DISCORD_GATEWAY_URL=emu.gateway_url,
        **extra,
    )


def shard_replicas(emu: DiscordEmulator, db: str, workdir: Path) -> list[Replica]:
    """Replica n runs shard n of two, calling Discord with its own token."""
    made = []
    for n in range(SHARDS):
        token = f"{TOKEN}-{n}"
        emu.tokens.add(token)
        port = free_port()
        env = discord_environment(
            db, emu, port, token, DISCORD_SHARD_COUNT=str(SHARDS), DISCORD_SHARD_IDS=str(n)
        )
        made.append(Replica(f"shard-{n}", env, workdir, port, token))
    return made


@contextmanager
def stopped_at_end(procs: list[Replica]) -> Iterator[list[Replica]]:
    try:
        yield procs
    finally:
        for replica in procs:
            replica.stop_now()


async def prepare_reminders(db: str, due: datetime, places: dict[int, int]) -> dict[int, str]:
    """One meeting per guild whose reminder falls due at `due` by the real clock;
    each guild's meeting title. Made through the service, as /meet would make them."""
    titles = {guild: f"Review {n}" for n, guild in enumerate(places)}
    async with harness(db, clock=FakeClock(due - timedelta(minutes=5))) as h:
        await h.core.store.open()
        h.core.messengers["discord"] = FakePlatform(h.service, name="discord")
        for guild, channel in places.items():
            ana = Caller("discord", str(guild), str(channel), str(ANA), user_name="ana")
            reply = await h.service.run_text(ana, f'/meet "{titles[guild]}" in 15m remind 10m')
            assert reply.ok, reply.text
    return titles


async def test_two_replicas_each_identify_their_shard_answer_their_guild_and_remind_once(
    pg_url: str, tmp_path: Path
) -> None:
    async with discord_emulator() as emu, aiohttp.ClientSession() as session:
        shards = two_guilds(emu)
        due = real_now() + timedelta(seconds=6)
        titles = await prepare_reminders(pg_url, due, emu.guilds)
        with stopped_at_end(shard_replicas(emu, pg_url, tmp_path)) as procs:
            for replica in procs:
                replica.start()
            for replica in procs:
                await replica.wait_ready(session)
            for n, replica in enumerate(procs):
                assert emu.shards_identified(replica.token) == [(n, SHARDS)], replica.log_tail()

            for guild, shard in shards.items():
                title = f"Now in guild on shard {shard}"
                interaction, card = await meet_now(emu, guild, title)
                assert card.token == procs[shard].token  # the replica running that shard
                assert card.channel_id == str(emu.guilds[guild])
                callbacks = [s for s in emu.answers_to(interaction) if s.kind == "callback"]
                assert len(callbacks) == 1, callbacks

            await wait_until(due)
            for title in titles.values():
                assert await wait_for(lambda t=title: bool(channel_posts_naming(emu, t)), BOUND)
            await asyncio.sleep(SETTLE)
            for guild, title in titles.items():
                [reminder] = channel_posts_naming(emu, title)
                assert reminder.channel_id == str(emu.guilds[guild])
                assert "starts in" in str(reminder.body["content"])
            # both replicas planned both timers; one claim per meeting, whichever replica won
            assert outcomes(r.log_text() for r in procs) == {"sent": len(titles)}
            for shard in shards.values():
                assert len(cards_titled(emu, f"Now in guild on shard {shard}")) == 1
            for replica in procs:
                assert "Traceback" not in replica.log_text(), replica.log_tail()
        assert not emu.violations, emu.violations


# ---- 3. a shard outside the count ----------------------------------------------------


def test_a_shard_id_outside_the_count_stops_convene_run_in_one_sentence(tmp_path: Path) -> None:
    secret = "discord-token-s3cret"
    env = environment(
        str(tmp_path / "convene.db"),
        CONVENE_HTTP_PORT="0",
        DISCORD_TOKEN=secret,
        DISCORD_API_URL="http://127.0.0.1:9/api/v10",
        DISCORD_GATEWAY_URL="ws://127.0.0.1:9/gateway",
        DISCORD_SHARD_COUNT="2",
        DISCORD_SHARD_IDS="2",
    )
    result = subprocess.run(
        [sys.executable, "-m", "adapters.main", "run"],
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "DISCORD_SHARD_IDS" in lines[0] and "DISCORD_SHARD_COUNT=2" in lines[0]
    assert "Traceback" not in result.stderr and secret not in result.stderr
