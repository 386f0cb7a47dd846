"""An hour of the real `convene run`, sped up with libfaketime.

The process runs on a clock that goes 60 times as fast (`faketime -f "+0 x60"`),
so an hour passes in about a minute: twelve horizon re-plans, 120 sweeps.
Reminders planned from 12 minutes to an hour ahead get their timers only
from the horizon re-plan (timers exist for the next ten minutes), so each
one arriving within a few seconds of its time proves the re-plan ran; the
30 s sweep alone would be up to half a minute late. The process's own log
says how late each delivery was, by its own clock.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_resilience import environment

SPEED = 60
# (title, starts in, reminder lead): every reminder is further than the ten-minute horizon.
MEETINGS = [("Soon", 14, 3), ("Later", 27, 5), ("Half", 36, 4), ("Hour", 62, 2)]
ON_TIME = 5.0  # seconds of convene's clock; the sweep alone would be up to 30 s late
DELIVERED = re.compile(r"lifecycle: reminder of meeting (\w+): sent, (-?[\d.]+) s after due")
BOUND = 150.0  # real seconds: a safety net against hangs, never an expectation


@pytest.mark.skipif(shutil.which("faketime") is None, reason="needs libfaketime (faketime)")
def test_an_hour_of_sped_up_time_delivers_every_reminder_on_time(tmp_path: Path) -> None:
    faketime = shutil.which("faketime")
    assert faketime is not None
    log_path = tmp_path / "convene.log"
    commands = "".join(
        f"/meet {title} in {starts}m for 5m remind {lead}m\n" for title, starts, lead in MEETINGS
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [faketime, "-f", f"+0 x{SPEED}", sys.executable, "-m", "adapters.main", "-v", "run"],
            stdin=subprocess.PIPE,  # kept open: the console stops at end of input
            stdout=subprocess.PIPE,
            stderr=log,
            env=environment(tmp_path / "convene.db"),
            cwd=tmp_path,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(commands.encode())
        process.stdin.flush()
        deadline = time.monotonic() + BOUND
        try:
            while time.monotonic() < deadline and len(_deliveries(log_path)) < len(MEETINGS):
                time.sleep(0.5)
        finally:
            process.stdin.close()
            process.wait(timeout=30)
    text = log_path.read_text()
    late = _deliveries(log_path)
    assert len(late) == len(MEETINGS), f"reminders delivered: {late}\n{text[-3000:]}"
    assert all(0 <= seconds <= ON_TIME for seconds in late.values()), late
    assert "Traceback" not in text and " ERROR " not in text, text[-3000:]
    assert "raised an exception" not in text, text[-3000:]
    assert process.stdout.read().decode().count("Reminder:") == len(MEETINGS)


def _deliveries(log_path: Path) -> dict[str, float]:
    found = DELIVERED.findall(log_path.read_text()) if log_path.exists() else []
    return {meeting_id: float(seconds) for meeting_id, seconds in found}
