"""Real `convene run` replicas on one PostgreSQL, killed, stopped and restarted.

Each replica is a real process in Slack HTTP mode with its own HTTP port and its
own bot token, so the loopback Slack can tell which one posted what. Reminders are
counted where a user would see them: at Slack. The emulator records a post when it
arrives, so a post whose answer a killed process never read still counts as posted.

Nothing here measures time: waits are bounded only so a broken build fails instead
of hanging; the one bound that is a contract is SIGTERM's ten seconds to exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import psycopg

from bot.claims import SEND_CONCURRENCY
from storage.db import to_text
from storage.deliveries import LEASE
from tests.e2e.processes import (
    BOUND,
    Replica,
    SlowSlack,
    burst_titles,
    environment,
    outcomes,
    prepare_burst,
    real_now,
    replicas,
    wait_for,
    wait_until,
)
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.stores import ADMIN_URL, fresh_schema

SWEEP = 30.0  # seconds between sweeps (bot.lifecycle.SWEEP_EVERY)
TAKEOVER = LEASE.total_seconds() + SWEEP + 10  # a dead replica's claim is free, then swept
EXIT_ON_SIGTERM = 10.0  # the contract: a SIGTERM'd replica is gone within this
SETTLE = 1.0  # after everything was recorded: room for a late duplicate to show


@contextlib.asynccontextmanager
async def slack_and_session() -> AsyncIterator[tuple[SlowSlack, aiohttp.ClientSession]]:
    slack = SlowSlack()
    async with serve(slack.app) as url, aiohttp.ClientSession() as session:
        slack.base_url = url
        yield slack, session


@contextlib.asynccontextmanager
async def stopped_at_end(procs: list[Replica]) -> AsyncIterator[list[Replica]]:
    try:
        yield procs
    finally:
        for replica in procs:
            replica.stop_now()


async def pg_reminders_done(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        cursor = await conn.execute(
            "SELECT count(*) FROM deliveries WHERE kind = 'reminder' AND done_at IS NOT NULL"
        )
        row = await cursor.fetchone()
        return int(row[0]) if row else 0


async def wait_all_recorded(url: str, count: int, timeout: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while await pg_reminders_done(url) < count:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


def lost_and_repeated(slack: SlowSlack, count: int) -> tuple[int, int]:
    seen = slack.reminders()
    lost = len(burst_titles(count) - set(seen))
    return lost, sum(n - 1 for n in seen.values())


# ---- 1. every reminder once across two replicas -----------------------------------------


async def test_two_replicas_post_each_due_reminder_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    count = 60
    async with slack_and_session() as (slack, session):
        due = real_now() + timedelta(seconds=8)
        await prepare_burst(pg_url, count, due)
        async with stopped_at_end(replicas(2, pg_url, slack, tmp_path)) as procs:
            for replica in procs:
                replica.start()
            for replica in procs:
                await replica.wait_ready(session)
            slack.post_delay = 0.05
            await wait_until(due)
            assert await wait_all_recorded(pg_url, count, BOUND), procs[0].log_tail()
            await asyncio.sleep(SETTLE)
            seen = slack.reminders()
            assert set(seen) == burst_titles(count)
            assert max(seen.values()) == 1, seen.most_common(3)
            assert sum(outcomes(r.log_text() for r in procs).values()) == count


# ---- 2. SIGKILL: a replica mid-burst, and the single process of the issue ---------------


async def test_sigkill_of_a_replica_mid_burst_loses_none_and_repeats_only_sends_in_flight(
    pg_url: str, tmp_path: Path
) -> None:
    count = 60
    async with slack_and_session() as (slack, session):
        due = real_now() + timedelta(seconds=8)
        await prepare_burst(pg_url, count, due)
        async with stopped_at_end(replicas(2, pg_url, slack, tmp_path)) as procs:
            victim, survivor = procs
            for replica in procs:
                replica.start()
            for replica in procs:
                await replica.wait_ready(session)
            slack.post_delay = 0.2  # a slow Slack: every post is in flight for a while
            assert await wait_for(lambda: sum(slack.reminders(victim.token).values()) >= 2)
            in_flight = slack.in_flight  # posts that reached Slack, answers not yet read
            await victim.kill()
            assert len(slack.reminders()) < count, "the kill landed after the burst"
            assert await wait_all_recorded(pg_url, count, TAKEOVER), survivor.log_tail()
            await asyncio.sleep(SETTLE)
            lost, repeated = lost_and_repeated(slack, count)
            print(
                f"\ntwo replicas, SIGKILL mid-burst: lost {lost}, repeated {repeated}, "
                f"in flight at the kill {in_flight}"
            )
            assert lost == 0
            assert repeated <= SEND_CONCURRENCY  # at most the killed replica's sends under way
            assert "skipped" not in outcomes([survivor.log_text()])


async def test_sigkill_of_the_only_process_mid_burst_then_restart_loses_none(
    tmp_path: Path,
) -> None:
    """The issue's single-process case: 300 reminders, SIGKILL 1.5 s after they fell
    due while Slack answers slowly. The dead process's unfinished claims are moved one
    lease back before the restart, as a restart 15 s later would find them (and the
    suite's clock stays one clock, also under tests/any-date.sh)."""
    count = 300
    db = str(tmp_path / "convene.db")
    async with slack_and_session() as (slack, session):
        due = real_now() + timedelta(seconds=6)
        await prepare_burst(db, count, due)
        async with stopped_at_end(replicas(1, db, slack, tmp_path)) as (only,):
            only.start()
            await only.wait_ready(session)
            slack.post_delay = 0.5  # Slack answering slowly: the burst outlasts 1.5 s
            await wait_until(due + timedelta(seconds=1.5))
            in_flight = slack.in_flight
            await only.kill()
            before = sum(slack.reminders().values())
            assert 0 < before < count, f"the kill did not land during the burst ({before})"
            expire_unfinished_claims(db)
            only.start()
            done = await wait_for(lambda: sqlite_reminders_done(db) >= count, BOUND, every=0.2)
            assert done, only.log_tail()
            await asyncio.sleep(SETTLE)
            only.signal(signal.SIGTERM)
            await only.wait_exit(EXIT_ON_SIGTERM)
        lost, repeated = lost_and_repeated(slack, count)
        print(
            f"\none process, {count} reminders, SIGKILL 1.5 s after due: lost {lost}, "
            f"repeated {repeated}, sent before the kill {before}, in flight {in_flight}"
        )
        assert lost == 0 and repeated <= SEND_CONCURRENCY  # at most the sends under way
        assert sqlite_outcomes(db) == {"sent": count}  # none "skipped"


def expire_unfinished_claims(db: str) -> None:
    """What a restart after the lease would find: the dead owner's claims run out."""
    stale = to_text(real_now() - LEASE - timedelta(seconds=1))
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE deliveries SET claimed_at = ? WHERE done_at IS NULL", [stale])


def sqlite_reminders_done(db: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM deliveries WHERE kind = 'reminder' AND done_at IS NOT NULL"
        ).fetchone()
    return int(row[0])


def sqlite_outcomes(db: str) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        rows = conn.execute(
            "SELECT outcome, count(*) FROM deliveries WHERE kind = 'reminder' GROUP BY outcome"
        ).fetchall()
    return {str(outcome): int(n) for outcome, n in rows}


# ---- 3. SIGTERM and a rolling restart ---------------------------------------------------


async def stop_gracefully(replica: Replica, session: aiohttp.ClientSession) -> list[int | None]:
    """SIGTERM; every /readyz answer seen until the process exited (None: no answer)."""
    replica.signal(signal.SIGTERM)
    seen: list[int | None] = []
    deadline = asyncio.get_running_loop().time() + EXIT_ON_SIGTERM
    while replica.alive and asyncio.get_running_loop().time() < deadline:
        seen.append(await replica.readyz(session))
        await asyncio.sleep(0.01)
    assert await replica.wait_exit(1.0) == 0, replica.log_tail()
    return seen


async def test_a_rolling_restart_during_a_burst_loses_and_repeats_nothing(
    pg_url: str, tmp_path: Path
) -> None:
    count = 60
    async with slack_and_session() as (slack, session):
        due = real_now() + timedelta(seconds=8)
        await prepare_burst(pg_url, count, due)
        async with stopped_at_end(replicas(2, pg_url, slack, tmp_path)) as procs:
            for replica in procs:
                replica.start()
            for replica in procs:
                await replica.wait_ready(session)
            slack.post_delay = 0.1
            await wait_until(due)
            for replica in procs:  # one after the other, as a deploy does
                assert await wait_for(lambda r=replica: bool(slack.reminders(r.token)))
                answers = await stop_gracefully(replica, session)
                after_signal = [a for a in answers if a != 200][:1]  # once it saw the signal
                assert after_signal == [503], f"{answers}\n{replica.log_tail()}"
                replica.start()
                await replica.wait_ready(session)
            assert await wait_all_recorded(pg_url, count, BOUND), procs[0].log_tail()
            await asyncio.sleep(SETTLE)
            lost, repeated = lost_and_repeated(slack, count)
            print(f"\nrolling restart during a burst: lost {lost}, repeated {repeated}")
            assert (lost, repeated) == (0, 0)
            for replica in procs:
                assert "shutting down: finishing work in flight" in replica.log_text()
                assert "Traceback" not in replica.log_text(), replica.log_tail()


# ---- 4. the operator's routes -----------------------------------------------------------


def metric(text: str, name: str) -> float:
    """The sum of every sample of `name` in a Prometheus text exposition."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            key = line.split(" ")[0].split("{")[0]
            if key == name:
                total += float(line.rsplit(" ", 1)[1])
    return total


@contextlib.asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A whole database of its own (so it can be dropped under a running replica)."""
    name = f"convene_{uuid.uuid4().hex[:10]}"
    try:
        admin = await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        async with fresh_schema():  # skips, or fails under CONVENE_REQUIRE_POSTGRES=1
            pass
        raise AssertionError("PostgreSQL is not reachable") from exc
    async with admin:
        await admin.execute(f"CREATE DATABASE {name}")
        base = ADMIN_URL.rsplit("/", 1)[0]
        try:
            yield f"{base}/{name}"
        finally:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def test_metrics_and_readiness_of_a_running_replica(tmp_path: Path) -> None:
    async with scratch_database() as url, slack_and_session() as (slack, session):
        due = real_now() + timedelta(seconds=6)
        await prepare_burst(url, 1, due)
        async with stopped_at_end(replicas(1, url, slack, tmp_path)) as (one,):
            one.start()
            await one.wait_ready(session)
            client = emu.SlackClient(session, f"{one.base}/slack/events")
            payload = emu.command_payload("help", response_url=slack.response_url_for(1))
            status, _ = await client.command(payload)
            assert status == 200
            await slack.wait_for_responses(1)
            await wait_until(due)
            assert await wait_for(lambda: bool(slack.reminders()))
            text = await one.metrics(session)
            assert metric(text, "convene_commands_total") >= 1, text
            assert metric(text, "convene_reminder_lateness_seconds_count") == 1, text

            admin = await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True)
            async with admin:
                name = url.rsplit("/", 1)[1]
                await admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
            assert await wait_for_status(one, session, 503)
            assert one.alive  # not ready is not dead: it serves again once the database is back


