"""Settings read once from the environment into a frozen object.

Every variable of the README's configuration table is read here and nowhere
else, so a bad value is reported at start-up with the variable's name instead
of surfacing later as a confusing failure in the middle of a meeting.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

PROVIDER_NAMES = ("jitsi", "whereby", "eyeson", "metered", "upclass", "edcast")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    db_path: str = "./convene.db"
    provider: str = "jitsi"
    http_host: str = "127.0.0.1"
    http_port: int = 3000
    public_url: str | None = None
    secret_key: str | None = None

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"

    discord_token: str | None = None
    discord_api_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    discord_guild_ids: tuple[int, ...] = ()

    whereby_api_key: str | None = None
    whereby_api_url: str = "https://api.whereby.dev/v1"
    whereby_webhook_secret: str | None = None
    eyeson_api_key: str | None = None
    eyeson_api_url: str = "https://api.eyeson.team"
    metered_app: str | None = None
    metered_secret_key: str | None = None
    metered_api_url: str | None = None
    upclass_api_key: str | None = None
    upclass_api_url: str = "https://meet.upclass.ai/api/v1/"
    edcast_api_key: str | None = None
    edcast_api_url: str = "https://api.edcast.online/api/developer/v1"
    jitsi_url: str = "https://meet.jit.si"
    jitsi_app_id: str | None = None
    jitsi_app_secret: str | None = None

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token or self.slack_client_id or self.slack_app_token)

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_token)

    @property
    def metered_base_url(self) -> str | None:
        if self.metered_api_url:
            return self.metered_api_url
        if self.metered_app:
            return f"https://{self.metered_app}.metered.live/api/v1"
        return None

    def __repr__(self) -> str:  # never print secrets, even by accident
        return f"Settings(db_path={self.db_path!r}, provider={self.provider!r}, ...)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Validate the environment; raise ConfigError naming the first bad variable."""
        env = os.environ if env is None else env
        reader = _Reader(env)
        provider = reader.text("CONVENE_PROVIDER", "jitsi").lower()
        if provider not in PROVIDER_NAMES:
            raise ConfigError(
                f"CONVENE_PROVIDER={provider!r} is not a provider convene knows; "
                f"use one of {', '.join(PROVIDER_NAMES)}."
            )
        return cls(
            db_path=reader.text("CONVENE_DB", "./convene.db"),
            provider=provider,
            http_host=reader.text("CONVENE_HTTP_HOST", "127.0.0.1"),
            http_port=reader.port("CONVENE_HTTP_PORT", 3000),
            public_url=reader.url("CONVENE_PUBLIC_URL"),
            secret_key=reader.fernet_key("CONVENE_SECRET_KEY"),
            slack_bot_token=reader.optional("SLACK_BOT_TOKEN"),
            slack_signing_secret=reader.optional("SLACK_SIGNING_SECRET"),
            slack_app_token=reader.optional("SLACK_APP_TOKEN"),
            slack_client_id=reader.optional("SLACK_CLIENT_ID"),
            slack_client_secret=reader.optional("SLACK_CLIENT_SECRET"),
            slack_api_url=reader.url("SLACK_API_URL") or "https://slack.com/api/",
            discord_token=reader.optional("DISCORD_TOKEN"),
            discord_api_url=reader.url("DISCORD_API_URL") or "https://discord.com/api/v10",
            discord_gateway_url=reader.url("DISCORD_GATEWAY_URL", ("ws", "wss"))
            or "wss://gateway.discord.gg/",
            discord_guild_ids=reader.id_list("DISCORD_GUILD_IDS"),
            whereby_api_key=reader.optional("WHEREBY_API_KEY"),
            whereby_api_url=reader.url("WHEREBY_API_URL") or "https://api.whereby.dev/v1",
            whereby_webhook_secret=reader.optional("WHEREBY_WEBHOOK_SECRET"),
            eyeson_api_key=reader.optional("EYESON_API_KEY"),
            eyeson_api_url=reader.url("EYESON_API_URL") or "https://api.eyeson.team",
            metered_app=reader.optional("METERED_APP"),
            metered_secret_key=reader.optional("METERED_SECRET_KEY"),
            metered_api_url=reader.url("METERED_API_URL"),
            upclass_api_key=reader.optional("UPCLASS_API_KEY"),
            upclass_api_url=reader.url("UPCLASS_API_URL") or "https://meet.upclass.ai/api/v1/",
            edcast_api_key=reader.optional("EDCAST_API_KEY"),
            edcast_api_url=reader.url("EDCAST_API_URL")
            or "https://api.edcast.online/api/developer/v1",
            jitsi_url=reader.url("JITSI_URL") or "https://meet.jit.si",
            jitsi_app_id=reader.optional("JITSI_APP_ID"),
            jitsi_app_secret=reader.optional("JITSI_APP_SECRET"),
        )


class _Reader:
    """Small typed accessors that turn a bad value into a ConfigError naming it."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def optional(self, name: str) -> str | None:
        value = self._env.get(name, "").strip()
        return value or None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def port(self, name: str, default: int) -> int:
        raw = self.optional(name)
        if raw is None:
            return default
        if not raw.isdigit() or not 0 <= int(raw) <= 65535:
            raise ConfigError(f"{name} must be a port number from 0 to 65535, not {raw!r}.")
        return int(raw)

    def url(self, name: str, schemes: tuple[str, ...] = ("http", "https")) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.netloc:
            raise ConfigError(
                f"{name} must be a full {' or '.join(schemes)} URL such as "
                f"{schemes[-1]}://example.com, not {raw!r}."
            )
        return raw

    def id_list(self, name: str) -> tuple[int, ...]:
        raw = self.optional(name)
        if raw is None:
            return ()
        items = [item.strip() for item in raw.split(",") if item.strip()]
        if not all(item.isdigit() for item in items):
            raise ConfigError(f"{name} must be a comma-separated list of numeric ids.")
        return tuple(int(item) for item in items)

    def fernet_key(self, name: str) -> str | None:
        raw = self.optional(name)
        if raw is None:
            return None
        try:
            valid = len(base64.urlsafe_b64decode(raw.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ConfigError(
                f"{name} must be a Fernet key (32 url-safe base64 bytes); make one with: "
                "python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'"
            )
        return raw
