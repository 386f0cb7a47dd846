"""DiscordEvents: each meeting as a guild scheduled event, so Discord lists it, reminds
the people who pressed "Interested" and shows it live while it runs.

The event is EXTERNAL: its location is the public join link, or convene's short
`/r/<id>` address when the link exceeds Discord's 100 characters (no public URL:
no event). Never a host link. The lifecycle drives it: planned → SCHEDULED,
started → ACTIVE, ended → COMPLETED, cancelled → CANCELED; a meeting that ends
before it started cancels its event, since Discord completes only active ones.

Failures never reach the caller: an event is a convenience, and a missing one
must not stop a reminder. Each failure is one warning with the HTTP status and
Discord's code only (Discord's error text can echo the request). Without the
Manage Events permission (403, code 50013) an admin hears it once per guild and
the guild gets no further attempts until `allow_again`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

import aiohttp
import discord
from discord.utils import MISSING

from adapters.console.render import one_line
from adapters.discord import render
from bot.models import Meeting
from bot.ports import Clock
from bot.redirect_route import redirect_url
from bot.surfaces import SurfaceState

log = logging.getLogger(__name__)
T = TypeVar("T")

MISSING_PERMISSIONS = 50013
LOCATION_LIMIT = 100
NAME_LIMIT = 100
DESCRIPTION_LIMIT = 1000
# Discord refuses a start in the past; an instant meeting's event starts this soon
# and is set ACTIVE right away.
LEAD = timedelta(seconds=30)
NOTICE = (
    "convene cannot create Discord events in this server: it lacks the Manage Events "
    "permission. Give its role Manage Events, or turn events off with "
    "/meet config events off. Meetings, cards and reminders go on without events."
)

NotifyAdmin = Callable[[str, str], Awaitable[None]]
Enabled = Callable[[str], Awaitable[bool]]


def event_key(meeting_id: str) -> str:
    return f"event:{meeting_id}"


def denied_key(guild_id: str) -> str:
    return f"events-denied:{guild_id}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def event_name(meeting: Meeting) -> str:
    """Discord shows the name as plain text; one line, at most 100 characters."""
    return _clip(one_line(meeting.title), NAME_LIMIT) or "Meeting"


def event_description(meeting: Meeting) -> str:
    """The whole title (the name may be clipped) and who organizes it."""
    title = render.literal(one_line(meeting.title))
    return _clip(f"{title}\nOrganized by {render.mention(meeting.organizer_id)}", DESCRIPTION_LIMIT)


class DiscordEvents:
    """The Surface for Discord. `enabled(guild_id)`: `/meet config events`; only the
    creation of an event asks it, so turning events off never strands one."""

    def __init__(
        self,
        client: discord.Client,
        state: SurfaceState,
        *,
        public_url: str | None,
        notify_admin: NotifyAdmin | None,
        clock: Clock,
        enabled: Enabled | None = None,
    ) -> None:
        self._client = client
        self._state = state
        self._public_url = public_url
        self._notify_admin = notify_admin
        self._clock = clock
        self._enabled = enabled
        self._locks: dict[str, asyncio.Lock] = {}
        self._told_no_url = False

    # -- the Surface ------------------------------------------------------------------

    async def planned(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "create the event", self._create, None)

    async def changed(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "update the event", self._change, None)

    async def started(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "start the event", self._start, None)

    async def ended(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "end the event", self._finish, None)
        self._locks.pop(meeting.id, None)

    async def cancelled(self, meeting: Meeting) -> None:
        await self._guarded(meeting, "cancel the event", self._finish, None)
        self._locks.pop(meeting.id, None)

    async def joined(self, meeting: Meeting, person: str) -> None:
        """Discord events have no attendance list of their own."""

    async def left(self, meeting: Meeting, person: str) -> None:
        """Discord events have no attendance list of their own."""

    async def interested(self, meeting: Meeting) -> list[str]:
        """User ids of the members who pressed "Interested" (they count as Going)."""
        return await self._guarded(meeting, "read who is interested", self._interested, [])

    async def allow_again(self, guild_id: str) -> None:
        """Forget a missing permission (`/meet config events on`): try events again."""
        await self._state.put(denied_key(guild_id), "")

    # -- the work, one meeting at a time ----------------------------------------------

    async def _create(self, meeting: Meeting) -> discord.ScheduledEvent | None:
        """A new event, unless the meeting has one (or may not have one)."""
        if not meeting.status.is_open or await self._state.get(event_key(meeting.id)):
            return None
        guild_id = meeting.workspace_id
        if await self._state.get(denied_key(guild_id)):
            return None
        if self._enabled is not None and not await self._enabled(guild_id):
            return None
        location = self._location(meeting)
        if location is None:
            return None
        guild = await self._guild(guild_id)
        start, end = self._times(meeting)
        event = await guild.create_scheduled_event(
            name=event_name(meeting),
            start_time=start,
            end_time=end,
            entity_type=discord.EntityType.external,
            location=location,
            description=event_description(meeting),
            privacy_level=discord.PrivacyLevel.guild_only,
            reason=f"convene meeting {meeting.id}",
        )
        await self._state.put(event_key(meeting.id), str(event.id))
        return event

    async def _change(self, meeting: Meeting) -> None:
        event = await self._event(meeting)
        if event is None:
            await self._create(meeting)  # none yet (e.g. no public URL until now)
            return
        if event.status not in (discord.EventStatus.scheduled, discord.EventStatus.active):
            return
        start, end = self._times(meeting)
        # MISSING leaves a field as it is: the location when the link has no short form,
        # the start when it did not move (a running event's start cannot).
        location = self._location(meeting) or MISSING
        keep_start = (
            event.status is discord.EventStatus.active
            or event.start_time == meeting.start
            or meeting.start <= self._clock()  # an instant meeting's event starts just ahead
        )
        await event.edit(
            name=event_name(meeting),
            description=event_description(meeting),
            start_time=MISSING if keep_start else start,
            end_time=end,
            location=location,
        )

    async def _start(self, meeting: Meeting) -> None:
        # An instant meeting may be planned and started at once: create, then start.
        event = await self._event(meeting) or await self._create(meeting)
        if event is not None and event.status is discord.EventStatus.scheduled:
            await event.start()

    async def _finish(self, meeting: Meeting) -> None:
        event = await self._event(meeting)
        if event is None:
            return
        if event.status is discord.EventStatus.scheduled:
            await event.cancel()
        elif event.status is discord.EventStatus.active:
            await event.end()

    async def _interested(self, meeting: Meeting) -> list[str]:
        event = await self._event(meeting)
        if event is None:
            return []
        me = self._client.user.id if self._client.user else None
        return [str(person.id) async for person in event.users() if person.id != me]

    # -- helpers ----------------------------------------------------------------------

    def _location(self, meeting: Meeting) -> str | None:
        if len(meeting.join_url) <= LOCATION_LIMIT:
            return meeting.join_url
        if self._public_url:
            short = redirect_url(self._public_url, meeting.id)
            if len(short) <= LOCATION_LIMIT:
                return short
        if not self._told_no_url:
            self._told_no_url = True
            log.warning(
                "no Discord event for a join link over %d characters: set CONVENE_PUBLIC_URL "
                "(at most %d characters) so events can show a short address",
                LOCATION_LIMIT,
                LOCATION_LIMIT - 12,
            )
        return None

    def _times(self, meeting: Meeting) -> tuple[datetime, datetime]:
        """The meeting's times; a start Discord would call past moves just ahead."""
        start = max(meeting.start, self._clock() + LEAD)
        return start, max(meeting.end, start + timedelta(minutes=1))

    async def _guild(self, guild_id: str) -> discord.Guild:
        guild = self._client.get_guild(int(guild_id))
        return guild or await self._client.fetch_guild(int(guild_id), with_counts=False)

    async def _event(self, meeting: Meeting) -> discord.ScheduledEvent | None:
        event_id = await self._state.get(event_key(meeting.id))
        if not event_id:
            return None
        guild = await self._guild(meeting.workspace_id)
        try:
            return await guild.fetch_scheduled_event(int(event_id))
        except discord.NotFound:
            log.info("the Discord event of meeting %s was deleted in Discord", meeting.id)
            return None

    async def _guarded(
        self, meeting: Meeting, what: str, work: Callable[[Meeting], Awaitable[T]], fallback: T
    ) -> T:
        """Run `work` for one meeting at a time; any failure is one warning."""
        if not meeting.workspace_id.isdigit():
            return fallback
        lock = self._locks.setdefault(meeting.id, asyncio.Lock())
        try:
            async with lock:
                return await work(meeting)
        except discord.Forbidden as exc:
            if exc.code == MISSING_PERMISSIONS:
                await self._denied(meeting.workspace_id)
            else:
                log.warning("Discord refused to %s of %s (code %s)", what, meeting.id, exc.code)
        except discord.HTTPException as exc:
            log.warning(
                "Discord could not %s of %s (HTTP %s, code %s)",
                what,
                meeting.id,
                exc.status,
                exc.code,
            )
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError, TypeError) as exc:
            log.warning("could not %s of %s: %s", what, meeting.id, type(exc).__name__)
        except Exception as exc:  # storage trouble too: an event never stops a reminder
            log.warning("could not %s of %s: %s", what, meeting.id, type(exc).__name__)
        return fallback

    async def _denied(self, guild_id: str) -> None:
        """Manage Events is missing: tell an admin once, then leave the guild alone."""
        try:
            if await self._state.get(denied_key(guild_id)):
                return
            await self._state.put(denied_key(guild_id), "missing Manage Events")
            log.warning("Discord events are off in guild %s: convene lacks Manage Events", guild_id)
            if self._notify_admin is not None:
                await self._notify_admin(guild_id, NOTICE)
        except Exception as exc:  # the notice is a courtesy; the meeting goes on
            log.warning("could not note the missing Manage Events: %s", type(exc).__name__)
