"""Multi-workspace Slack: bolt's OAuth flow with slack_sdk's SQLite stores.

Installations and OAuth states live in convene's own database file. Every Web
API call of the flow (oauth.v2.access, auth.test, token rotation) goes through
the client built from SLACK_API_URL, and the browser is sent to the authorize
page of the same Slack (GovSlack, an emulator) rather than always slack.com.
"""

from __future__ import annotations

import logging

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings

log = logging.getLogger(__name__)

# Exactly the bot scopes of manifest.yml (a test keeps the two equal).
SCOPES = ("commands", "chat:write", "chat:write.public", "users:read")
STATE_SECONDS = 600


class InstallationStore(SQLite3InstallationStore):
    """slack_sdk's SQLite store lacks the async deletes that bolt's uninstall
    listeners call; these delegate to its sync deletes (one short local query)."""

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        self.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
    ) -> None:
        self.delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)


def authorize_url(api_url: str) -> str:
    """https://slack.com/api/ → https://slack.com/oauth/v2/authorize (same host)."""
    base = api_url.rstrip("/")
    if base.endswith("/api"):
        base = base[: -len("/api")]
    return f"{base}/oauth/v2/authorize"


def oauth_settings(
    settings: Settings, client: AsyncWebClient, store: InstallationStore
) -> AsyncOAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(SCOPES),
        install_page_rendering_enabled=False,  # /slack/install redirects straight to Slack
        authorization_url=authorize_url(settings.slack_api_url),
        installation_store=store,
        state_store=SQLite3OAuthStateStore(
            database=settings.db_path, expiration_seconds=STATE_SECONDS
        ),
        state_expiration_seconds=STATE_SECONDS,
        logger=log,
    )
    # The default authorizer would rotate tokens through slack.com; use our client.
    oauth.authorize = AsyncInstallationStoreAuthorize(
        client_id=oauth.client_id,
        client_secret=oauth.client_secret,
        installation_store=store,
        bot_only=oauth.installation_store_bot_only,
        logger=log,
        client=client,
    )
    return oauth


def make_store(settings: Settings) -> InstallationStore:
    assert settings.slack_client_id
    return InstallationStore(
        database=settings.db_path, client_id=settings.slack_client_id, logger=log
    )
