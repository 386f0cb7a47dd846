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
from dataclasses import dataclass, fields
from typing import Literal, cast
from urllib.parse import urlsplit

PROVIDER_NAMES = ("jitsi", "whereby", "eyeson", "metered", "upclass", "edcast")
LOG_FORMATS = ("text", "json")
LogFormat = Literal["text", "json"]


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
    discord_shard_count: int | None = None
    discord_shard_ids: tuple[int, ...] | None = None  # None: every shard of the count

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

    log_format: LogFormat = "text"

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

    def secret_values(self) -> tuple[str, ...]:
        """Every configured token, key and password, for log redaction: the fields
        named *_token, *_secret, *_key, and the password in a PostgreSQL URL."""
        values = [
            value
            for item in fields(self)
            if item.name.endswith(("_token", "_secret", "_key"))
            and isinstance(value := getattr(self, item.name), str)
            and value
        ]
        password = urlsplit(self.db_path).password if "://" in self.db_path else None
        return (*values, *([password] if password else []))

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
        shard_count = reader.positive("DISCORD_SHARD_COUNT")
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
            discord_shard_count=shard_count,
            discord_shard_ids=reader.shard_ids("DISCORD_SHARD_IDS", shard_count),
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
            log_format=cast(LogFormat, reader.choice("CONVENE_LOG_FORMAT", LOG_FORMATS)),
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

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        """One of `choices` (case-insensitive); the first is the default."""
        value = self.text(name, choices[0]).lower()
        if value not in choices:
            raise ConfigError(f"{name} must be {' or '.join(choices)}, not {value!r}.")
        return value

    def positive(self, name: str) -> int | None:
        raw = self.optional(name)
        if raw is None:
            return None
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"{name} must be a whole number of at least 1, not {raw!r}.")
        return int(raw)

    def shard_ids(self, name: str, count: int | None) -> tuple[int, ...] | None:
        """Ids as a comma list and/or ranges ("0,1,2", "0-3", "0-1,4"), each below `count`."""
        raw = self.optional(name)
        if raw is None:
            return None
        if count is None:
            raise ConfigError(f"{name} needs DISCORD_SHARD_COUNT, the total number of shards.")
        ids: set[int] = set()
        for item in (part.strip() for part in raw.split(",")):
            low, dash, high = item.partition("-")
            if not low.isdigit() or (dash and not high.isdigit()) or int(high or low) < int(low):
                raise ConfigError(
                    f"{name} must be shard ids like 0,1,2 or a range like 0-3, not {raw!r}."
                )
            ids.update(range(int(low), int(high or low) + 1))
        if max(ids) >= count:
            raise ConfigError(
                f"{name} names shard {max(ids)}, but DISCORD_SHARD_COUNT={count} "
                f"numbers shards 0 to {count - 1}."
            )
        return tuple(sorted(ids))

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
