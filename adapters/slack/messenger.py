"""SlackMessenger: how the service speaks into Slack outside a command's own reply.

Each call picks the bot token of the place's workspace (one static token, or
the installation store in multi-workspace mode) and turns Slack API failures
into a DeliveryError with one sentence a person can read: never a token, never
the raw response.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack import render
from bot.messages import Card, Notice, Private
from bot.models import Place
from bot.ports import DeliveryError

log = logging.getLogger(__name__)

# Slack error codes after which retrying the same message cannot help.
PERMANENT = {
    "channel_not_found": "The channel no longer exists or convene cannot see it.",
    "is_archived": "The channel is archived.",
    "not_in_channel": "convene is not in this channel; invite it with /invite @convene.",
    "restricted_action": "This workspace does not let convene post in that channel.",
    "invalid_auth": "convene's Slack token is no longer valid; reinstall the app.",
    "not_authed": "convene's Slack token is missing; reinstall the app.",
    "account_inactive": "convene's Slack token is no longer valid; reinstall the app.",
    "token_revoked": "convene's Slack token was revoked; reinstall the app.",
    "missing_scope": "convene lacks a Slack permission it needs; reinstall the app.",
    "message_not_found": "The meeting card no longer exists.",
    "cant_update_message": "The meeting card can no longer be changed.",
    "user_not_in_channel": "That person is not in the channel.",
}


def delivery_error(exc: Exception) -> DeliveryError:
    """One readable sentence; rate limits and network trouble are worth retrying."""
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error") or "") if exc.response is not None else ""
        if code in PERMANENT:
            return DeliveryError(PERMANENT[code], permanent=True)
        if code == "ratelimited" or getattr(exc.response, "status_code", 0) == 429:
            return DeliveryError("Slack is rate-limiting convene; it will try again shortly.")
        return DeliveryError(f"Slack refused the message ({code or 'unknown error'}).")
    return DeliveryError("Slack could not be reached; convene will try again shortly.")


class TokenSource:
    """The bot token for a workspace: the single configured one, or the installed one."""

    def __init__(self, bot_token: str | None, store: AsyncInstallationStore | None) -> None:
        self._bot_token = bot_token
        self._store = store

    async def for_team(self, team_id: str) -> str:
        if self._store is not None:
            bot = await self._store.async_find_bot(enterprise_id=None, team_id=team_id)
            if bot is not None and bot.bot_token:
                return str(bot.bot_token)
        if self._bot_token:
            return self._bot_token
        raise DeliveryError(
            "convene is not installed in this Slack workspace any more.", permanent=True
        )


class SlackMessenger:
    def __init__(self, client: AsyncWebClient, tokens: TokenSource) -> None:
        self._client = client
        self._tokens = tokens

    async def _call(self, method: str, place: Place, **params: Any) -> AsyncSlackResponse:
        token = await self._tokens.for_team(place.workspace_id)
        try:
            return await self._client.api_call(method, json={**params, "token": token})
        except (TimeoutError, SlackApiError, SlackClientError, aiohttp.ClientError) as exc:
            error = delivery_error(exc)
            log.warning("Slack %s to %s failed: %s", method, place.channel_id, error)
            raise error from None

    async def post_card(self, place: Place, card: Card) -> str | None:
        response = await self._call(
            "chat.postMessage",
            place,
            channel=place.channel_id,
            text=render.card_text(card),
            blocks=render.card_blocks(card),
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"]) if response.get("ts") else None

    async def update_card(self, place: Place, message_ref: str, card: Card) -> None:
        await self._call(
            "chat.update",
            place,
            channel=place.channel_id,
            ts=message_ref,
            text=render.card_text(card),
            blocks=render.card_blocks(card),
        )

    async def post_notice(self, place: Place, notice: Notice, thread_ref: str | None) -> None:
        params: dict[str, Any] = {
            "channel": place.channel_id,
            "text": render.notice_text(notice),
            "blocks": render.notice_blocks(notice),
            "unfurl_links": False,
        }
        if thread_ref:
            params["thread_ts"] = thread_ref
            if notice.kind in render.BROADCAST_KINDS:  # reminders must reach the channel
                params["reply_broadcast"] = True
        await self._call("chat.postMessage", place, **params)

    @staticmethod
    def is_user_id(user_id: str) -> bool:
        """A Slack user id: who may be mentioned, messaged or asked for feedback."""
        return render.is_user_id(user_id)

    async def send_direct(self, place: Place, user_id: str, note: Private) -> None:
        """A direct message from the app (a private reminder): unlike an ephemeral it
        notifies, and waits in the person's messages. Only a real Slack user id is written to."""
        if not render.is_user_id(user_id):
            log.info("no direct message: %r is not a Slack user id", user_id[:40])
            return
        await self._call(
            "chat.postMessage",
            place,
            channel=user_id,
            text=render.private_text(note),
            blocks=render.private_blocks(note),
            unfurl_links=False,
        )

    async def send_private(self, place: Place, user_id: str, note: Private) -> None:
        await self._call(
            "chat.postEphemeral",
            place,
            channel=place.channel_id,
            user=user_id,
            text=render.private_text(note),
            blocks=render.private_blocks(note),
        )
