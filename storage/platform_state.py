"""Small key/value bookkeeping a platform adapter keeps across restarts.

The Discord adapter stores the hash of the last globally synced command tree
here, so a restart does not re-upload unchanged commands (Discord rate-limits
global command writes hard). Losing a row only costs one sync.
"""

from __future__ import annotations

from storage.engine import Store


async def get(store: Store, platform: str, key: str) -> str | None:
    value = await store.value(
        "SELECT value FROM platform_state WHERE platform = ? AND key = ?", [platform, key]
    )
    return None if value is None else str(value)


async def put(store: Store, platform: str, key: str, value: str) -> None:
    await store.run(
        "INSERT INTO platform_state (platform, key, value) VALUES (?, ?, ?) "
        "ON CONFLICT (platform, key) DO UPDATE SET value = excluded.value",
        [platform, key, value],
    )
