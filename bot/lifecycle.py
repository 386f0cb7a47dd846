"""Everything that happens to a meeting after it is created, on time and exactly once.

Storage is the source of truth and APScheduler only a timer: each open meeting
has up to three events (reminder, start, end) derived from its row. Timers are
kept only for the next ten minutes and planned again from storage every five;
a sweep every 30 s catches anything a timer missed (a clock jump, a job added
by another process). Each firing is claimed
in storage before it acts (storage.deliveries), so two processes, a restart or
the sweep racing a timer never act twice.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core import Core
from bot.messages import Notice, NoticeKind, card_for
from bot.models import Meeting, MeetingStatus
from bot.ports import DeliveryError, Messenger
from bot.providers.errors import ProviderError
from bot.timefmt import duration
from storage import deliveries
from storage import meetings as meeting_rows

log = logging.getLogger(__name__)

LATE = timedelta(minutes=1)  # a notice this much past its time says it is late
MAX_REMIND = timedelta(hours=24)
SWEEP_SECONDS = 30
HORIZON = timedelta(minutes=10)  # events further away get their timer later

EndedHook = Callable[[Meeting], Awaitable[None]]


class Event(StrEnum):
    REMINDER = "reminder"
    START = "start"
    END = "end"


def planned_events(meeting: Meeting) -> list[tuple[Event, datetime]]:
    """The events a meeting still expects, by the time each is due."""
    events: list[tuple[Event, datetime]] = []
    if not meeting.instant:
        if meeting.remind > timedelta(0):
            events.append((Event.REMINDER, meeting.start - meeting.remind))
        events.append((Event.START, meeting.start))
    events.append((Event.END, meeting.end))
    return events


class Lifecycle:
    def __init__(self, core: Core, scheduler: AsyncIOScheduler | None = None) -> None:
        self.core = core
        self.scheduler = scheduler
        self.ended_hooks: list[EndedHook] = []  # the feedback prompt plugs in here
        self.sweeps: list[Callable[[], Awaitable[None]]] = []  # e.g. recurring series

    # -- timers -----------------------------------------------------------------

    def start(self) -> None:
        """Rebuild the near jobs from storage, then start the timer."""
        if self.scheduler is None:
            return
        count = self.plan_window()
        for job_id, job, seconds in (
            ("sweep", self.sweep, SWEEP_SECONDS),
            ("horizon", self.plan_window, HORIZON.total_seconds() / 2),
        ):
            self.scheduler.add_job(
                job, "interval", seconds=seconds, id=job_id, replace_existing=True,
                coalesce=True, max_instances=1, misfire_grace_time=None,
            )  # fmt: skip
        self.scheduler.start()
        log.info("lifecycle started; %d meetings have events in the next minutes", count)

    def plan_window(self) -> int:
        """Give every event due within HORIZON a timer; return how many meetings had one.

        Only near events get APScheduler jobs, so 100,000 pending meetings cost a
        query at start, not 300,000 jobs; this runs again every HORIZON / 2."""
        until = self.core.clock() + HORIZON
        count = 0
        for meeting in meeting_rows.open_meetings_due(
            self.core.db, until, MAX_REMIND, self.core.box
        ):
            count += self.plan(meeting)
        return count

    def plan(self, meeting: Meeting) -> int:
        """Timers for this meeting's events due within HORIZON (1 if any, else 0)."""
        if self.scheduler is None:
            return 0
        now = self.core.clock()
        near = [(event, due) for event, due in planned_events(meeting) if due <= now + HORIZON]
        for event, due in near:
            self.scheduler.add_job(
                self.fire,
                "date",
                run_date=max(due, now),
                args=[event.value, meeting.id],
                id=f"{event.value}:{meeting.id}",
                replace_existing=True,
                misfire_grace_time=None,  # never drop a late job; fire() decides what late means
            )
        return 1 if near else 0

    def forget(self, meeting_id: str) -> None:
        if self.scheduler is None:
            return
        for event in Event:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(f"{event.value}:{meeting_id}")

    async def fire(self, event: str, meeting_id: str) -> None:
        """A timer went off: act if the meeting still wants this event."""
        meeting = self.core.get_meeting(meeting_id)
        if meeting is not None and meeting.status.is_open:
            await self._deliver(Event(event), meeting)

    async def sweep(self) -> None:
        """Act on every event that is due and not yet delivered (idempotent).

        Extra sweeps run first: a series occurrence opened late is then started
        in the same pass."""
        for extra in self.sweeps:
            await extra()
        now = self.core.clock()
        due_meetings = list(
            meeting_rows.open_meetings_due(self.core.db, now, MAX_REMIND, self.core.box)
        )
        for meeting in due_meetings:
            for event, due in planned_events(meeting):
                if due > now:
                    break
                current = self.core.get_meeting(meeting.id)
                if current is None or not current.status.is_open:
                    break
                await self._deliver(event, current)

    # -- delivery ---------------------------------------------------------------

    async def _deliver(self, event: Event, meeting: Meeting) -> None:
        db, now = self.core.db, self.core.clock()
        if not deliveries.claim(db, meeting.id, event.value, now, self.core.instance):
            return
        try:
            if event is Event.REMINDER:
                outcome = await self._remind(meeting, now)
            elif event is Event.START:
                outcome = await self._start(meeting, now)
            else:
                outcome = "closed" if await self.close(meeting, MeetingStatus.ENDED) else "already"
        except DeliveryError as exc:
            if not exc.permanent:
                log.warning(
                    "%s for meeting %s not delivered, will retry: %s", event, meeting.id, exc
                )
                deliveries.release(db, meeting.id, event.value)
                return
            log.warning("%s for meeting %s cannot be delivered: %s", event, meeting.id, exc)
            outcome = "undeliverable"
            await self._abandon(meeting)
        except Exception:
            log.exception("%s for meeting %s failed", event, meeting.id)
            outcome = "error"
        deliveries.mark_done(db, meeting.id, event.value, self.core.clock(), outcome)

    async def _remind(self, meeting: Meeting, now: datetime) -> str:
        if now >= meeting.start:
            log.info("reminder for %s skipped: the meeting has started", meeting.id)
            return "skipped"
        late = now - (meeting.start - meeting.remind) > LATE
        text = f"starts in {duration(_round_up_minutes(meeting.start - now))}"
        if late:
            text += " (this reminder is late: convene was offline)"
        await self._notice(meeting, NoticeKind.REMINDER, text)
        return "sent"

    async def _start(self, meeting: Meeting, now: datetime) -> str:
        if now >= meeting.end:
            return "skipped"
        meeting_rows.set_status(self.core.db, meeting.id, MeetingStatus.ACTIVE)
        late = now - meeting.start > LATE
        text = "started a little while ago" if late else "is starting now"
        await self._notice(meeting, NoticeKind.STARTING, text)
        return "sent"

    async def close(self, meeting: Meeting, status: MeetingStatus) -> bool:
        """End or cancel a meeting everywhere: storage, timers, provider, card.

        Returns False if it was already closed (another path won the race).
        Provider failures are logged and do not stop the rest: the room then
        simply expires at the provider.
        """
        if not meeting_rows.set_status(self.core.db, meeting.id, status):
            return False
        self.forget(meeting.id)
        closed = self.core.get_meeting(meeting.id) or meeting
        await self._close_room(closed)
        messenger = self._messenger(closed)
        if messenger is not None:
            if closed.message_ref:
                card = card_for(closed, self.core.provider_label(closed.provider))
                await _best_effort(messenger.update_card(closed.place, closed.message_ref, card))
            word = "has ended" if status is MeetingStatus.ENDED else "was cancelled"
            await _best_effort(self._notice(closed, NoticeKind.ENDED, word))
        if status is MeetingStatus.ENDED and closed.feedback:
            for hook in self.ended_hooks:
                await hook(closed)
        return True

    async def _abandon(self, meeting: Meeting) -> None:
        """The channel is gone: stop every further notice and close the room."""
        if meeting_rows.set_status(self.core.db, meeting.id, MeetingStatus.CANCELLED):
            self.forget(meeting.id)
            await self._close_room(meeting)

    async def _close_room(self, meeting: Meeting) -> None:
        """Close the provider's room; a cancelled meeting uses the provider's cancel
        call where it has one (Upclass: cancel before anyone joined). Failures are
        logged, not raised: the room then simply expires at the provider."""
        try:
            provider = self.core.providers.get(meeting.provider)
            cancel = getattr(provider, "cancel_room", None)
            if meeting.status is MeetingStatus.CANCELLED and cancel is not None:
                await cancel(meeting.room_id)
            else:
                await provider.end_room(meeting.room_id)
        except ProviderError as exc:
            log.warning("closing room of meeting %s failed: %s", meeting.id, exc)
        except Exception:  # a provider that is no longer configured, for one
            log.exception("closing room of meeting %s failed", meeting.id)

    async def _notice(self, meeting: Meeting, kind: NoticeKind, text: str) -> None:
        messenger = self._messenger(meeting)
        if messenger is None:
            return
        join = meeting.join_url if kind in (NoticeKind.REMINDER, NoticeKind.STARTING) else None
        notice = Notice(kind, meeting.id, meeting.title, text, join_url=join, start=meeting.start)
        await messenger.post_notice(meeting.place, notice, meeting.message_ref)

    def _messenger(self, meeting: Meeting) -> Messenger | None:
        messenger = self.core.messengers.get(meeting.platform)
        if messenger is None:
            log.warning(
                "meeting %s belongs to %s, which is not running", meeting.id, meeting.platform
            )
        return messenger


async def _best_effort(action: Awaitable[None]) -> None:
    """Closing must finish even if the chat platform hiccups; log and go on."""
    try:
        await action
    except DeliveryError as exc:
        log.warning("could not update the channel: %s", exc)


def _round_up_minutes(delta: timedelta) -> timedelta:
    minutes = -(-int(delta.total_seconds()) // 60)
    return timedelta(minutes=max(1, minutes))
