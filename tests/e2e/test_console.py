"""The console platform as a newcomer runs it: `convene run` reading standard input.

The process runs on the machine's clock, whatever the date (tests/any-date.sh runs
these on DST nights and years ahead), and in the machine's zone: the scheduling tests
run once per zone so a clock change in Berlin or New York is met by a real process.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ZONES = pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
URL = re.compile(r"https?://\S+")


def run_convene(
    tmp_path: Path, script: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "CONVENE_", "JITSI_"))
    }
    environment.update(CONVENE_DB=str(tmp_path / "convene.db"), CONVENE_HTTP_PORT="0", **env)
    return subprocess.run(
        [sys.executable, "-m", "adapters.main", *(args or ("run",))],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        cwd=tmp_path,
        check=False,
    )


@ZONES
def test_scripted_console_posts_join_link_publicly_and_host_link_privately(
    tmp_path: Path, zone: str
) -> None:
    result = run_convene(tmp_path, "/meet Standup in 1m for 5m\n/meet list\n", TZ=zone)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    channel = [line for line in lines if line.startswith("[#general]")]
    private = [line for line in lines if line.startswith("[private → you]")]
    channel_links = {url for line in channel for url in URL.findall(line)}
    assert any(url.startswith("https://meet.jit.si/") for url in channel_links)
    host_lines = [line for line in private if "Host link" in line]
    assert host_lines, result.stdout
    host_link = URL.findall(host_lines[0])[-1]
    assert host_link not in channel_links
    assert any("Standup" in line for line in channel)
    assert any("Meetings in this channel (1)" in line for line in private)


def test_console_reports_bad_commands_and_keeps_going(tmp_path: Path) -> None:
    result = run_convene(tmp_path, "/meet Retro at 25:00\n/meet help\n")
    assert result.returncode == 0
    assert "25:00" in result.stdout and "/meet list" in result.stdout


@ZONES
def test_meetings_survive_a_restart(tmp_path: Path, zone: str) -> None:
    first = run_convene(tmp_path, "/meet Planning tomorrow 10am\n", TZ=zone)
    assert first.returncode == 0 and "Planning" in first.stdout, first.stderr
    again = run_convene(tmp_path, "/meet list\n", TZ=zone)
    assert "Planning" in again.stdout


def test_bad_configuration_refuses_to_start_naming_the_variable(tmp_path: Path) -> None:
    result = run_convene(tmp_path, "", CONVENE_PROVIDER="zoom")
    assert result.returncode == 2
    assert "CONVENE_PROVIDER" in result.stderr


def test_version_and_help(tmp_path: Path) -> None:
    version = run_convene(tmp_path, "", "--version")
    assert version.stdout.startswith("convene ")
    helped = run_convene(tmp_path, "", "--help")
    assert "run" in helped.stdout and "console" in helped.stdout
