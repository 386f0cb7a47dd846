"""Opening a meeting: provider room, stored row, public card, timers, host note.

Shared by `/meet` (service) and recurring series (each occurrence opens a fresh
room), so both behave the same: the card is public, the host link private.

Nothing is left half-done. Per step, when it fails:
- the provider's create: nothing exists; the user gets the provider's sentence;
- saving the meeting: the room is closed again at the provider (convene would
  never remind, close or list it), and the user is told nothing was saved;
- posting the card: the meeting is kept (its room works and is closed on time)
  and the organizer's private answer carries the join link and why the card
  is missing;
- the host link's private delivery is the platform's: a stored host link is
  re-offered with /meet host.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import Core
from bot.lifecycle import Lifecycle
from bot.messages import Private
from bot.models import Meeting, MeetingStatus, Place
from bot.ports import DeliveryError, Provider, Room, RoomSpec
from bot.providers.errors import ProviderError
from bot.requests import GrammarError
from storage import meetings as meeting_rows
from storage.db import StorageBusy

log = logging.getLogger(__name__)

TITLE_LIMIT = 200  # characters; longer titles are refused, never cut silently


def meeting_title(text: str, fallback: str) -> str:
    """One line of plain text: whitespace collapsed (a title cannot fake a second
    line of the card), at most TITLE_LIMIT characters. GrammarError beyond that."""
    title = " ".join(text.split())
    if len(title) > TITLE_LIMIT:
        raise GrammarError(
            f"That title is {len(title)} characters long; convene keeps titles to "
            f"{TITLE_LIMIT}. Try: /meet Design review at 15:00"
        )
    return title or fallback


@dataclass(frozen=True)
class MeetingPlan:
    platform: str
    place: Place
    organizer_id: str
    organizer_name: str
    title: str
    start: datetime
    end: datetime
    remind: timedelta
    instant: bool
    feedback: bool
    provider: str
    invitees: tuple[str, ...] = ()
    series_id: str | None = None


@dataclass(frozen=True)
class Opened:
    meeting: Meeting
    host: Private  # the organizer's private note, with the host link when there is one
    post_problem: str | None  # why the card could not be posted, if it could not


async def open_meeting(core: Core, lifecycle: Lifecycle, plan: MeetingPlan) -> Opened:
    """Create the room and everything around it.

    Raises ProviderError (also when the provider is not configured) before anything is stored, so
    a failure leaves no half-written meeting behind.
    """
    provider = core.providers.get(plan.provider)
    meeting_id = await core.new_id()
    room = await provider.create_room(
        RoomSpec(
            title=plan.title,
            start=plan.start,
            end=plan.end,
            instant=plan.instant,
            organizer_id=plan.organizer_id,
            organizer_name=plan.organizer_name,
            invitee_count=len(plan.invitees),
            feedback=plan.feedback,
            meeting_id=meeting_id,
        )
    )
    meeting = Meeting(
        id=meeting_id,
        platform=plan.platform,
        workspace_id=plan.place.workspace_id,
        channel_id=plan.place.channel_id,
        organizer_id=plan.organizer_id,
        title=plan.title,
        start=plan.start,
        end=plan.end,
        provider=provider.name,
        room_id=room.room_id,
        join_url=room.join_url,
        host_url=room.host_url,
        status=MeetingStatus.ACTIVE if plan.instant else MeetingStatus.SCHEDULED,
        remind=plan.remind,
        instant=plan.instant,
        feedback=plan.feedback,
        invitees=plan.invitees,
        series_id=plan.series_id,
        created_at=core.clock(),
    )
    try:
        await meeting_rows.insert_meeting(core.store, meeting, core.box)
    except BaseException:
        await close_unsaved(provider, room, meeting_id)
        raise
    problem = await _post_card(core, meeting)
    lifecycle.plan(meeting)
    posted = await core.get_meeting(meeting.id) or meeting  # with the card's reference
    await lifecycle.tell_surface(posted, lambda surface: surface.planned(posted))
    return Opened(meeting, host_note(core, provider.label, room.host_url, room.host_note), problem)


async def close_unsaved(provider: Provider, room: Room, meeting_id: str) -> None:
    """The meeting could not be saved: cancel its room, which nobody would ever close."""
    try:
        await provider.cancel_room(room.room_id)
    except ProviderError as exc:
        log.error(
            "room of unsaved meeting %s may stay open at %s: %s", meeting_id, provider.label, exc
        )


async def _post_card(core: Core, meeting: Meeting) -> str | None:
    """Post the card and remember where; return a reason if it could not be posted."""
    messenger = core.messengers.get(meeting.platform)
    if messenger is None:
        return "this platform is not connected."
    card = await core.card(meeting)
    try:
        ref = await messenger.post_card(meeting.place, card)
    except DeliveryError as exc:
        return str(exc)
    try:
        await meeting_rows.set_message_ref(core.store, meeting.id, ref)
    except StorageBusy:  # the card is out; later notices then simply are not threaded
        log.warning("card of meeting %s posted but its reference not saved", meeting.id)
    return None


def host_note(core: Core, label: str, host_url: str | None, note: str | None) -> Private:
    if host_url is None:
        fallback = f"{label} has no separate host link; everyone uses the join link."
        return Private(note or fallback)
    text = "Your host link (only you can see this)."
    if note:
        text += f" {note}"
    if not core.box.can_store:
        text += (
            " convene keeps no copy because CONVENE_SECRET_KEY is not set, so /meet host"
            " cannot resend it: save it now."
        )
    return Private(text, link=host_url)
