"""SlackCalls: each meeting, once it starts, as a Slack call, so Slack shows its own
card with Join and the people in the call.

`calls.add` registers the meeting (the public join link only, never the host
link) and a `call` block in the card's thread shows it; attendance webhooks add
and remove participants; `calls.end` runs on every path that closes the meeting,
because a call never ended keeps offering Join. Calls are optional: without the
`calls:write` scope (or with a token type Slack refuses) convene's own card
stands alone, noted once per workspace and not tried again until `allow_again`.

Failures never reach the caller: each is one warning carrying the readable
sentence of `delivery_error`, never a token or Slack's raw answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import render
from adapters.slack.messenger import TokenSource, delivery_error
from bot.config import Settings
from bot.models import Meeting
from bot.ports import Clock, DeliveryError
from bot.surfaces import SurfaceState

log = logging.getLogger(__name__)
T = TypeVar("T")

CALL_SCOPES = ("calls:read", "calls:write")
UNAVAILABLE = {"missing_scope", "not_allowed_token_type"}  # Calls are not for this install
ENDED = " ended"  # suffix of a stored call id once calls.end went through
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
Enabled = Callable[[str], Awaitable[bool]]


def calls_scopes_missing(scopes: Iterable[str]) -> list[str]:
    """The Calls scopes an installation lacks (`convene check`); accepts Slack's
    comma-separated scope string split or not."""
    granted = {part.strip() for scope in scopes for part in scope.split(",")}
    return [scope for scope in CALL_SCOPES if scope not in granted]


async def calls_check(settings: Settings) -> str | None:
    """`convene check`'s one line on Slack's call card: whether the installed bot token
    holds the Calls scopes, read from the `x-oauth-scopes` header Slack sends with
    `auth.test`. None when no single bot token is configured (OAuth installs are
    checked per workspace, as calls run). The token never reaches the line."""
    if not settings.slack_bot_token:
        return None
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    try:
        response = await client.auth_test()
    except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
        return f"Slack call card unknown: {delivery_error(exc)}"
    header = response.headers.get("x-oauth-scopes")
    if header is None:
        return "Slack call card unknown: Slack did not say which scopes the app has."
    missing = calls_scopes_missing([str(header)])
    if missing:
        return (
            f"Slack call card off: the app lacks {', '.join(missing)}; convene's own card is used."
        )
    return "Slack call card on: the app has calls:read and calls:write."


def call_key(meeting_id: str) -> str:
    return f"call:{meeting_id}"


def off_key(team_id: str) -> str:
    return f"calls-off:{team_id}"


def participant(person: str) -> dict[str, str]:
    """A Slack user by id; anyone else (a name from the provider) as an external user."""
    if _SLACK_USER.fullmatch(person):
        return {"slack_id": person}
    name = render.literal(person)[:80] or "Guest"
    return {"external_id": person[:80], "display_name": name}


class SlackCalls:
    """The Surface for Slack. `enabled(team_id)`: `/meet config calls`; only the start
    of a call asks it, so turning calls off never leaves one offering Join."""

    def __init__(
        self,
        client: AsyncWebClient,
        tokens: TokenSource,
        state: SurfaceState,
        *,
        clock: Clock,
        enabled: Enabled | None = None,
    ) -> None:
        self._client = client
        self._tokens = tokens
        self._state = state
        self._clock = clock
        self._enabled = enabled

    # -- the Surface ------------------------------------------------------------------

    async def planned(self, meeting: Meeting) -> None:
        """An instant meeting is running already: its call starts now."""
        if meeting.instant:
            await self.started(meeting)

    async def changed(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "calls.update", self._update, None)

    async def started(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "calls.add", self._start, None)

    async def ended(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "calls.end", self._end, None)

    async def cancelled(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "calls.end", self._end, None)

    async def joined(self, meeting: Meeting, person: str) -> None:
        await self._guarded(meeting, "calls.participants.add", self._people(person, True), None)

    async def left(self, meeting: Meeting, person: str) -> None:
        await self._guarded(meeting, "calls.participants.remove", self._people(person, False), None)

    async def interested(self, meeting: Meeting) -> list[str]:
        """Slack calls have no "Interested"."""
        return []

    async def allow_again(self, team_id: str) -> None:
        """After a reinstall with the Calls scopes: try calls again in this workspace."""
        await self._state.put(off_key(team_id), "")

    # -- the work ---------------------------------------------------------------------

    async def _start(self, meeting: Meeting, token: str) -> None:
        if not meeting.status.is_open or await self._state.get(call_key(meeting.id)):
            return
        if self._enabled is not None and not await self._enabled(meeting.workspace_id):
            return
        title = render.literal(meeting.title)[:200]
        extra: dict[str, Any] = {}
        if _SLACK_USER.fullmatch(meeting.organizer_id):
            extra["created_by"] = meeting.organizer_id  # required with a bot token
        response = await self._client.calls_add(
            token=token,
            external_unique_id=f"convene-{meeting.id}",
            external_display_id=meeting.id,
            join_url=meeting.join_url,
            title=title,
            date_start=int(meeting.start.timestamp()),
            **extra,
        )
        call_id = str(response["call"]["id"])
        await self._state.put(call_key(meeting.id), call_id)
        params: dict[str, Any] = {
            "channel": meeting.channel_id,
            "text": f"{render.title_text(meeting.title)} has started.",
            "blocks": [{"type": "call", "call_id": call_id}],
            "unfurl_links": False,
        }
        if meeting.message_ref:
            params["thread_ts"] = meeting.message_ref
        await self._client.chat_postMessage(token=token, **params)

    async def _update(self, meeting: Meeting, token: str) -> None:
        call_id = await self._live_call(meeting)
        if call_id is not None:
            await self._client.calls_update(
                token=token,
                id=call_id,
                title=render.literal(meeting.title)[:200],
                join_url=meeting.join_url,
            )

    async def _end(self, meeting: Meeting, token: str) -> None:
        call_id = await self._live_call(meeting)
        if call_id is None:
            return
        seconds = int((self._clock() - meeting.start).total_seconds())
        await self._client.calls_end(token=token, id=call_id, duration=max(seconds, 0))
        await self._state.put(call_key(meeting.id), call_id + ENDED)

    def _people(self, person: str, add: bool) -> Callable[[Meeting, str], Awaitable[None]]:
        async def work(meeting: Meeting, token: str) -> None:
            call_id = await self._live_call(meeting)
            if call_id is None:
                return
            users = [participant(person)]
            if add:
                await self._client.calls_participants_add(token=token, id=call_id, users=users)
            else:
                await self._client.calls_participants_remove(token=token, id=call_id, users=users)

        return work

    # -- helpers ----------------------------------------------------------------------

    async def _live_call(self, meeting: Meeting) -> str | None:
        stored = await self._state.get(call_key(meeting.id))
        return stored if stored and not stored.endswith(ENDED) else None

    async def _guarded(
        self,
        meeting: Meeting,
        method: str,
        work: Callable[[Meeting, str], Awaitable[T]],
        fallback: T,
    ) -> T:
        """Run `work` with the workspace's token; any failure is one warning."""
        team = meeting.workspace_id
        try:
            if await self._state.get(off_key(team)):
                return fallback
            return await work(meeting, await self._tokens.for_team(team))
        except SlackApiError as exc:
            code = str(exc.response.get("error") or "") if exc.response is not None else ""
            if code in UNAVAILABLE:
                await self._unavailable(team, code)
            elif code == "inactive_call":  # ended in Slack already: nothing more to do
                await self._ended_already(meeting)
            else:
                log.warning("Slack %s for %s failed: %s", method, meeting.id, delivery_error(exc))
        except (SlackClientError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Slack %s for %s failed: %s", method, meeting.id, delivery_error(exc))
        except DeliveryError as exc:
            log.warning("Slack %s for %s skipped: %s", method, meeting.id, exc)
        except Exception as exc:  # storage trouble too: a call never stops a reminder
            log.warning("Slack %s for %s failed: %s", method, meeting.id, type(exc).__name__)
        return fallback

    async def _ended_already(self, meeting: Meeting) -> None:
        call_id = await self._live_call(meeting)
        if call_id is not None:
            await self._state.put(call_key(meeting.id), call_id + ENDED)

    async def _unavailable(self, team: str, code: str) -> None:
        """No Calls here: convene's own card carries the meeting; say so once."""
        try:
            if not await self._state.get(off_key(team)):
                await self._state.put(off_key(team), code)
                log.warning(
                    "Slack calls are off in workspace %s (%s): convene's own card stands; "
                    "reinstall with calls:read and calls:write for Slack's call card",
                    team,
                    code,
                )
        except Exception as exc:
            log.warning("could not note that Slack calls are off: %s", type(exc).__name__)
