"""Multi-workspace Slack: bolt's OAuth flow on convene's own database.

Installations and OAuth states live where meetings do (storage.slack_installs),
so any replica answers any install or redirect. Every Web
API call of the flow (oauth.v2.access, auth.test, token rotation) goes through
the client built from SLACK_API_URL, and the browser is sent to the authorize
page of the same Slack (GovSlack, an emulator) rather than always slack.com.

Both pages are open to anyone, so before bolt sees a request: the redirect's
query must be short, with at most one `code`, `state` and `error`, each of the
shape Slack sends (`check_callback_query`; else 400); a code Slack refuses is
counted by the refusal log instead of logged with the code in it, once per
attempt (`flow_logger`); and each state issued by the install page prunes the
expired ones, so a stream of GETs cannot grow the table without bound.
"""

from __future__ import annotations

import logging
import re

from multidict import MultiMapping
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.inbound_limits import RefusalLog, Refused
from bot.ports import Clock
from storage.engine import Store
from storage.slack_installs import StoreInstallationStore, StoreOAuthStateStore

log = logging.getLogger(__name__)

# Exactly the bot scopes of manifest.yml (a test keeps the two equal).
SCOPES = ("commands", "chat:write", "chat:write.public", "users:read", "calls:read", "calls:write")
STATE_SECONDS = 600
MAX_QUERY = 2048
_CODE_OR_STATE = re.compile(r"[A-Za-z0-9._-]{1,256}")  # Slack's codes, bolt's uuid4 states
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")  # e.g. access_denied; bolt shows it on its page
_REFUSED_CODE = "Failed to fetch oauth.v2.access"  # bolt's warning, which quotes the code


def check_callback_query(query_string: str, query: MultiMapping[str]) -> None:
    """Refused(400) unless the redirect's query looks like what Slack sends."""
    if len(query_string) > MAX_QUERY:
        raise Refused(400, "Slack OAuth redirect query too long")
    shapes = {"code": _CODE_OR_STATE, "state": _CODE_OR_STATE, "error": _ERROR_CODE}
    for name, shape in shapes.items():
        values = query.getall(name, [])
        if len(values) > 1 or any(not shape.fullmatch(value) for value in values):
            raise Refused(400, "Slack OAuth redirect parameters malformed")


class _CountRefusedCodes(logging.Filter):
    def __init__(self, refusals: RefusalLog) -> None:
        super().__init__()
        self._refusals = refusals

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(_REFUSED_CODE):
            self._refusals.note("Slack OAuth code refused by Slack", 401)
            return False
        return True


def flow_logger(refusals: RefusalLog) -> logging.Logger:
    """The OAuth flow's logger: this module's, except that bolt's warning for each
    refused code (which quotes the code) becomes a count in `refusals`.

    Not registered with `logging.getLogger`, so each app's filter goes with it."""
    flow = logging.Logger(f"{__name__}.flow")
    flow.parent = log
    flow.addFilter(_CountRefusedCodes(refusals))
    return flow


def authorize_url(api_url: str) -> str:
    """https://slack.com/api/ → https://slack.com/oauth/v2/authorize (same host)."""
    base = api_url.rstrip("/")
    if base.endswith("/api"):
        base = base[: -len("/api")]
    return f"{base}/oauth/v2/authorize"


def oauth_flow(
    settings: Settings,
    client: AsyncWebClient,
    stores: tuple[StoreInstallationStore, StoreOAuthStateStore],
    refusals: RefusalLog,
) -> AsyncOAuthFlow:
    """bolt's OAuth flow on `client`, logging through `flow_logger`."""
    return AsyncOAuthFlow(
        client=client,
        logger=flow_logger(refusals),
        settings=oauth_settings(settings, client, *stores),
    )


def make_stores(store: Store, clock: Clock) -> tuple[StoreInstallationStore, StoreOAuthStateStore]:
    """Installs and OAuth states in convene's own database, shared by replicas."""
    return (
        StoreInstallationStore(store, clock, logger=log),
        StoreOAuthStateStore(store, clock, STATE_SECONDS, logger=log),
    )


def oauth_settings(
    settings: Settings,
    client: AsyncWebClient,
    store: StoreInstallationStore,
    states: StoreOAuthStateStore,
) -> AsyncOAuthSettings:
    assert settings.slack_client_id and settings.slack_client_secret
    oauth = AsyncOAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(SCOPES),
        install_page_rendering_enabled=False,  # /slack/install redirects straight to Slack
        authorization_url=authorize_url(settings.slack_api_url),
        installation_store=store,
        state_store=states,
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
