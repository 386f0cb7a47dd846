"""Storage at a million meetings: how many meetings convene can create per second and
how long `/meet list` takes to read one channel.

The fixture is a file database (WAL, as convene opens it) with 1,000,000 meeting
rows over 200 workspaces and 20,000 channels, built with one executemany in one
transaction: about 85% ended, 10% upcoming, 5% cancelled, every row with a sealed
host link. One "busy" channel holds 20,000 of the rows (2,000 of them upcoming), the
worst case for a channel's list.

- creates: `storage.meetings.insert_meeting` (one statement each, host link sealed),
  one after another;
- list: `storage.meetings.channel_meetings` for random channels, and for the busy one;
- baseline: a bare `SELECT 1` round trip through the same store.

With `--postgres URL` the same runs on PostgreSQL (an empty database or schema, which
is migrated; the rows are left there for a look afterwards).

    .venv/bin/python bench/storage.py [--quick] [--rows 1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.models import Meeting, MeetingStatus  # noqa: E402
from storage.db import to_text  # noqa: E402
from storage.engine import PostgresStore, SqliteStore, Store, open_store  # noqa: E402
from storage.meetings import channel_meetings, insert_meeting  # noqa: E402
from storage.secrets import SecretBox  # noqa: E402
from tests.fakes import TEST_KEY  # noqa: E402

WORKSPACES = 200
CHANNELS = 20_000
BUSY = ("T0", "CBUSY")
BUSY_ROWS = 20_000
INSERT_MEETING = (
    "INSERT INTO meetings (id, platform, workspace_id, channel_id, organizer_id, title, start_at,"
    " end_at, provider, room_id, join_url, host_url_sealed, status, remind_s, instant, feedback,"
    " invitees, message_ref, series_id, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def place(i: int) -> tuple[str, str]:
    channel = i % CHANNELS
    return f"T{channel % WORKSPACES}", f"C{channel:05d}"


def rows(count: int, now: datetime, sealed: str | None, rng: random.Random):  # noqa: ANN201
    for i in range(count):
        busy = i < BUSY_ROWS
        workspace, channel = BUSY if busy else place(i)
        roll = rng.random()
        if roll < (0.10 if busy else 0.85):  # the busy channel: mostly upcoming
            status, start = "ended", now - timedelta(seconds=rng.randrange(60, 2 * 365 * 86400))
        elif roll < 0.95:
            status, start = "scheduled", now + timedelta(seconds=rng.randrange(60, 60 * 86400))
        else:
            status, start = "cancelled", now + timedelta(seconds=rng.randrange(-86400, 86400))
        if busy and status == "scheduled" and i % 9:
            status = "ended"  # keep the busy channel at about 2,000 upcoming
        end = start + timedelta(minutes=30)
        yield (
            f"m{i:07d}", "slack", workspace, channel, f"U{i % 50_000}", f"Meeting {i}",
            to_text(start), to_text(end), "whereby", f"room-{i}",
            f"https://example.whereby.com/room-{i}", sealed, status, 600, 0, 1, "[]",
            f"17000000{i:02d}.000100", None, to_text(start - timedelta(days=1)),
        )  # fmt: skip


async def timed(action, repeat: int) -> list[float]:  # noqa: ANN001
    out = []
    for i in range(repeat):
        t0 = time.perf_counter()
        await action(i)
        out.append(time.perf_counter() - t0)
    return out


def line(name: str, values: list[float], base_p50: float | None = None) -> str:
    p50, p99 = pct(values, 50) * 1000, pct(values, 99) * 1000
    ratio = f"  {p50 / base_p50:8.0f}x" if base_p50 else ""
    return f"{name:<40} {p50:>9.3f} {p99:>9.3f}{ratio}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL instead")
    asyncio.run(run(parser.parse_args()))


async def run(args: argparse.Namespace) -> None:
    count = 100_000 if args.quick else max(BUSY_ROWS * 2, min(args.rows, 3_000_000))
    rng = random.Random(11)
    box = SecretBox(TEST_KEY)
    sealed = box.seal("https://example.whereby.com/room?roomKey=host-secret")
    now = datetime.now(UTC).replace(microsecond=0)

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "storage.db")
        store: Store = PostgresStore(args.postgres) if args.postgres else open_store(path)
        await store.open()
        t0 = time.perf_counter()
        await store.run_many(INSERT_MEETING, rows(count, now, sealed, rng))
        if isinstance(store, SqliteStore):
            store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            store.conn.execute("ANALYZE")
        else:
            await store.run("ANALYZE meetings")
        built = time.perf_counter() - t0
        print(f"fixture: {count:,} meetings, {CHANNELS:,} channels, built in {built:.1f} s,")
        if isinstance(store, SqliteStore):
            print(f"         file {Path(path).stat().st_size / 1e6:.0f} MB")

        select1 = await timed(lambda i: store.value("SELECT 1"), 5000)
        picks = [place(rng.randrange(CHANNELS)) for _ in range(2000)]
        lists = await timed(
            lambda i: channel_meetings(store, "slack", *picks[i], now), len(picks)
        )
        busy = await timed(lambda i: channel_meetings(store, "slack", *BUSY, now), 200)
        found = len(await channel_meetings(store, "slack", *BUSY, now))
        shown = [len(await channel_meetings(store, "slack", *p, now)) for p in picks[:200]]
        typical = sum(shown) / 200

        async def create(i: int) -> None:
            start = now + timedelta(days=1, minutes=i)
            await insert_meeting(
                store,
                Meeting(
                    id=f"new{i:06d}",
                    platform="slack",
                    workspace_id="T1",
                    channel_id=f"CNEW{i % 100}",
                    organizer_id="UANA",
                    title="Retro",
                    start=start,
                    end=start + timedelta(minutes=30),
                    provider="whereby",
                    room_id=f"new-room-{i}",
                    join_url=f"https://example.whereby.com/new-{i}",
                    host_url=f"https://example.whereby.com/new-{i}?roomKey=host",
                    status=MeetingStatus.SCHEDULED,
                    remind=timedelta(minutes=10),
                    instant=False,
                    feedback=True,
                    created_at=now,
                ),  # fmt: skip
                box,
            )

        creates = await timed(create, 2000)
        await store.close()

    base = pct(select1, 50) * 1000
    print(f"\n{'(ms)':<40} {'p50':>9} {'p99':>9}  vs SELECT 1")
    print(line("SELECT 1 (baseline)", select1))
    print(line(f"/meet list, random channel (~{typical:.1f} shown)", lists, base))
    print(line(f"/meet list, busy channel ({found} shown)", busy, base))
    print(line("insert_meeting", creates, base))
    print(f"\ncreates per second, one after another: {len(creates) / sum(creates):,.0f}")


if __name__ == "__main__":
    main()
