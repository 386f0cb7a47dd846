"""Calendar presence from storage: the files behind a card's "Add to calendar" and a
person's subscribable feed, and the `/meet calendar` reply.

`bot.calendar` builds the iCalendar text and signs the links; this module decides
what goes in: a meeting with its SEQUENCE and the organizer's zone, or exactly the
meetings a person organizes, answered or was invited to. Host links are never
read here (`meetings_for_person` leaves them out, and no builder takes one).
"""

from __future__ import annotations

from datetime import timedelta

from icalendar import Event

from bot.calendar import (
    FEED_REFRESH,
    FeedOwner,
    calendar_file,
    feed_links,
    meeting_event,
    series_event,
)
from bot.core import Core
from bot.messages import Private, Reply
from bot.models import Caller, Meeting, Series
from storage import people
from storage import series as series_rows

FEED_PAST = timedelta(days=30)  # how far back a feed still lists meetings
NO_FEED = (
    "Calendar feeds need convene's public address and secret key "
    "(CONVENE_PUBLIC_URL and CONVENE_SECRET_KEY); ask whoever runs convene to set them."
)


class Calendars:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def meeting_file(self, meeting_id: str) -> bytes | None:
        """The .ics of one meeting (its token was verified by the route)."""
        meeting = await self.core.get_meeting(meeting_id)
        if meeting is None:
            return None
        return calendar_file([await self._event(meeting, None)])

    async def feed_file(self, subject: str) -> bytes | None:
        """A person's feed, if the token's version is still theirs (reset revokes it)."""
        owner = FeedOwner.from_subject(subject)
        if owner is None:
            return None
        store = self.core.store
        current = await people.feed_version(
            store, owner.platform, owner.workspace_id, owner.user_id
        )
        if current != owner.version:
            return None
        since = self.core.clock() - FEED_PAST
        meetings = await people.meetings_for_person(
            store, owner.platform, owner.workspace_id, owner.user_id, since
        )
        series = await self._series_of(meetings)
        events = [
            series_event(s, sequence=0, organizer="", join_url=None, stamp=self.core.clock())
            for s in series.values()
        ]
        for meeting in meetings:
            events.append(await self._event(meeting, series.get(meeting.series_id or "")))
        return calendar_file(events, name="convene", refresh=FEED_REFRESH)

    async def feed_reply(self, caller: Caller, reset: bool) -> Reply:
        """`/meet calendar [reset]`: the person's own feed address, privately."""
        store = self.core.store
        key = (store, caller.platform, caller.workspace_id, caller.user_id)
        version = await (people.reset_feed(*key) if reset else people.feed_version(*key))
        owner = FeedOwner(caller.platform, caller.workspace_id, caller.user_id, version)
        links = feed_links(
            owner,
            public_url=self.core.public_url,
            secret=self.core.secret_key,
            now=self.core.clock(),
        )
        if links is None:
            return Reply(NO_FEED, ok=False)
        first = "Your old calendar address no longer works. " if reset else ""
        return Reply(
            f"{first}Your calendar feed lists the meetings you organize, answered or were "
            "invited to; subscribe to it in your calendar app (only you can see this).",
            private=(
                Private("Subscribe:", link=links.subscribe, link_label="Subscribe"),
                Private("Or paste this address:", link=links.https, link_label="Feed address"),
            ),
        )

    async def _event(self, meeting: Meeting, series: Series | None) -> Event:
        sequence = await people.meeting_sequence(self.core.store, meeting.id)
        zone = await self.core.zone_of(meeting.platform, meeting.workspace_id, meeting.organizer_id)
        return meeting_event(
            meeting,
            sequence=sequence,
            zone=zone,
            organizer="",
            stamp=self.core.clock(),
            series=series,
        )

    async def _series_of(self, meetings: list[Meeting]) -> dict[str, Series]:
        found: dict[str, Series] = {}
        for series_id in {m.series_id for m in meetings if m.series_id}:
            series = await series_rows.get_series(self.core.store, series_id)
            if series is not None:
                found[series_id] = series
        return found
