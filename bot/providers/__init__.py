"""Provider registry: name → module, label, and the variables it needs.

Each provider lives in `bot/providers/<name>.py` and exposes
`build(settings, client) -> Provider`. Modules are imported on demand so a
workspace that uses Jitsi never loads the others.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import httpx

from bot.config import PROVIDER_NAMES, Settings
from bot.ports import Provider

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


class ProviderNotConfigured(Exception):
    """A provider was chosen whose credentials are not in the environment."""

    def __init__(self, name: str, variables: list[str]) -> None:
        self.name = name
        self.variables = variables
        super().__init__(
            f"{LABELS.get(name, name)} is not configured: set {' and '.join(variables)} "
            "in convene's environment, or choose another provider with /meet config provider."
        )


def missing_variables(name: str, settings: Settings) -> list[str]:
    return [variable for variable, present in _REQUIREMENTS[name](settings) if not present]


def build_provider(name: str, settings: Settings, client: httpx.AsyncClient) -> Provider:
    if name not in PROVIDER_NAMES:
        raise ValueError(f"unknown provider {name!r}")
    missing = missing_variables(name, settings)
    if missing:
        raise ProviderNotConfigured(name, missing)
    module = importlib.import_module(f"bot.providers.{name}")
    provider: Provider = module.build(settings, client)
    return provider


class ProviderPool:
    """Provider clients built on first use and kept: one per name, one HTTP pool."""

    def __init__(self, settings: Settings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._client = client
        self._built: dict[str, Provider] = {}

    def get(self, name: str) -> Provider:
        if name not in self._built:
            self._built[name] = build_provider(name, self._settings, self._client)
        return self._built[name]

    def missing(self, name: str) -> list[str]:
        return missing_variables(name, self._settings)
