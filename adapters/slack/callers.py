"""Who is asking: a verified Slack user turned into convene's `Caller`.

The ids come from a request bolt has already verified (signature or Socket Mode);
admin rights and the time zone come from `users.info`, cached per user for a few
minutes so a burst of commands does not turn into a burst of API calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.models import Caller

log = logging.getLogger(__name__)

PLATFORM = "slack"


@dataclass(frozen=True)
class Profile:
    name: str
    is_admin: bool
    tz: str | None


class Callers:
    def __init__(self, ttl: float = 600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Profile]] = {}

    async def profile(self, client: AsyncWebClient, team_id: str, user_id: str) -> Profile | None:
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and self._clock() - cached[0] < self._ttl:
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

    async def caller(
        self,
        client: AsyncWebClient,
        team_id: str,
        channel_id: str,
        user_id: str,
        user_name: str = "",
    ) -> Caller:
        """Without users.info the caller is simply not an admin and has no zone hint."""
        found = await self.profile(client, team_id, user_id)
        return Caller(
            platform=PLATFORM,
            workspace_id=team_id,
            channel_id=channel_id,
            user_id=user_id,
            user_name=(found.name if found else "") or user_name,
            is_admin=found.is_admin if found else False,
            tz_hint=found.tz if found else None,
        )
