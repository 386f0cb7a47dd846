"""Reminders lost and repeated when a `convene run` process dies mid-burst.

Real processes, a loopback Slack answering chat.postMessage slowly, counts taken at
Slack (a post counts when it arrives there, so one whose answer a killed process
never read still counts as posted):

- two replicas on one PostgreSQL, 60 meetings whose reminders fall due at once;
  one replica is SIGKILLed as its first reminders reach Slack; the survivor must
  take its claims over (15 s lease + one 30 s sweep at most);
- one process (SQLite), 600 reminders due at once, SIGKILLed 1.5 s after they fell
  due, then restarted (on a clock 20 s ahead with faketime when it is installed,
  else after a real 20 s wait, so the dead process's leases have run out).

The baseline is the issue's measurement of the earlier build (2-minute claim lease,
unbounded concurrent sends): it is quoted, not re-run.

    .venv/bin/python bench/replicas.py [--quick] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from storage.deliveries import LEASE  # noqa: E402
from tests.e2e.processes import (  # noqa: E402
    SlowSlack,
    burst_titles,
    prepare_burst,
    real_now,
    replicas,
    wait_for,
    wait_until,
)
from tests.emulators.base import serve  # noqa: E402

BASELINE = {
    "two replicas, 60 meetings, SIGKILL as reminders fell due": "1 lost",
    "one process, SIGKILL 1.5 s after due, slow Slack": "230 of 300 lost (skipped), 59 repeated",
    "one process, sends had reached Slack before the kill": "all 300 repeated",
}


def figures(slack: SlowSlack, count: int) -> tuple[int, int]:
    seen = slack.reminders()
    return len(burst_titles(count) - set(seen)), sum(n - 1 for n in seen.values())


async def done_count(db: str) -> int:
    sql = "SELECT count(*) FROM deliveries WHERE kind = 'reminder' AND done_at IS NOT NULL"
    if "://" not in db:
        with closing(sqlite3.connect(db)) as conn:
            return int(conn.execute(sql).fetchone()[0])
    import psycopg

    async with await psycopg.AsyncConnection.connect(db, autocommit=True) as conn:
        row = await (await conn.execute(sql)).fetchone()
        return int(row[0]) if row else 0


async def wait_recorded(db: str, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while await done_count(db) < count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def two_replicas(pg_url: str, work: Path, count: int) -> str:
    slack = SlowSlack()
    async with serve(slack.app) as url, aiohttp.ClientSession() as session:
        slack.base_url = url
        due = real_now() + timedelta(seconds=8)
        await prepare_burst(pg_url, count, due)
        procs = replicas(2, pg_url, slack, work)
        try:
            for replica in procs:
                replica.start()
            for replica in procs:
                await replica.wait_ready(session)
            slack.post_delay = 0.2
            victim = procs[0]
            await wait_for(lambda: bool(slack.reminders(victim.token)), 60, every=0.005)
            in_flight = slack.in_flight
            await victim.kill()
            killed = time.monotonic()
            settled = await wait_recorded(pg_url, count, LEASE.total_seconds() + 60)
            took = time.monotonic() - killed
            await asyncio.sleep(1)
        finally:
            for replica in procs:
                replica.stop_now()
        lost, repeated = figures(slack, count)
        return (
            f"lost {lost}, repeated {repeated} (in flight at the kill: {in_flight}); "
            f"all recorded {took:.1f} s after the kill{'' if settled else ' (NOT settled)'}"
        )


async def one_process(work: Path, count: int) -> str:
    db = str(work / "single.db")
    slack = SlowSlack()
    async with serve(slack.app) as url, aiohttp.ClientSession() as session:
        slack.base_url = url
        due = real_now() + timedelta(seconds=6)
        await prepare_burst(db, count, due)
        (only,) = replicas(1, db, slack, work)
        try:
            only.start()
            await only.wait_ready(session)
            slack.post_delay = 0.02
            await wait_until(due + timedelta(seconds=1.5))
            in_flight = slack.in_flight
            await only.kill()
            before = sum(slack.reminders().values())
            ahead = LEASE.total_seconds() + 5
            faketime = shutil.which("faketime")
            if faketime:
                only.start(faketime, "-f", f"+{ahead:.0f}s")
            else:
                await asyncio.sleep(ahead)
                only.start()
            settled = await wait_recorded(db, count, 120)
            await asyncio.sleep(1)
            only.signal(signal.SIGTERM)
            await only.wait_exit(15)
        finally:
            only.stop_now()
        with closing(sqlite3.connect(db)) as conn:
            skipped = conn.execute(
                "SELECT count(*) FROM deliveries WHERE kind = 'reminder' AND outcome = 'skipped'"
            ).fetchone()[0]
        lost, repeated = figures(slack, count)
        return (
            f"lost {lost}, repeated {repeated}, skipped {skipped} "
            f"(posted before the kill: {before}, in flight: {in_flight})"
            f"{'' if settled else ' (NOT settled)'}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 and 100 meetings")
    parser.add_argument("--postgres", help="a PostgreSQL URL (default: the test server)")
    args = parser.parse_args()
    import tests.stores
    from tests.stores import fresh_schema

    if args.postgres:
        tests.stores.ADMIN_URL = args.postgres
    pair, single = (20, 100) if args.quick else (60, 600)
    print("baseline (the issue, earlier build):")
    for case, figure in BASELINE.items():
        print(f"  {case}: {figure}")
    print("now:")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        async with fresh_schema() as pg_url:
            print(f"  two replicas on PostgreSQL, {pair} meetings, SIGKILL as reminders fell due:")
            print(f"    {await two_replicas(pg_url, work, pair)}")
        print(f"  one process (SQLite), {single} reminders, SIGKILL 1.5 s after due, restart:")
        print(f"    {await one_process(work, single)}")
    server = tests.stores.ADMIN_URL.rsplit("@", 1)[-1]
    print(f"(PostgreSQL at {server}; counts taken at the Slack emulator)")


if __name__ == "__main__":
    asyncio.run(main())
