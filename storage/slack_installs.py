"""bolt's OAuth stores on convene's own database, so Slack installs live where
meetings do: in SQLite for one process, in PostgreSQL for replicas.

An install is one row per (enterprise, team, installer), '' standing for a missing
id (an org-wide install has no team; a bot-only save has no installer), holding the
JSON of slack_sdk's `Installation` (`to_dict_for_copying`, instants as ISO text),
which `Installation(**data)` reads back. A later install by the same person replaces
theirs; the workspace's bot token is the newest one saved. Deleting a bot removes
its tokens from every row of that workspace, so an uninstall leaves no token behind.

OAuth states are single-use: consuming one deletes it in the same statement that
checks it, so a replayed redirect fails on every replica. Issuing a state prunes the
expired ones, so the table stays small whoever calls the install page.

Time comes from the injected clock (a callable returning aware UTC now).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from storage.db import to_text
from storage.engine import Store

Clock = Callable[[], datetime]
TEAM_ROWS = 50  # the most installer rows read to find a workspace's bot token
_BOT_FIELDS = (
    "bot_token", "bot_id", "bot_user_id", "bot_refresh_token", "bot_token_expires_at",
)  # fmt: skip


def _team(enterprise_id: str | None, team_id: str | None, org_wide: bool | None) -> list[str]:
    """The row key of a workspace, as slack_sdk's own stores spell it."""
    return [enterprise_id or "", "" if org_wide or team_id is None else team_id]


def _data(installation: Installation) -> str:
    data = installation.to_dict_for_copying()
    data["bot_scopes"] = data["bot_scopes"] or ""
    data["user_scopes"] = data["user_scopes"] or ""
    return json.dumps(data, default=_iso)


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not stored in an install")


def _installation(text: str) -> Installation:
    return Installation(**json.loads(text))


class StoreInstallationStore(AsyncInstallationStore):
    """slack_sdk's async installation store interface over a `Store`."""

    def __init__(self, store: Store, clock: Clock, logger: logging.Logger | None = None) -> None:
        self.store = store
        self.clock = clock
        self._logger = logger or logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        key = _team(
            installation.enterprise_id, installation.team_id, installation.is_enterprise_install
        )
        await self._put([*key, installation.user_id or ""], _data(installation))

    async def async_save_bot(self, bot: Bot) -> None:
        """A bot's refreshed token (token rotation, bot-only): kept as the installer-less
        row of its workspace, which is then the newest with a bot token."""
        installation = Installation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            enterprise_name=bot.enterprise_name,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            is_enterprise_install=bot.is_enterprise_install,
            installed_at=bot.installed_at,
            user_id="",
            custom_values=bot.custom_values,
        )
        key = _team(bot.enterprise_id, bot.team_id, bot.is_enterprise_install)
        await self._put([*key, ""], _data(installation))

    async def _put(self, key: list[str], data: str) -> None:
        await self.store.run(
            "INSERT INTO slack_installs (enterprise_id, team_id, user_id, data, installed_at) "
            "VALUES (?,?,?,?,?) ON CONFLICT (enterprise_id, team_id, user_id) DO UPDATE SET "
            "data = excluded.data, installed_at = excluded.installed_at",
            [*key, data, to_text(self.clock())],
        )

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        latest = await self._latest_bot(_team(enterprise_id, team_id, is_enterprise_install))
        return None if latest is None else latest.to_bot()

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """That installer's install (any installer's newest when `user_id` is None),
        carrying the workspace's newest bot token."""
        key = _team(enterprise_id, team_id, is_enterprise_install)
        if user_id is None:
            row = await self.store.one(
                "SELECT data FROM slack_installs WHERE enterprise_id = ? AND team_id = ? "
                "AND user_id != '' ORDER BY installed_at DESC, user_id LIMIT 1",
                key,
            )
        else:
            row = await self.store.one(
                "SELECT data FROM slack_installs WHERE enterprise_id = ? AND team_id = ? "
                "AND user_id = ?",
                [*key, user_id],
            )
        if row is None:
            return None if user_id is not None else await self._latest_bot(key)
        found = _installation(row["data"])
        latest = await self._latest_bot(key)
        if latest is not None:
            for name in (*_BOT_FIELDS, "bot_scopes"):
                setattr(found, name, getattr(latest, name))
        return found

    async def _latest_bot(self, key: list[str]) -> Installation | None:
        rows = await self.store.all(
            "SELECT data FROM slack_installs WHERE enterprise_id = ? AND team_id = ? "
            "ORDER BY installed_at DESC, user_id LIMIT ?",
            [*key, TEAM_ROWS],
        )
        for row in rows:
            installation = _installation(row["data"])
            if installation.bot_token is not None:
                return installation
        return None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the workspace's bot tokens (bot token revoked, app uninstalled)."""
        key = _team(enterprise_id, team_id, False)
        async with self.store.transaction() as tx:
            await tx.run(
                "DELETE FROM slack_installs WHERE enterprise_id = ? AND team_id = ? "
                "AND user_id = ''",
                key,
            )
            rows = await tx.all(
                "SELECT user_id, data FROM slack_installs WHERE enterprise_id = ? AND team_id = ?",
                key,
            )
            for row in rows:
                installation = _installation(row["data"])
                if installation.bot_token is None:
                    continue
                for name in _BOT_FIELDS:
                    setattr(installation, name, None)
                await tx.run(
                    "UPDATE slack_installs SET data = ? WHERE enterprise_id = ? AND team_id = ? "
                    "AND user_id = ?",
                    [_data(installation), *key, row["user_id"]],
                )

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        key = _team(enterprise_id, team_id, False)
        if user_id is None:
            await self.store.run(
                "DELETE FROM slack_installs WHERE enterprise_id = ? AND team_id = ?", key
            )
        else:
            await self.store.run(
                "DELETE FROM slack_installs WHERE enterprise_id = ? AND team_id = ? "
                "AND user_id = ?",
                [*key, user_id],
            )


class StoreOAuthStateStore(AsyncOAuthStateStore):
    """Single-use OAuth states with an expiry, over a `Store`."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        expiration_seconds: int,
        logger: logging.Logger | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.expiration = timedelta(seconds=expiration_seconds)
        self._logger = logger or logging.getLogger(__name__)

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        """A new state, after pruning the expired ones."""
        state = str(uuid.uuid4())
        now = self.clock()
        async with self.store.transaction() as tx:
            await tx.run("DELETE FROM slack_oauth_states WHERE expires_at <= ?", [to_text(now)])
            await tx.run(
                "INSERT INTO slack_oauth_states (state, expires_at) VALUES (?, ?)",
                [state, to_text(now + self.expiration)],
            )
        return state

    async def async_consume(self, state: str) -> bool:
        """True once for a state issued and not expired; deleting it is the check."""
        used = await self.store.run(
            "DELETE FROM slack_oauth_states WHERE state = ? AND expires_at > ?",
            [state, to_text(self.clock())],
        )
        return used == 1
