"""MeetingService: every `/meet` command, whatever platform it came from.

Adapters hand in a verified `Caller` and either the command text or a typed
request; they get back a `Reply` meant for the caller alone (ephemeral on Slack
and Discord). Public output (the card) goes out through the platform's
`Messenger`. The service never imports a platform or a specific provider.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot import grammar
from bot.calendars import Calendars
from bot.changes import MeetingChanges
from bot.core import Core
from bot.feedback import FeedbackManager
from bot.help import HELP
from bot.lifecycle import Lifecycle
from bot.messages import ListItem, Private, Reply, meeting_not_found
from bot.models import Caller, MeetingStatus, Place
from bot.observability import COMMANDS, log_context
from bot.people import People
from bot.preferences import Preferences
from bot.providers import ProviderNotConfigured
from bot.providers.errors import ProviderError
from bot.providers.webhooks import ProviderEvent
from bot.requests import (
    CalendarFeed,
    CancelMeeting,
    ChangeSeries,
    Configure,
    CreateMeeting,
    CreateSeries,
    EndMeeting,
    FeedbackSummary,
    GrammarError,
    Help,
    ListMeetings,
    MoveMeeting,
    OpenScheduleForm,
    PauseSeries,
    PersonalLink,
    RateMeeting,
    RemindMe,
    RenameMeeting,
    Request,
    ResendHost,
    ResumeSeries,
    Rsvp,
    SetTimezone,
    SkipOccurrence,
)
from bot.rooms import MeetingPlan, host_note, meeting_title, open_meeting
from bot.series import SeriesManager
from bot.surfaces import PlatformState
from bot.timefmt import when
from storage import meetings as meeting_rows
from storage import platform_state
from storage.db import StorageBusy
from storage.deliveries import Kind

log = logging.getLogger(__name__)

REPLAY_MEMORY = timedelta(minutes=10)  # longer than any signing window convene accepts
OOPS = "Something went wrong on convene's side and it has been logged; please try again."


class MeetingService:
    def __init__(self, core: Core, lifecycle: Lifecycle) -> None:
        self.core = core
        self.lifecycle = lifecycle
        self.series = SeriesManager(core, lifecycle)
        self.feedback = FeedbackManager(core, lifecycle)
        self.changes = MeetingChanges(core, lifecycle)
        self.preferences = Preferences(core)
        self.people = People(core, lifecycle)
        self.calendars = Calendars(core)
        lifecycle.sweeps.append(self._forget_old_requests)

    async def start(self) -> None:
        """Rebuild every timer from storage and start the scheduler."""
        self.series.start()
        await self.lifecycle.start()

    # -- what adapters may ask, besides commands ------------------------------------------

    def now(self) -> datetime:
        """The service's clock: adapters read time here, never from the machine."""
        return self.core.clock()

    async def zone_for(self, caller: Caller) -> ZoneInfo:
        """The zone the caller's times are read and shown in."""
        return await self.core.zone_for(caller)

    async def meeting_title(self, caller: Caller, meeting_id: str) -> str | None:
        """The title of a meeting of the caller's workspace, or None (e.g. to label a form)."""
        meeting = await self.core.find_meeting(caller, meeting_id)
        return meeting.title if meeting else None

    async def meeting_slot(
        self, caller: Caller, meeting_id: str
    ) -> tuple[str, datetime, datetime] | None:
        """(title, start, end) of a meeting the caller may change, to fill an edit form;
        None for meetings of other channels or that have started."""
        meeting = await self.core.find_meeting(caller, meeting_id)
        if meeting is None or meeting.channel_id != caller.channel_id:
            return None
        if meeting.status is not MeetingStatus.SCHEDULED:
            return None
        return meeting.title, meeting.start, meeting.end

    async def meeting_place(self, platform: str, meeting_id: str) -> Place | None:
        """Where a meeting of this platform lives, for answers that arrive outside its
        channel (a direct message has no workspace of its own)."""
        meeting = await self.core.get_meeting(meeting_id)
        if meeting is None or meeting.platform != platform:
            return None
        return meeting.place

    async def invitees(self, meeting_id: str) -> tuple[str, ...]:
        meeting = await self.core.get_meeting(meeting_id)
        return meeting.invitees if meeting else ()

    async def organized_by(self, caller: Caller, limit: int = 100) -> list[tuple[str, str]]:
        """(id, title) of the caller's open meetings in this workspace, soonest first."""
        return await meeting_rows.open_meetings_of(
            self.core.store, caller.platform, caller.workspace_id, caller.user_id, limit
        )

    async def first_time(self, key: str) -> bool:
        """True the first time a verified inbound request's key is seen, by any replica.

        A database too busy to say counts as first: the command then meets the same
        busy database and is refused, so nothing is done twice."""
        try:
            return await self.core.claims.record_once(key, Kind.INBOUND_REQUEST)
        except StorageBusy:
            return True

    async def _forget_old_requests(self) -> None:
        """Replay keys are needed only while their signature could still be accepted."""
        with contextlib.suppress(StorageBusy):  # next sweep, then
            await self.core.claims.forget_before(Kind.INBOUND_REQUEST, REPLAY_MEMORY)

    async def switched_on(self, platform: str, workspace_id: str, switch: str) -> bool:
        """An on/off workspace setting (`mentions`, `events`, `calls`): /meet config."""
        settings = await self.core.settings_for(platform, workspace_id)
        return bool(getattr(settings, switch))

    def surface_state(self, platform: str) -> PlatformState:
        """Where a platform's native surface keeps its object ids (shared by replicas)."""
        return PlatformState(platform, self.platform_state, self.set_platform_state)

    async def platform_state(self, platform: str, key: str) -> str | None:
        """A platform adapter's own small bookkeeping (e.g. a synced command tree's hash)."""
        return await platform_state.get(self.core.store, platform, key)

    async def set_platform_state(self, platform: str, key: str, value: str) -> None:
        await platform_state.put(self.core.store, platform, key, value)

    # -- commands -----------------------------------------------------------------------------

    async def run_text(self, caller: Caller, text: str) -> Reply:
        """Parse `/meet` text in the caller's zone and carry it out."""
        try:
            request = grammar.parse(
                text, now=self.core.clock(), tz=await self.core.zone_for(caller)
            )
        except GrammarError as exc:
            return Reply(str(exc), ok=False)
        return await self.handle(caller, request)

    async def handle(self, caller: Caller, request: Request) -> Reply:
        outcome = "error"
        try:
            with self.core.inflight.track(), log_context(platform=caller.platform):
                reply = await self._dispatch(caller, request)
            outcome = "ok" if reply.ok else "refused"
            return reply
        except (StorageBusy, GrammarError) as exc:
            log.info("command %s refused: %s", type(request).__name__, exc)
            outcome = "refused"
            return Reply(str(exc), ok=False)
        except Exception:
            log.exception("command %s failed", type(request).__name__)
            return Reply(OOPS, ok=False)
        finally:
            COMMANDS.labels(caller.platform, outcome).inc()

    async def _dispatch(self, caller: Caller, request: Request) -> Reply:
        match request:
            case CreateMeeting():
                return await self.create(caller, request)
            case ListMeetings():
                return await self.list(caller)
            case EndMeeting(meeting_id):
                return await self.close(caller, meeting_id, MeetingStatus.ENDED)
            case CancelMeeting(meeting_id) if await self.series.find(caller, meeting_id):
                return await self.series.cancel(caller, meeting_id)
            case CancelMeeting(meeting_id):
                return await self.close(caller, meeting_id, MeetingStatus.CANCELLED)
            case CreateSeries():
                return await self.series.create(caller, request)
            case MoveMeeting(meeting_id) | RenameMeeting(meeting_id) if await self.series.find(
                caller, meeting_id
            ):
                return Reply(
                    f"{meeting_id} is a series: change its days and time with "
                    f"/meet move {meeting_id} every weekday at 9:30.",
                    ok=False,
                )
            case MoveMeeting(meeting_id, start, length, note):
                reply = await self.changes.move(caller, meeting_id, start, length)
                return replace(reply, text=f"{reply.text} {note}") if reply.ok and note else reply
            case RenameMeeting(meeting_id, title):
                return await self.changes.rename(caller, meeting_id, title)
            case ChangeSeries():
                return await self.series.change(caller, request)
            case SkipOccurrence(series_id, day):
                return await self.series.skip(caller, series_id, day)
            case PauseSeries(series_id):
                return await self.series.pause(caller, series_id)
            case ResumeSeries(series_id):
                return await self.series.resume(caller, series_id)
            case RateMeeting():
                return await self.feedback.rate(caller, request)
            case FeedbackSummary(meeting_id):
                return await self.feedback.summary(caller, meeting_id)
            case Rsvp():
                return await self.people.rsvp(caller, request)
            case PersonalLink(meeting_id):
                return await self.people.personal_link(caller, meeting_id)
            case RemindMe(meeting_id):
                return await self.people.remind_me(caller, meeting_id)
            case ResendHost(meeting_id):
                return await self.host(caller, meeting_id)
            case SetTimezone(zone):
                return await self.preferences.set_timezone(caller, zone)
            case Configure(key, value):
                return await self.preferences.configure(caller, key, value)
            case CalendarFeed(reset):
                return await self.calendars.feed_reply(caller, reset)
            case Help():
                return Reply(HELP, offer_form=True)
            case OpenScheduleForm():
                return Reply(
                    "Opening the scheduling form. Where there is no form, type it instead: "
                    "/meet Design review at 15:00 for 45m",
                    open_form=True,
                )
        return Reply(
            "That command is not available in this version of convene; "
            "/meet help lists what works.",
            ok=False,
        )

    # -- creating ------------------------------------------------------------------

    async def create(self, caller: Caller, request: CreateMeeting) -> Reply:
        core = self.core
        settings = await core.settings_for(caller.platform, caller.workspace_id)
        instant = request.start is None
        start = request.start or core.clock()
        end = start + (request.duration or settings.default_length)
        plan = MeetingPlan(
            platform=caller.platform,
            place=caller.place,
            organizer_id=caller.user_id,
            organizer_name=caller.user_name,
            title=meeting_title(request.title, "Quick meeting" if instant else "Meeting"),
            start=start,
            end=end,
            remind=_reminder(request, settings.reminder, core.clock()),
            instant=instant,
            feedback=request.feedback and settings.feedback,
            provider=settings.provider,
            invitees=request.invitees,
        )
        try:
            opened = await open_meeting(core, self.lifecycle, plan)
        except ProviderError as exc:
            return Reply(str(exc), ok=False)
        meeting = opened.meeting
        zone = await core.zone_for(caller)
        text = f"“{meeting.title}” is set for {when(start, end, zone)} (id {meeting.id})."
        if request.note:
            text += f" {request.note}"
        private: tuple[Private, ...] = (opened.host,)
        if opened.post_problem is not None:
            text += f" The card could not be posted here: {opened.post_problem}"
            join = Private(
                "Share the join link yourself:", link=meeting.join_url, link_label="Join"
            )
            private = (join, opened.host)
        return Reply(text, private=private)

    # -- reading ----------------------------------------------------------------------

    async def list(self, caller: Caller) -> Reply:
        zone = await self.core.zone_for(caller)
        found = await meeting_rows.channel_meetings(
            self.core.store,
            caller.platform,
            caller.workspace_id,
            caller.channel_id,
            self.core.clock(),
        )
        series = await self.series.list_items(caller, zone)
        if not found and not series:
            return Reply(
                "No upcoming meetings in this channel. Start one with /meet, or schedule one "
                "with /meet Standup at 9:30 for 15m."
            )
        meetings = [
            ListItem(
                id=m.id,
                title=m.title,
                start=m.start,
                end=m.end,
                status=m.status.value,
                join_url=m.join_url,
                local_when=when(m.start, m.end, zone),
            )
            for m in found
        ]
        items = tuple(meetings + series)
        return Reply(f"Meetings in this channel ({len(items)}):", items=items)

    async def host(self, caller: Caller, meeting_id: str) -> Reply:
        meeting = await self.core.find_meeting(caller, meeting_id)
        if meeting is None:
            return meeting_not_found(meeting_id)
        if meeting.organizer_id != caller.user_id:
            return Reply(
                f"Only the organizer of meeting {meeting.id} can get its host link.", ok=False
            )
        if not meeting.status.is_open:
            return Reply(f"“{meeting.title}” is over, so its host link no longer works.", ok=False)
        host_url = await meeting_rows.host_link(self.core.store, meeting.id, self.core.box)
        if host_url:
            return Reply(
                f"Here is the host link for “{meeting.title}” again.",
                private=(host_note(self.core, "", host_url, None),),
            )
        provider_has_one = self._provider_has_host_link(meeting.provider)
        if provider_has_one and not self.core.box.can_store:
            return Reply(
                "convene did not keep this host link because CONVENE_SECRET_KEY is not set; "
                "ask an admin to set it so future host links can be resent.",
                ok=False,
            )
        label = self.core.provider_label(meeting.provider)
        return Reply(
            f"{label} has no separate host link for “{meeting.title}”; join with the "
            "link everyone uses.",
            private=(Private("The join link:", link=meeting.join_url, link_label="Join"),),
        )

    def _provider_has_host_link(self, name: str) -> bool:
        try:
            return self.core.providers.get(name).capabilities.host_link
        except ProviderNotConfigured:
            return False

    # -- ending -------------------------------------------------------------------------

    async def close(self, caller: Caller, meeting_id: str, status: MeetingStatus) -> Reply:
        verb = "end" if status is MeetingStatus.ENDED else "cancel"
        meeting = await self.core.find_meeting(caller, meeting_id)
        if meeting is None:
            return meeting_not_found(meeting_id)
        if caller.user_id != meeting.organizer_id and not caller.is_admin:
            return Reply(
                f"Only the organizer of meeting {meeting.id} or a workspace admin can {verb} it.",
                ok=False,
            )
        if not meeting.status.is_open:
            return Reply(f"“{meeting.title}” is already {meeting.status.value}.", ok=False)
        if not await self.lifecycle.close(meeting, status):
            return Reply(f"“{meeting.title}” was closed a moment ago.", ok=False)
        done = "Ended" if status is MeetingStatus.ENDED else "Cancelled"
        return Reply(f"{done} “{meeting.title}”; its room is closed.")

    # -- provider events -------------------------------------------------------------

    async def on_provider_event(self, event: ProviderEvent) -> None:
        """A verified webhook: someone joined, or the room's session ended. Replays are ignored.

        "Ended" ends a meeting early only once it has started by convene's clock:
        the provider's session ends when the last person leaves, so after the start
        it means everyone has gone (close the room, ask for feedback); before the
        start it is someone trying the link early, and the meeting stays as booked.
        Events are matched by the meeting's current room, so a room the meeting no
        longer uses cannot end it."""
        core = self.core
        if event.event_id and not await core.claims.record_once(
            f"{event.provider}:{event.event_id}", Kind.WEBHOOK
        ):
            return
        meeting = await meeting_rows.find_by_room(core.store, event.provider, event.room_id)
        if meeting is None:
            log.info("%s event for a room convene does not know; ignored", event.provider)
            return
        if event.kind in ("joined", "left"):
            await self.people.on_attendance(event, meeting)
        elif event.kind == "ended" and meeting.status.is_open:
            if core.clock() < meeting.start:
                log.info(
                    "%s session of meeting %s ended before its start; kept",
                    event.provider,
                    meeting.id,
                )
                return
            await self.lifecycle.close(meeting, MeetingStatus.ENDED)


def _reminder(request: CreateMeeting, default: timedelta, now: datetime) -> timedelta:
    """No reminder for instant meetings, nor when the card itself goes out inside
    the reminder window (it would only repeat the card a moment later)."""
    remind = default if request.remind is None else request.remind
    if request.start is None or request.start - remind <= now:
        return timedelta(0)
    return remind
