"""Provider registry: name → module, label, and the variables it needs.

Each provider lives in `bot/providers/<name>.py` and exposes
`build(settings, client, clock) -> Provider`: the same shape for all, so the
pool can build any of them with its one HTTP pool and its one clock. Modules
are imported on demand so a workspace that uses Jitsi never loads the others.

Providers whose webhooks are registered through their API (`WebhookRegistrar`:
eyeson) are told where to post at start (`ProviderPool.open`) and to stop at
shutdown (`ProviderPool.close`), at `<CONVENE_PUBLIC_URL>/webhooks/<name>`.
A failure there costs webhooks, not the start: one warning, never an error.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable

import httpx

from bot.config import PROVIDER_NAMES, Settings
from bot.ports import Clock, Provider, WebhookRegistrar
from bot.providers.errors import ProviderNotConfigured

__all__ = [
    "LABELS",
    "ProviderNotConfigured",
    "ProviderPool",
    "build_provider",
    "missing_variables",
]

log = logging.getLogger(__name__)

LABELS = {
    "jitsi": "Jitsi",
    "whereby": "Whereby",
    "eyeson": "eyeson",
    "metered": "Metered",
    "upclass": "Upclass",
    "edcast": "EdCast",
}

# For each provider: (variable to set, is it set?) pairs.
_REQUIREMENTS: dict[str, Callable[[Settings], list[tuple[str, bool]]]] = {
    "jitsi": lambda s: [],
    "whereby": lambda s: [("WHEREBY_API_KEY", bool(s.whereby_api_key))],
    "eyeson": lambda s: [("EYESON_API_KEY", bool(s.eyeson_api_key))],
    "metered": lambda s: [
        ("METERED_APP", bool(s.metered_base_url)),
        ("METERED_SECRET_KEY", bool(s.metered_secret_key)),
    ],
    "upclass": lambda s: [("UPCLASS_API_KEY", bool(s.upclass_api_key))],
    "edcast": lambda s: [("EDCAST_API_KEY", bool(s.edcast_api_key))],
}


def missing_variables(name: str, settings: Settings) -> list[str]:
    return [variable for variable, present in _REQUIREMENTS[name](settings) if not present]


def build_provider(
    name: str, settings: Settings, client: httpx.AsyncClient, clock: Clock
) -> Provider:
    """Raises ProviderNotConfigured (a ProviderError) when its variables are missing."""
    if name not in PROVIDER_NAMES:
        raise ValueError(f"unknown provider {name!r}")
    missing = missing_variables(name, settings)
    if missing:
        raise ProviderNotConfigured(name, missing)
    module = importlib.import_module(f"bot.providers.{name}")
    provider: Provider = module.build(settings, client, clock)
    return provider


class ProviderPool:
    """Provider clients built on first use and kept: one per name, one HTTP pool,
    and the service's clock, so no provider reads the machine's time itself."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient, clock: Clock) -> None:
        self._settings = settings
        self._client = client
        self._clock = clock
        self._built: dict[str, Provider] = {}

    def get(self, name: str) -> Provider:
        if name not in self._built:
            self._built[name] = build_provider(name, self._settings, self._client, self._clock)
        return self._built[name]

    def missing(self, name: str) -> list[str]:
        return missing_variables(name, self._settings)

    async def open(self, public_url: str | None) -> None:
        """Register webhooks with every configured provider that takes them through
        its API; without a public URL there is nowhere for them to go."""
        if not public_url:
            return
        base = public_url.rstrip("/")
        for name, registrar in self._registrars():
            await _quietly(name, "register", registrar.register_webhook(f"{base}/webhooks/{name}"))

    async def close(self) -> None:
        """Remove the webhooks `open` registered (a provider never opened has none)."""
        for name, registrar in self._registrars():
            await _quietly(name, "remove", registrar.unregister_webhook())

    def _registrars(self) -> list[tuple[str, WebhookRegistrar]]:
        found: list[tuple[str, WebhookRegistrar]] = []
        for name in PROVIDER_NAMES:
            if missing_variables(name, self._settings):
                continue
            provider = self.get(name)
            if isinstance(provider, WebhookRegistrar):
                found.append((name, provider))
        return found


async def _quietly(name: str, verb: str, call: Awaitable[None]) -> None:
    """Await a webhook (un)registration; any failure is one warning naming the
    provider and the error's class (never its text, which may hold a URL), as
    start and shutdown must go on without webhooks."""
    try:
        await call
    except Exception as exc:
        log.warning("%s: could not %s its webhook (%s)", LABELS[name], verb, type(exc).__name__)
