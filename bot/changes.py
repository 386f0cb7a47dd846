"""Changing a meeting after it was booked: move it to another time, or rename it.

A move gets a fresh room for the new times rather than editing the old one:
providers' rooms carry their times (Whereby's endDate, Metered's expiry, a
Jitsi token's exp), and not all of them can change those. So the new room is
made first; only when the meeting row points at it is the old room cancelled,
and a failure at any step leaves the meeting exactly as it was (the new room
cancelled again). Reminders and start notices already sent for the old time
are forgotten so they go out again for the new one; timers are re-planned and
the card is updated in place. Only the organizer or an admin may change a
meeting, and only before it starts.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from bot.core import Core
from bot.lifecycle import Lifecycle, best_effort
from bot.messages import Notice, NoticeKind, Reply, meeting_not_found
from bot.models import Caller, Meeting, MeetingStatus
from bot.ports import RoomSpec
from bot.providers.errors import ProviderError
from bot.rooms import close_unsaved, host_note, meeting_title
from bot.timefmt import when
from storage import meetings as meeting_rows
from storage import people
from storage.deliveries import Kind

log = logging.getLogger(__name__)


class MeetingChanges:
    def __init__(self, core: Core, lifecycle: Lifecycle) -> None:
        self.core = core
        self.lifecycle = lifecycle

    async def move(
        self, caller: Caller, meeting_id: str, start: datetime, length: timedelta | None
    ) -> Reply:
        meeting, refusal = await self._changeable(caller, meeting_id, "move")
        if meeting is None:
            return refusal
        core = self.core
        end = start + (length or meeting.end - meeting.start)
        try:
            provider = core.providers.get(meeting.provider)
            room = await provider.create_room(
                RoomSpec(
                    title=meeting.title,
                    start=start,
                    end=end,
                    instant=False,
                    organizer_id=meeting.organizer_id,
                    organizer_name=caller.user_name,
                    invitee_count=len(meeting.invitees),
                    feedback=meeting.feedback,
                    meeting_id=meeting.id,
                )
            )
        except ProviderError as exc:
            return Reply(f"“{meeting.title}” was not moved: {exc}", ok=False)
        remind = meeting.remind if start - meeting.remind > core.clock() else timedelta(0)
        moved = replace(
            meeting,
            start=start,
            end=end,
            remind=remind,
            room_id=room.room_id,
            join_url=room.join_url,
            host_url=room.host_url,
            status=MeetingStatus.SCHEDULED,
        )
        try:
            saved = await meeting_rows.move_meeting(
                core.store, moved, core.box, forget=(Kind.REMINDER, Kind.START)
            )
        except BaseException:
            await close_unsaved(provider, room, meeting.id)
            raise
        if not saved:
            await close_unsaved(provider, room, meeting.id)
            return Reply(f"“{meeting.title}” was closed a moment ago.", ok=False)
        try:
            await provider.cancel_room(meeting.room_id)
        except ProviderError as exc:  # it expires at its own end; the meeting uses the new room
            log.warning("old room of moved meeting %s not closed: %s", meeting.id, exc)
        self.lifecycle.forget(meeting.id)
        self.lifecycle.plan(moved)
        await self._show(moved, "has moved: the card shows its new time and link")
        zone = await core.zone_for(caller)
        return Reply(
            f"Moved “{moved.title}” to {when(start, end, zone)}; its new link is on the card.",
            private=(host_note(core, provider.label, room.host_url, room.host_note),),
        )

    async def rename(self, caller: Caller, meeting_id: str, title: str) -> Reply:
        meeting, refusal = await self._changeable(caller, meeting_id, "rename")
        if meeting is None:
            return refusal
        new_title = meeting_title(title, meeting.title)
        await meeting_rows.rename_meeting(self.core.store, meeting.id, new_title)
        renamed = replace(meeting, title=new_title)
        await self._show(renamed, f"is now called “{new_title}”")
        return Reply(f"Renamed “{meeting.title}” to “{new_title}”.")

    async def _changeable(
        self, caller: Caller, meeting_id: str, verb: str
    ) -> tuple[Meeting | None, Reply]:
        meeting = await self.core.find_meeting(caller, meeting_id)
        if meeting is None:
            hint = (
                f"To book a meeting whose title starts with “{verb}”, quote the title: "
                f'/meet "{verb.title()} {meeting_id}" tomorrow at 15:00'
            )
            return None, meeting_not_found(meeting_id, hint)
        if caller.user_id != meeting.organizer_id and not caller.is_admin:
            return None, Reply(
                f"Only the organizer of meeting {meeting.id} or a workspace admin can {verb} it.",
                ok=False,
            )
        if meeting.status is not MeetingStatus.SCHEDULED:
            state = "has started" if meeting.status is MeetingStatus.ACTIVE else "is over"
            return None, Reply(
                f"“{meeting.title}” {state}, so it can no longer be {verb}d; "
                "book a new one with /meet Design review at 15:00.",
                ok=False,
            )
        return meeting, Reply("")

    async def _show(self, meeting: Meeting, text: str) -> None:
        """Update the card (and the calendar's copy) in place and tell the channel,
        threaded under it."""
        await people.bump_sequence(self.core.store, meeting.id)
        await self.lifecycle.tell_surface(meeting, lambda surface: surface.changed(meeting))
        messenger = self.core.messengers.get(meeting.platform)
        if messenger is None:
            return
        if meeting.message_ref:
            card = await self.core.card(meeting)
            await best_effort(messenger.update_card(meeting.place, meeting.message_ref, card))
        notice = Notice(NoticeKind.INFO, meeting.id, meeting.title, text)
        await best_effort(messenger.post_notice(meeting.place, notice, meeting.message_ref))
