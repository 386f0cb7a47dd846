"""`convene run` as a real process when things go wrong: killed with SIGKILL in the
middle of a burst of reminders, started on a database it must not or cannot use, and
started with bad configuration.

Nothing here measures time; waits are bounded only so a broken build fails instead
of hanging.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import Caller
from storage.db import open_database, to_text
from tests.fakes import TEST_KEY, FakeClock, FakePlatform, harness

MEETINGS = 50
REMINDER = re.compile(r"^\[#general\] Reminder: “(Burst \d+)”")
BOUND = 60.0  # seconds: a safety net against hangs, never an expectation


def environment(db: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "CONVENE_", "JITSI_", "WHEREBY_"))
    }
    env.update(CONVENE_DB=str(db), CONVENE_HTTP_PORT="0", CONVENE_SECRET_KEY=TEST_KEY)
    env.update(extra)
    return env


def start(db: Path, tmp_path: Path, stdout: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.main", "run"],
        stdin=subprocess.PIPE,  # kept open: the console would stop at end of input
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        env=environment(db),
        cwd=tmp_path,
    )


def read_lines(fd: int, want: int, seen: list[str], until: float) -> None:
    """Read one byte at a time (so the writer gets little room) until `want` lines."""
    buffer = b""
    while len(seen) < want and time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        byte = os.read(fd, 1)
        if not byte:
            break
        buffer += byte
        if byte == b"\n":
            seen.append(buffer.decode())
            buffer = b""


def drain(fd: int, until: float) -> list[str]:
    """Everything left in the pipe once its writer is gone."""
    chunks = []
    while time.monotonic() < until:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace").splitlines(keepends=True)


def reminders(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if line.endswith("\n") and (m := REMINDER.match(line))]


async def prepare_burst(db: Path) -> None:
    """50 console meetings created ten minutes ago whose reminders are all due now."""
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    async with harness(str(db), clock=FakeClock(created)) as h:
        console = FakePlatform(h.service, name="console")
        h.core.messengers["console"] = console
        you = Caller("console", "local", "general", "you", user_name="you", is_admin=True)
        for i in range(MEETINGS):
            reply = await h.service.run_text(
                you, f'/meet "Burst {i:02d}" in 15m for 30m remind 12m'
            )
            assert reply.ok, reply.text


@pytest.mark.skipif(not hasattr(fcntl, "F_SETPIPE_SZ"), reason="needs Linux pipe sizes")
async def test_sigkill_during_a_burst_of_reminders_loses_none_and_repeats_at_most_one(
    tmp_path: Path,
) -> None:
    db = tmp_path / "convene.db"
    await prepare_burst(db)

    # A one-page pipe: once it is full the process blocks mid-burst, so the kill below
    # always lands while reminders are still to be sent.
    read_fd, write_fd = os.pipe()
    fcntl.fcntl(read_fd, fcntl.F_SETPIPE_SZ, 4096)
    first = start(db, tmp_path, write_fd)
    os.close(write_fd)
    try:
        lines: list[str] = []
        read_lines(read_fd, 3, lines, time.monotonic() + BOUND)
        assert len(lines) == 3, "the first run printed nothing"
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(BOUND)
        assert first.stdin is not None
        first.stdin.close()
    lines += drain(read_fd, time.monotonic() + BOUND)
    os.close(read_fd)
    before_kill = reminders(lines)
    assert 0 < len(before_kill) < MEETINGS, "the kill did not land during the burst"

    # A claim the dead process never marked done is taken over once its lease has run
    # out (15 seconds); move those claims back in time instead of waiting.
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        expired = to_text(datetime.now(UTC) - timedelta(minutes=3))
        conn.execute("UPDATE deliveries SET claimed_at = ? WHERE done_at IS NULL", [expired])

    second = start(db, tmp_path, subprocess.PIPE)
    assert second.stdout is not None and second.stdin is not None
    after: list[str] = []
    until = time.monotonic() + BOUND
    fd = second.stdout.fileno()
    while len(set(before_kill) | set(reminders(after))) < MEETINGS and time.monotonic() < until:
        read_lines(fd, len(after) + 1, after, until)
    second.stdin.close()
    assert second.wait(BOUND) == 0
    after += drain(fd, time.monotonic() + 5)
    second.stdout.close()

    counts = Counter(before_kill + reminders(after))
    assert set(counts) == {f"Burst {i:02d}" for i in range(MEETINGS)}  # none lost
    repeated = [title for title, n in counts.items() if n > 1]
    assert len(repeated) <= 1 and max(counts.values()) <= 2, counts  # at most one, once


# ---- databases convene must refuse ---------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_once(db: Path, tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "adapters.main", "run"],
        input="",
        capture_output=True,
        text=True,
        timeout=BOUND,
        env=environment(db, **extra),
        cwd=tmp_path,
        check=False,
    )


def assert_refused(result: subprocess.CompletedProcess[str], db: Path) -> None:
    assert result.returncode != 0, result.stdout
    message = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(message) == 1, result.stderr
    assert str(db) in message[0] and "Traceback" not in result.stderr


def convene_database(path: Path) -> None:
    open_database(path).close()


def test_a_database_locked_by_another_program_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "convene.db"
    convene_database(db)
    before = digest(db)
    with contextlib.closing(sqlite3.connect(db, isolation_level=None)) as holder:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("SELECT count(*) FROM meetings").fetchone()  # takes the lock in WAL
        result = run_once(db, tmp_path)
        holder.execute("ROLLBACK")
    assert_refused(result, db)
    assert "locked" in result.stderr
    assert digest(db) == before


def test_an_sqlite_file_of_another_program_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "notes.db"
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
    before = digest(db)
    result = run_once(db, tmp_path)
    assert_refused(result, db)
    assert digest(db) == before
    assert not Path(f"{db}-wal").exists()


@contextlib.contextmanager
def read_only(path: Path):  # noqa: ANN201
    """Read-only even for root: the immutable attribute where chmod is not enough."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    chattr = shutil.which("chattr")
    if chattr is None:
        pytest.skip("running as root without chattr to make a file read-only")
    made = subprocess.run([chattr, "+i", str(path)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip("running as root on a file system without chattr +i")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(path)], check=False)


def test_a_read_only_database_is_refused_at_start(tmp_path: Path) -> None:
    db = tmp_path / "convene.db"
    convene_database(db)
    before = digest(db)
    with read_only(db):
        result = run_once(db, tmp_path)
    assert digest(db) == before
    assert_refused(result, db)


# ---- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CONVENE_SECRET_KEY", "not-a-fernet-key"),
        ("CONVENE_PROVIDER", "zoom"),
        ("WHEREBY_API_URL", "api.whereby.dev/v1"),
    ],
)
def test_bad_configuration_exits_2_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    db = tmp_path / "convene.db"
    result = run_once(db, tmp_path, **{variable: value})
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr and "Traceback" not in result.stderr
    assert not db.exists()
