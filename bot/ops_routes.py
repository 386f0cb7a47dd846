"""The operator's routes: `GET /metrics` and `GET /readyz`, plus request ids.

`/healthz` (bot.http) says the process lives; `/readyz` says this replica
should get traffic: every named check passes (database reachable, migrations
current, each configured platform connected) and it is not draining. A load
balancer polls it, so checks run concurrently, each bounded by a timeout, and
a failing check is logged when it starts and stops failing, not at every poll.
At SIGTERM `Readiness.drain()` turns `/readyz` to 503 first, so the balancer
stops sending work before the process stops taking it.

    add_ops_routes(app, readiness)   mount /metrics and /readyz
    Readiness                        named checks + the draining flag
    request_ids                      middleware: a request id in every log line
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder

from bot.observability import log_context

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]
ReadinessProbe = Callable[[], Awaitable[Mapping[str, bool]]]

CHECK_TIMEOUT = 2.0  # a check slower than this fails: a balancer's probe gives up soon after
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class Readiness:
    """Named async checks, run together; `draining` once the process is stopping.

    A check that raises or overruns `timeout` counts as failing; only the
    exception's type is logged, since its text may name a database URL."""

    def __init__(
        self, checks: Mapping[str, Check] | None = None, timeout: float = CHECK_TIMEOUT
    ) -> None:
        self.checks: dict[str, Check] = dict(checks or {})
        self.timeout = timeout
        self.draining = False
        self._failing: set[str] = set()

    def add(self, name: str, check: Check) -> None:
        self.checks[name] = check

    def drain(self) -> None:
        """Report not ready from now on (SIGTERM): new work goes to other replicas."""
        if not self.draining:
            log.info("draining: /readyz now answers 503")
        self.draining = True

    async def __call__(self) -> dict[str, bool]:
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(name) for name in names))
        outcome = dict(zip(names, results, strict=True))
        self._note_changes(outcome)
        return outcome

    async def _run(self, name: str) -> bool:
        try:
            async with asyncio.timeout(self.timeout):
                return bool(await self.checks[name]())
        except TimeoutError:
            if name not in self._failing:
                log.warning("readiness check %s did not answer in %.1f s", name, self.timeout)
            return False
        except Exception as exc:  # any failure of a probe means "not ready", never a 500
            if name not in self._failing:
                log.warning("readiness check %s failed: %s", name, type(exc).__name__)
            return False

    def _note_changes(self, outcome: Mapping[str, bool]) -> None:
        failing = {name for name, ok in outcome.items() if not ok}
        for name in sorted(failing - self._failing):
            log.warning("not ready: %s", name)
        for name in sorted(self._failing - failing):
            log.info("ready again: %s", name)
        self._failing = failing


def add_ops_routes(
    app: web.Application, readiness: ReadinessProbe, registry: CollectorRegistry = REGISTRY
) -> None:
    """Mount `/metrics` and `/readyz`. `readiness` is any async callable of named
    checks; if it has a true `draining` attribute, /readyz answers 503 at once."""

    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return web.Response(body=encoder(registry), headers={"Content-Type": content_type})

    async def readyz(request: web.Request) -> web.Response:
        if getattr(readiness, "draining", False):
            draining = {"ready": False, "draining": True, "failing": ["draining"], "checks": {}}
            return web.json_response(draining, status=503)
        checks = dict(await readiness())
        failing = sorted(name for name, ok in checks.items() if not ok)
        body: dict[str, object] = {"ready": not failing, "checks": checks}
        if failing:
            body["failing"] = failing
        return web.json_response(body, status=503 if failing else 200)

    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readyz)


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run each request inside `log_context(request_id=…)`: the balancer's
    X-Request-Id when it is a plain token, else a fresh one; echoed back."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    with log_context(request_id=request_id):
        response = await handler(request)
    if not response.prepared:  # a streamed answer has already sent its headers
        response.headers.setdefault("X-Request-Id", request_id)
    return response
