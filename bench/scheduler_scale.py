"""The lifecycle at scale: start-up with many pending meetings, and lateness of a burst
of reminders that all fall due at once.

Start-up: a file database holds 100,000 future meetings (every one with a sealed
host link, so each row is decrypted as at a real start) and 10,000 active weekly
series. A fresh child process builds what ConveneApp builds (database, Core,
AsyncIOScheduler, Lifecycle, MeetingService) and times `MeetingService.start()`,
which runs `SeriesManager.start()` and `Lifecycle.start()`; it reports the
process's peak RSS, and then times one sweep and one horizon re-plan, the periodic
work that runs on the same loop. Baseline, in another fresh child: a plain
AsyncIOScheduler given one date job per pending meeting (at its reminder time) and
one per series, then started.

Lateness: 1,000 meetings in 1,000 channels whose reminders are all due in the same
second, a real AsyncIOScheduler on the real clock, and a messenger that notes when
each notice is handed to it (then waits a simulated 20 ms Slack round trip, with
Slack's one message per second per channel enforced, which with 1,000 channels
never binds). Baseline: 1,000 plain date jobs due in the same second, noting when
each runs.

    .venv/bin/python bench/scheduler_scale.py [--quick] [--meetings 100000] [--series 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402

from bench.profiling import ask_child_to_profile, profiled  # noqa: E402
from bot.core import Core  # noqa: E402
from bot.lifecycle import Lifecycle  # noqa: E402
from bot.messages import Card, Notice, NoticeKind, Private  # noqa: E402
from bot.models import Place, WorkspaceSettings  # noqa: E402
from bot.ports import Capabilities, Room, RoomSpec, system_clock  # noqa: E402
from bot.service import MeetingService  # noqa: E402
from storage.db import open_database, to_text  # noqa: E402
from storage.engine import open_store  # noqa: E402
from storage.secrets import SecretBox  # noqa: E402
from tests.fakes import TEST_KEY, StaticProviders, StubProvider  # noqa: E402

PLATFORM = "bench"
HORIZON_DAYS = 30
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
LEAD = 5.0  # seconds from now until the burst of reminders is due
BURST_WAIT = 60.0  # give up collecting notices this long after they were due
SEND_DELAY = 0.020  # simulated Slack round trip per notice
WEEKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
TICK = 0.001  # the loop-lag ticker's period
INSERT_MEETING = (
    "INSERT INTO meetings (id, platform, workspace_id, channel_id, organizer_id, title, start_at,"
    " end_at, provider, room_id, join_url, host_url_sealed, status, remind_s, instant, feedback,"
    " invitees, message_ref, series_id, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
INSERT_SERIES = (
    "INSERT INTO series (id, platform, workspace_id, channel_id, owner_id, title, days, hour,"
    " minute, rrule, tz, length_s, provider, status, feedback, skipped, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def rss_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: a child's ru_maxrss keeps the
    parent's peak from before exec (the fixture), so every child read the same."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class LoopLag:
    """A 1 ms ticker on the loop: the longest gap between its ticks is the longest
    time anything held the loop (what an ack arriving then would have waited)."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - TICK)
            last = now

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._tick())
        await asyncio.sleep(0)  # let the ticker take its first timestamp
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.sleep(TICK * 2)  # one more tick measures the last stretch
        assert self._task is not None
        self._task.cancel()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# ---- fixtures ------------------------------------------------------------------------


def meeting_row(
    i: int, start: datetime, remind_s: int, sealed: str | None, channel: str
) -> tuple[Any, ...]:
    end = start + timedelta(minutes=30)
    return (
        f"m{i:07d}", PLATFORM, "W1", channel, f"U{i % 5000}", f"Meeting {i}",
        to_text(start), to_text(end), "jitsi", f"room-{i}", f"https://meet.example/room-{i}",
        sealed, "scheduled", remind_s, 0, 1, "[]", f"ts-{i}", None, to_text(start),
    )  # fmt: skip