async def wait_for_status(replica: Replica, session: aiohttp.ClientSession, want: int) -> bool:
    deadline = asyncio.get_running_loop().time() + BOUND
    while await replica.readyz(session) != want:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


def test_a_replica_pointed_at_no_postgresql_refuses_to_start_in_one_sentence(
    tmp_path: Path,
) -> None:
    with socketless_port() as port:
        url = f"postgresql://convene:s3cret-pass@127.0.0.1:{port}/convene"
        result = subprocess.run(
            [sys.executable, "-m", "adapters.main", "run"],
            capture_output=True,
            text=True,
            timeout=BOUND,
            env=environment(url, CONVENE_HTTP_PORT="0"),
            cwd=tmp_path,
            check=False,
        )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "PostgreSQL" in lines[0] and "Traceback" not in result.stderr
    assert "s3cret-pass" not in result.stderr


@contextlib.contextmanager
def socketless_port() -> Iterator[int]:
    """A loopback port nothing listens on (held bound, never listening)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held.getsockname()[1]


# ---- 5. an SQLite deployment moved into PostgreSQL --------------------------------------


async def command(
    replica: Replica, slack: SlowSlack, session: aiohttp.ClientSession, text: str
) -> str:
    """`/meet <text>` through Slack to `replica`; everything Slack got back, as text."""
    before_api, before_responses = len(slack.api), len(slack.responses)
    client = emu.SlackClient(session, f"{replica.base}/slack/events")
    n = f"{uuid.uuid4().hex[:8]}"
    status, ack = await client.command(
        emu.command_payload(text, response_url=slack.response_url_for(n))
    )
    assert status == 200, ack
    await wait_for(lambda: len(slack.responses) > before_responses, 10)
    await asyncio.sleep(0.3)  # a card or a private note may follow the answer
    later = [c.params for c in slack.api[before_api:]] + slack.responses[before_responses:]
    return ack + repr(later)


async def test_an_sqlite_deployment_copied_into_postgresql_serves_the_same_meetings(
    pg_url: str, tmp_path: Path
) -> None:
    sqlite_file = tmp_path / "convene.db"
    async with slack_and_session() as (slack, session):
        (old,) = replicas(1, str(sqlite_file), slack, tmp_path)
        async with stopped_at_end([old]):
            old.start()
            await old.wait_ready(session)
            await command(old, slack, session, '"Carry over" in 2h for 30m')
            with contextlib.closing(sqlite3.connect(sqlite_file)) as conn:
                (meeting_id,) = conn.execute("SELECT id FROM meetings").fetchone()
            host_before = await command(old, slack, session, f"host {meeting_id}")
            old.signal(signal.SIGTERM)
            assert await old.wait_exit(EXIT_ON_SIGTERM) == 0

        migrate = subprocess.run(
            [sys.executable, "-m", "adapters.main", "migrate", "--copy-from", str(sqlite_file)],
            capture_output=True,
            text=True,
            timeout=BOUND,
            env=environment(pg_url),
            cwd=tmp_path,
            check=False,
        )
        assert migrate.returncode == 0, migrate.stderr
        assert "meetings" in migrate.stdout, migrate.stdout

        (new,) = replicas(1, pg_url, slack, tmp_path)
        async with stopped_at_end([new]):
            new.start()
            await new.wait_ready(session)
            listed = await command(new, slack, session, "list")
            host_after = await command(new, slack, session, f"host {meeting_id}")
        assert "Carry over" in listed
        assert host_link(host_before) == host_link(host_after) is not None


def host_link(text: str) -> str | None:
    found = re.search(r"https://meet\.jit\.si/[^\s\"'<>|\\]+jwt=[^\s\"'<>|\\]+", text)
    return found.group() if found else None
