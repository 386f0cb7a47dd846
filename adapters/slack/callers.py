"""Who is asking: a verified Slack user turned into convene's `Caller`.

The ids come from a request bolt has already verified (signature or Socket Mode),
read by `inbound`; admin rights and the time zone come from `users.info`, cached per
(team, user) for ten minutes by the service's clock, so a burst of commands does not
turn into a burst of API calls; `forget` drops one entry (after `/meet tz`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.inbound import Who
from bot.models import Caller

log = logging.getLogger(__name__)

PLATFORM = "slack"


@dataclass(frozen=True)
class Profile:
    name: str
    is_admin: bool
    tz: str | None


class Callers:
    def __init__(
        self, clock: Callable[[], datetime], ttl: timedelta = timedelta(minutes=10)
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[datetime, Profile]] = {}

    async def profile(self, client: AsyncWebClient, team_id: str, user_id: str) -> Profile | None:
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and abs(self._clock() - cached[0]) < self._ttl:
            return cached[1]
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info for %s failed: %s", user_id, exc.response.get("error"))
            return None
        except (TimeoutError, SlackClientError, aiohttp.ClientError) as exc:
            log.warning("users.info for %s failed: %s", user_id, type(exc).__name__)
            return None
        user = response.get("user") or {}
        found = Profile(
            name=str(user.get("real_name") or user.get("name") or ""),
            is_admin=bool(user.get("is_admin") or user.get("is_owner")),
            tz=user.get("tz") or None,
        )
        self._cache[key] = (self._clock(), found)
        return found

    def forget(self, team_id: str, user_id: str) -> None:
        """The next command asks users.info again (the person just changed their zone)."""
        self._cache.pop((team_id, user_id), None)

    async def caller(self, client: AsyncWebClient, who: Who) -> Caller:
        """Without users.info the caller is simply not an admin and has no zone hint."""
        found = await self.profile(client, who.team_id, who.user_id)
        return Caller(
            platform=PLATFORM,
            workspace_id=who.team_id,
            channel_id=who.channel_id,
            user_id=who.user_id,
            user_name=(found.name if found else "") or who.user_name,
            is_admin=found.is_admin if found else False,
            tz_hint=found.tz if found else None,
        )