def build_fixture(path: str, meetings: int, series: int, seed: int = 7) -> tuple[float, int]:
    """Future meetings at random times over the next 30 days, in random row order."""
    started = time.perf_counter()
    db = open_database(path)
    sealed = SecretBox(TEST_KEY).seal("https://meet.example/room?host=secret-host-key")
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    for i in range(meetings):
        start = now + timedelta(minutes=10, seconds=rng.randrange(HORIZON_DAYS * 86400))
        rows.append(meeting_row(i, start, 600, sealed, f"C{i % 20000}"))
    series_rows = []
    for i in range(series):
        hour, minute = rng.randrange(7, 18), rng.choice((0, 15, 30, 45))
        rrule = f"DTSTART:{now:%Y%m%d}T{hour:02d}{minute:02d}00\nRRULE:{WEEKDAYS}"
        series_rows.append((
            f"s{i:06d}",
            PLATFORM,
            "W1",
            f"C{i % 20000}",
            f"U{i % 5000}",
            f"Series {i}",
            "0,1,2,3,4",
            hour,
            minute,
            rrule,
            rng.choice(ZONES),
            1800,
            "jitsi",
            "active",
            1,
            "[]",
            to_text(now),
        ))  # fmt: skip
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(INSERT_MEETING, rows)
    conn.executemany(INSERT_SERIES, series_rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started, meetings


# ---- children (fresh processes, so peak RSS is theirs alone) ---------------------------


class RecordingMessenger:
    """Notes when each notice is handed over, then takes a simulated Slack round trip."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self._last_in_channel: dict[str, float] = {}

    async def post_card(self, place: Place, card: Card) -> str | None:
        return "ts"

    async def update_card(self, place: Place, message_ref: str, card: Card) -> None:
        return None

    async def post_notice(self, place: Place, notice: Notice, thread_ref: str | None) -> None:
        if notice.kind is NoticeKind.REMINDER:
            self.sent.setdefault(notice.meeting_id, time.time())
        last = self._last_in_channel.get(place.channel_id)
        if last is not None and time.monotonic() - last < 1.0:  # Slack: ~1 msg/s per channel
            await asyncio.sleep(1.0 - (time.monotonic() - last))
        self._last_in_channel[place.channel_id] = time.monotonic()
        await asyncio.sleep(SEND_DELAY)

    async def send_private(self, place: Place, user_id: str, note: Private) -> None:
        return None

    async def send_direct(self, place: Place, user_id: str, note: Private) -> None:
        return None

    @staticmethod
    def is_user_id(user_id: str) -> bool:
        return True


class InstantProvider(StubProvider):
    """Jitsi-like: rooms at once, for series occurrences opened during a sweep."""

    capabilities = Capabilities(host_link=True)

    async def create_room(self, spec: RoomSpec) -> Room:
        url = f"https://meet.example/{spec.meeting_id}"
        return Room(room_id=spec.meeting_id, join_url=url, host_url=f"{url}?host=1")


def make_core(path: str) -> Core:
    return Core(
        store=open_store(path),
        box=SecretBox(TEST_KEY),
        providers=StaticProviders(jitsi=InstantProvider()),
        clock=system_clock,
        defaults=WorkspaceSettings(provider="jitsi"),
    )


async def child_startup(path: str) -> dict[str, Any]:
    before = current_rss_mb()
    started = time.perf_counter()
    core = make_core(path)
    scheduler = AsyncIOScheduler(timezone=UTC)
    lifecycle = Lifecycle(core, scheduler)
    service = MeetingService(core, lifecycle)
    core.messengers[PLATFORM] = RecordingMessenger()
    await service.start()
    elapsed = time.perf_counter() - started
    jobs = len(scheduler.get_jobs())
    peak = rss_mb()
    # The periodic work that runs on the same loop afterwards: each blocks it while it runs.
    timings: dict[str, float] = {}
    for name, periodic in (("sweep", lifecycle.sweep), ("horizon", lifecycle.plan_window)):
        runs, stalls = [], []
        for _ in range(3):
            async with LoopLag() as lag:
                t0 = time.perf_counter()
                await periodic()
                runs.append(time.perf_counter() - t0)
            stalls.append(lag.longest)
        timings[name] = sorted(runs)[1]
        timings[f"{name}_first"] = runs[0]
        timings[f"{name}_stall"] = max(stalls)
    scheduler.shutdown(wait=False)
    await core.store.close()
    return {
        "seconds": elapsed, "jobs": jobs, "rss_before": before, "peak_rss": peak, **timings,
    }  # fmt: skip


async def child_baseline_startup(path: str) -> dict[str, Any]:
    """The same run dates as convene plans, straight into a plain scheduler."""
    import sqlite3

    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT start_at, remind_s FROM meetings").fetchall()
    n_series = conn.execute("SELECT count(*) FROM series WHERE status = 'active'").fetchone()[0]
    conn.close()
    dates = [
        datetime.strptime(start_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        - timedelta(seconds=remind_s)
        for start_at, remind_s in rows
    ]  # one job per pending meeting (its reminder), in row order
    rng = random.Random(3)
    now = datetime.now(UTC)
    dates += [now + timedelta(seconds=rng.randrange(86400)) for _ in range(n_series)]
    del rows
    before = current_rss_mb()

    async def job(*args: Any) -> None:
        return None

    started = time.perf_counter()
    scheduler = AsyncIOScheduler(timezone=UTC)
    for i, due in enumerate(dates):
        scheduler.add_job(
            job, "date", run_date=due, args=["x", i], id=f"j:{i}", misfire_grace_time=None
        )
    scheduler.start()
    elapsed = time.perf_counter() - started
    jobs = len(scheduler.get_jobs())
    scheduler.shutdown(wait=False)
    return {"seconds": elapsed, "jobs": jobs, "rss_before": before, "peak_rss": rss_mb()}


async def child_lateness(path: str, count: int) -> dict[str, Any]:
    due = datetime.fromtimestamp(int(time.time() + LEAD) + 1, UTC)
    db = open_database(path)
    sealed = SecretBox(TEST_KEY).seal("https://meet.example/room?host=secret-host-key")
    rows = [
        meeting_row(i, due + timedelta(minutes=10), 600, sealed, f"CL{i}") for i in range(count)
    ]
    db.conn.execute("BEGIN IMMEDIATE")
    db.conn.executemany(INSERT_MEETING, rows)
    db.conn.execute("COMMIT")
    db.close()
    core = make_core(path)
    messenger = RecordingMessenger()
    core.messengers[PLATFORM] = messenger
    scheduler = AsyncIOScheduler(timezone=UTC)
    service = MeetingService(core, Lifecycle(core, scheduler))
    await service.start()
    deadline = due.timestamp() + BURST_WAIT
    with profiled():
        while len(messenger.sent) < count and time.time() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(SEND_DELAY * 2)
    scheduler.shutdown(wait=False)
    await core.store.close()
    late = [t - due.timestamp() for t in messenger.sent.values()]
    return {"sent": len(late), "expected": count, "late": late}


async def child_baseline_lateness(count: int) -> dict[str, Any]:
    due = datetime.fromtimestamp(int(time.time() + LEAD) + 1, UTC)
    ran: list[float] = []

    async def job(i: int) -> None:
        ran.append(time.time())
        await asyncio.sleep(SEND_DELAY)

    scheduler = AsyncIOScheduler(timezone=UTC)
    for i in range(count):
        scheduler.add_job(job, "date", run_date=due, args=[i], id=f"r:{i}", misfire_grace_time=None)
    scheduler.start()
    deadline = due.timestamp() + BURST_WAIT
    while len(ran) < count and time.time() < deadline:
        await asyncio.sleep(0.05)
    scheduler.shutdown(wait=False)
    return {"sent": len(ran), "expected": count, "late": [t - due.timestamp() for t in ran]}


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, __file__, "--child", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def child_main(args: list[str]) -> None:
    kind, rest = args[0], args[1:]
    if kind == "startup":
        result = asyncio.run(child_startup(rest[0]))
    elif kind == "baseline-startup":
        result = asyncio.run(child_baseline_startup(rest[0]))
    elif kind == "lateness":
        result = asyncio.run(child_lateness(rest[0], int(rest[1])))
    else:
        result = asyncio.run(child_baseline_lateness(int(rest[0])))
    print(json.dumps(result))


# ---- the report ------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 meetings, 1,000 series")
    parser.add_argument("--meetings", type=int, default=100_000)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=1_000)
    parser.add_argument("--profile", metavar="FILE", help="pyinstrument profile of the burst")
    args = parser.parse_args()
    ask_child_to_profile(args.profile)
    meetings = 10_000 if args.quick else min(args.meetings, 1_000_000)
    series = 1_000 if args.quick else min(args.series, 100_000)
    burst = min(args.burst, 5_000)

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "scale.db")
        built, _ = build_fixture(path, meetings, series)
        print(f"fixture: {meetings:,} pending meetings, {series:,} series, built in {built:.1f} s")
        first = run_child("startup", path)  # the first start after m007: nothing stored
        conv = run_child("startup", path)  # a restart: each series' next opening stored
        base = run_child("baseline-startup", path)
        print("\nstart-up (rebuild every timer from storage, then start the scheduler)")
        print(f"{'':<26} {'seconds':>8} {'jobs':>9} {'RSS before MB':>14} {'peak RSS MB':>12}")
        rows = (
            ("convene, first after m007", first),
            ("convene", conv),
            ("plain APScheduler", base),
        )
        for name, got in rows:
            print(
                f"{name:<26} {got['seconds']:>8.2f} {got['jobs']:>9,} {got['rss_before']:>14.0f}"
                f" {got['peak_rss']:>12.0f}"
            )
        print(
            f"ratio convene/plain: time {conv['seconds'] / base['seconds']:.2f}, "
            f"peak RSS {conv['peak_rss'] / base['peak_rss']:.2f}"
        )
        print(
            "convene keeps timers only for the next minutes; the plain scheduler holds one job"
            " per pending meeting and series."
        )
        for name, got in (("first start", first), ("restart", conv)):
            print(
                f"{name}, afterwards on the same loop: one sweep {got['sweep'] * 1000:.0f} ms,"
                f" one horizon re-plan {got['horizon'] * 1000:.0f} ms (median of 3; the first"
                f" sweep {got['sweep_first'] * 1000:.0f} ms)"
            )
            print(
                f"  longest loop stall a {TICK * 1000:.0f} ms ticker saw (worst of 3): during a"
                f" sweep {got['sweep_stall'] * 1000:.1f} ms, during a re-plan"
                f" {got['horizon_stall'] * 1000:.1f} ms (target 20 ms)"
            )

        late = run_child("lateness", str(Path(tmp) / "burst.db"), str(burst))
        plain = run_child("baseline-lateness", str(burst))
        print(f"\nlateness of {burst:,} reminders due in the same second (ms after due time)")
        print(f"{'':<22} {'sent':>6} {'p50':>8} {'p99':>8} {'max':>8}")
        for name, got in (("convene", late), ("plain APScheduler", plain)):
            values = got["late"]
            print(
                f"{name:<22} {got['sent']:>6} {pct(values, 50) * 1000:>8.1f}"
                f" {pct(values, 99) * 1000:>8.1f} {max(values, default=float('nan')) * 1000:>8.1f}"
            )
        ratio = pct(late["late"], 99) / max(pct(plain["late"], 99), 1e-6)
        print(f"ratio convene/plain p99: {ratio:.1f}")


if __name__ == "__main__":
    main()
