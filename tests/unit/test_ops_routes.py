"""/metrics, /readyz and request ids on convene's real HTTP server, over a real socket."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping

import httpx
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.http import HttpServer, make_http_app
from bot.observability import TIMERS_PLANNED, configure_logging
from bot.ops_routes import Readiness, ReadinessProbe, add_ops_routes, request_ids

log = logging.getLogger("convene.test.ops")

Serve = Callable[[ReadinessProbe], Awaitable[str]]


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start make_http_app() with the ops routes on 127.0.0.1:0; yields a starter."""
    servers: list[HttpServer] = []

    async def start(readiness: ReadinessProbe) -> str:
        app = make_http_app()
        app.middlewares.append(request_ids)
        add_ops_routes(app, readiness)
        app.router.add_get("/task", _logs_a_line)
        server = HttpServer(app, "127.0.0.1", 0)
        await server.start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        await server.stop()


async def _logs_a_line(request: web.Request) -> web.Response:
    log.warning("handling a task")
    return web.json_response({"ok": True})


def passing() -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return True

    return check


async def failing() -> bool:
    return False


async def broken() -> bool:
    raise ConnectionRefusedError("postgresql://convene:pw@db/convene refused")


async def hanging() -> bool:
    await asyncio.Event().wait()
    return True


async def test_metrics_serve_the_prometheus_exposition(serve: Serve) -> None:
    base = await serve(Readiness())
    TIMERS_PLANNED.inc(3)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base}/metrics")
        before = _value(response.text, "convene_timers_planned_total")
        TIMERS_PLANNED.inc()
        again = await client.get(f"{base}/metrics")
        openmetrics = await client.get(
            f"{base}/metrics", headers={"Accept": "application/openmetrics-text"}
        )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert before >= 3
    assert _value(again.text, "convene_timers_planned_total") == before + 1
    assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")


def _value(exposition: str, sample: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == sample:
                return found.value
    raise AssertionError(f"{sample} is not in the exposition")


async def test_readyz_is_200_when_every_check_passes(serve: Serve) -> None:
    checks = {"database": passing(), "migrations": passing(), "slack": passing()}
    base = await serve(Readiness(checks))
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base}/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {"database": True, "migrations": True, "slack": True},
    }


async def test_readyz_is_503_naming_what_fails(serve: Serve) -> None:
    readiness = Readiness(
        {"database": broken, "migrations": passing(), "slack": failing, "discord": hanging},
        timeout=0.05,
    )
    base = await serve(readiness)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base}/readyz")
        health = await client.get(f"{base}/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["failing"] == ["database", "discord", "slack"]
    assert body["checks"]["migrations"] is True
    assert "pw" not in response.text  # a check's error text never reaches the answer
    assert health.status_code == 200  # the process lives; it is just not ready


async def test_any_async_probe_will_do(serve: Serve) -> None:
    async def probe() -> Mapping[str, bool]:
        return {"database": True, "discord": False}

    base = await serve(probe)
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{base}/readyz")
    assert (response.status_code, response.json()["failing"]) == (503, ["discord"])


async def test_draining_turns_readyz_to_503_without_running_checks(serve: Serve) -> None:
    calls: list[str] = []

    async def database() -> bool:
        calls.append("database")
        return True

    readiness = Readiness({"database": database})
    base = await serve(readiness)
    async with httpx.AsyncClient() as client:
        ready = await client.get(f"{base}/readyz")
        readiness.drain()
        draining = await client.get(f"{base}/readyz")
        health = await client.get(f"{base}/healthz")
    assert ready.status_code == 200
    assert draining.status_code == 503
    assert draining.json()["draining"] is True and draining.json()["failing"] == ["draining"]
    assert calls == ["database"]  # once, before draining
    assert health.status_code == 200


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("json", logging.INFO, [], stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


async def test_a_request_id_reaches_every_line_and_the_answer(
    serve: Serve, json_logs: io.StringIO
) -> None:
    base = await serve(Readiness())
    async with httpx.AsyncClient() as client:
        given = await client.get(f"{base}/task", headers={"X-Request-Id": "lb-7f3a"})
        hostile = await client.get(f"{base}/task", headers={"X-Request-Id": "x" * 200})
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    work = [line for line in lines if line["message"] == "handling a task"]
    assert given.headers["X-Request-Id"] == "lb-7f3a"
    assert work[0]["request_id"] == "lb-7f3a"
    fresh = hostile.headers["X-Request-Id"]
    assert fresh != "x" * 200 and len(fresh) == 32
    assert work[1]["request_id"] == fresh
