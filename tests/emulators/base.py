"""Shared plumbing for loopback emulators: serve an aiohttp app on 127.0.0.1:0,
record every request, and inject faults on demand.

Emulators are real HTTP servers on real sockets; the code under test talks to
them exactly as it would to the real service, only the base URL differs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """Answer the next matching request with this instead of the real handler."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    path_contains: str = ""  # only requests whose path contains this


class Emulator:
    """Base for emulators: subclasses add routes in `routes()`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.app = web.Application(middlewares=[self._middleware])
        self.routes(self.app.router)

    def routes(self, router: web.UrlDispatcher) -> None:
        raise NotImplementedError

    def fail(self, status: int = 500, times: int = 1, **kwargs: Any) -> None:
        """Queue `times` faults; e.g. fail(429, headers={"Retry-After": "1"})."""
        self.faults.extend(Fault(status=status, **kwargs) for _ in range(times))

    def calls(self, method: str | None = None, path_contains: str = "") -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and path_contains in r.path
        ]

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Recorded(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        for fault in self.faults:
            if fault.path_contains in request.path:
                self.faults.remove(fault)
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                payload = fault.body if fault.body is not None else {"error": "injected fault"}
                return web.json_response(payload, status=fault.status, headers=fault.headers)
        return await handler(request)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run `app` on a free loopback port; yield its base URL (no trailing slash)."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
