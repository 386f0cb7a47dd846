"""What a platform's native view of a meeting (a Discord event, a Slack call) needs
from convene: somewhere to remember the platform's object id per meeting.

The surfaces keep only ids and small flags here, so losing a row costs one
duplicate event at worst; they never store a link.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol


class SurfaceState(Protocol):
    """A small async key/value store (convene's platform state), shared by replicas."""

    async def get(self, key: str) -> str | None: ...

    async def put(self, key: str, value: str) -> None: ...


@dataclass(frozen=True)
class PlatformState:
    """`SurfaceState` over the service's platform bookkeeping, for one platform."""

    platform: str
    read: Callable[[str, str], Awaitable[str | None]]
    write: Callable[[str, str, str], Awaitable[None]]

    async def get(self, key: str) -> str | None:
        return await self.read(self.platform, key)

    async def put(self, key: str, value: str) -> None:
        await self.write(self.platform, key, value)
