"""The packaging an operator runs: the image's health check against a real server,
the environment reference against the settings, compose.yaml against Docker Compose."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.http import HttpServer, make_http_app

ROOT = Path(__file__).resolve().parents[2]


def healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK CMD (exec form, possibly continued over lines)."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    joined = dockerfile.replace("\\\n", " ")
    match = re.search(r"^HEALTHCHECK .*?CMD (\[.*\])\s*$", joined, re.M)
    assert match, "the Dockerfile has no exec-form HEALTHCHECK"
    command: list[str] = json.loads(match.group(1))
    return command


async def run_check(port: int) -> int:
    program, *args = healthcheck_command()
    assert program == "python"
    env = {**os.environ, "CONVENE_HTTP_PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env=env, stderr=subprocess.DEVNULL
    )
    return await process.wait()


@pytest.fixture
async def server() -> AsyncIterator[HttpServer]:
    running = HttpServer(make_http_app(), "127.0.0.1", 0)
    await running.start()
    yield running
    await running.stop()


async def test_the_image_health_check_passes_while_healthz_answers(server: HttpServer) -> None:
    assert await run_check(server.port) == 0


async def test_the_image_health_check_fails_with_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert await run_check(port) != 0


def test_the_environment_reference_lists_every_setting() -> None:
    read = set(
        re.findall(r'reader\.\w+\(\s*"([A-Z][A-Z0-9_]*)"', (ROOT / "bot/config.py").read_text())
    )
    example = (ROOT / "deploy/env.example").read_text()
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", example, re.M))
    assert len(read) > 30  # the pattern still finds the settings
    assert read - listed == set()


def test_compose_file_is_valid_for_docker_compose() -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker is not installed")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    env = {**os.environ, "POSTGRES_PASSWORD": "compose-check", "CONVENE_DOMAIN": "bot.example.com"}
    result = subprocess.run(
        [docker, "compose", "-f", str(ROOT / "compose.yaml"), "config", "--format", "json"],
        capture_output=True,
        check=False,
        env=env,
        cwd=ROOT,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    replicas = [s for s in services.values() if s.get("command") != ["convene", "migrate"]]
    database_urls = [
        s["environment"]["CONVENE_DB"] for s in replicas if "CONVENE_DB" in s.get("environment", {})
    ]
    assert len(database_urls) == 2
    assert all(url.startswith("postgresql://") for url in database_urls)
