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
from multidict import CIMultiDict


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str]  # names are case-insensitive, as on the wire
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Fault:
    """Answer the next matching request with this instead of the real handler.

    With `after`, the real handler runs first (the provider acts: a room is made)
    and only its answer is replaced: by `raw` bytes (garbage, truncated JSON), by
    `mangle` applied to the handler's JSON (a field dropped), or by `body`; with
    `delay`, that answer comes too late. `cut` declares a longer body than it
    sends and drops the connection mid-answer."""

    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    path_contains: str = ""  # only requests whose path contains this
    method: str = ""  # only requests with this method
    after: bool = False
    raw: bytes | None = None
    mangle: Callable[[Any], Any] | None = None
    cut: bool = False

    def matches(self, request: web.Request) -> bool:
        return self.path_contains in request.path and self.method in ("", request.method)


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
            Recorded(
                request.method,
                request.path,
                dict(request.query),
                CIMultiDict(request.headers),
                body,
            )
        )
        for fault in self.faults:
            if fault.matches(request):
                self.faults.remove(fault)
                return await self._inject(fault, request, handler)
        return await handler(request)

    async def _inject(
        self,
        fault: Fault,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        acted = await handler(request) if fault.after else None
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.mangle is not None:
            assert isinstance(acted, web.Response) and acted.body is not None
            answer = fault.mangle(json.loads(bytes(acted.body)))  # type: ignore[arg-type]
            return web.json_response(answer, status=fault.status, headers=fault.headers)
        if fault.raw is not None:
            return await self._raw(fault, request)
        payload = fault.body if fault.body is not None else {"error": "injected fault"}
        return web.json_response(payload, status=fault.status, headers=fault.headers)

    @staticmethod
    async def _raw(fault: Fault, request: web.Request) -> web.StreamResponse:
        raw = fault.raw or b""
        headers = {"Content-Type": "application/json", **fault.headers}
        if not fault.cut:
            return web.Response(body=raw, status=fault.status, headers=headers)
        response = web.StreamResponse(status=fault.status, headers=headers)
        response.content_length = len(raw) + 100
        await response.prepare(request)
        await response.write(raw)
        assert request.transport is not None
        request.transport.close()  # the rest of the promised body never comes
        return response


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
