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

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.claims import Retry
from bot.core import Core
from bot.messages import Notice, NoticeKind, Private
from bot.models import Meeting, MeetingStatus
from bot.observability import REMINDER_LATENESS
from bot.people import merge_interested, notice_mentions
from bot.ports import DeliveryError, Messenger, Surface
from bot.providers.errors import ProviderError
from bot.timefmt import duration
from bot.timers import Timers
from storage import meetings as meeting_rows
from storage import people
from storage.db import from_text
from storage.deliveries import Kind

log = logging.getLogger(__name__)

LATE = timedelta(minutes=1)  # a notice this much past its time says it is late
MAX_REMIND = timedelta(hours=24)
SWEEP_EVERY = timedelta(seconds=30)
HORIZON = timedelta(minutes=10)  # events further away get their timer later
MEETING_EVENTS = (Kind.REMINDER, Kind.START, Kind.END)
PAGE = 200  # due events read per query; the loop is yielded between pages
BATCH = 20  # and after this many timers planned or events acted on

EndedHook = Callable[[Meeting], Awaitable[None]]


def planned_events(meeting: Meeting) -> list[tuple[Kind, datetime]]:
    """The events a meeting still expects, by the time each is due."""
    events: list[tuple[Kind, datetime]] = []
    if not meeting.instant:
        if meeting.remind > timedelta(0):
            events.append((Kind.REMINDER, meeting.start - meeting.remind))
        events.append((Kind.START, meeting.start))
    events.append((Kind.END, meeting.end))
    return events


class Lifecycle:
    def __init__(self, core: Core, scheduler: AsyncIOScheduler | None = None) -> None:
        self.core = core
        self.timers = Timers(scheduler, core.clock)
        self.ended_hooks: list[EndedHook] = []  # the feedback prompt plugs in here
        self.sweeps: list[Callable[[], Awaitable[None]]] = []  # e.g. recurring series
        self.horizons: list[Callable[[datetime], Awaitable[None]]] = []  # series timers

    # -- timers -----------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the near timers from storage, then start the scheduler."""
        count = await self.plan_window()
        self.timers.every("sweep", SWEEP_EVERY, self.sweep)
        self.timers.every("horizon", HORIZON / 2, self.plan_window)
        self.timers.start()
        log.info("lifecycle started; %d meetings have events in the next minutes", count)

    async def plan_window(self) -> int:
        """Give every event due within HORIZON a timer; return how many meetings had one.

        Only near events get APScheduler jobs, so 100,000 pending meetings cost a
        query at start, not 300,000 jobs; this runs again every HORIZON / 2. It reads
        ids and due times only, a page at a time, yielding the loop between pages."""
        until = self.core.clock() + HORIZON
        planned: set[str] = set()
        for kind in MEETING_EVENTS:
            count = 0
            async for due, meeting_id in self._due_pages(kind, until):
                self.timers.at(f"{kind}:{meeting_id}", due, self.fire, kind.value, meeting_id)
                planned.add(meeting_id)
                count += 1
                if count % BATCH == 0:
                    await asyncio.sleep(0)  # adding a job costs more with many jobs held
        for extra in self.horizons:
            await extra(until)
        return len(planned)

    async def _due_pages(self, kind: Kind, until: datetime) -> AsyncIterator[tuple[datetime, str]]:
        """(due, meeting id) of undelivered `kind` events due by `until`, in pages."""
        after = meeting_rows.FIRST
        while True:
            page = await meeting_rows.due_events(self.core.store, kind.value, until, after, PAGE)
            for due_text, meeting_id in page:
                yield from_text(due_text), meeting_id
            if len(page) < PAGE:
                return
            after = page[-1]
            await asyncio.sleep(0)  # let acks and timers in between pages

    def plan(self, meeting: Meeting) -> int:
        """Timers for this meeting's events due within HORIZON (1 if any, else 0)."""
        horizon = self.core.clock() + HORIZON
        near = [(kind, due) for kind, due in planned_events(meeting) if due <= horizon]
        for kind, due in near:
            self.timers.at(f"{kind}:{meeting.id}", due, self.fire, kind.value, meeting.id)
        return 1 if near else 0

    def forget(self, meeting_id: str) -> None:
        for kind in MEETING_EVENTS:
            self.timers.cancel(f"{kind}:{meeting_id}")

    async def fire(self, event: str, meeting_id: str) -> None:
        """A timer went off: act if the meeting still wants this event and it is due
        by convene's clock; a timer that fired early is planned again."""
        meeting = await self.core.get_meeting(meeting_id)
        if meeting is None or not meeting.status.is_open:
            return
        kind = Kind(event)
        due = dict(planned_events(meeting)).get(kind)
        if due is None:
            return
        if self.core.clock() < due:
            self.plan(meeting)
            return
        await self._deliver(kind, meeting, due)

    async def sweep(self) -> None:
        """Act on every event that is due and not yet delivered (idempotent).

        Extra sweeps run first: a series occurrence opened late is then started
        in the same pass. Due-ness is a query (storage.meetings.due_events): reminders,
        then start notices, then expiries, so a meeting's own events keep their
        order; only a meeting actually due is read in full, just before acting."""
        for extra in self.sweeps:
            await extra()
        now = self.core.clock()
        for kind in MEETING_EVENTS:
            async for due, meeting_id in self._due_pages(kind, now):
                current = await self.core.get_meeting(meeting_id)
                if current is None or not current.status.is_open:
                    continue
                if dict(planned_events(current)).get(kind) != due:
                    continue  # moved since the page was read; the next sweep sees it anew
                await self._deliver(kind, current, due)
                await asyncio.sleep(0)  # a delivery may not have yielded at all

    # -- delivery ---------------------------------------------------------------

    async def _deliver(self, kind: Kind, meeting: Meeting, due: datetime) -> None:
        async def act() -> str:
            now = self.core.clock()
            try:
                if kind is Kind.REMINDER:
                    return await self._remind(meeting, now)
                if kind is Kind.START:
                    return await self._start(meeting, now)
                return "closed" if await self.close(meeting, MeetingStatus.ENDED) else "already"
            except DeliveryError as exc:
                if not exc.permanent:
                    raise Retry(str(exc)) from exc
                log.warning("%s for meeting %s cannot be delivered: %s", kind, meeting.id, exc)
                await self._abandon(meeting)
                return "undeliverable"

        outcome = await self.core.claims.once(meeting.id, kind, act)
        if outcome is not None:
            lateness = (self.core.clock() - due).total_seconds()
            if kind is Kind.REMINDER and outcome == "sent":
                REMINDER_LATENESS.observe(max(lateness, 0.0))
            log.info("%s of meeting %s: %s, %.1f s after due", kind, meeting.id, outcome, lateness)

    async def _remind(self, meeting: Meeting, now: datetime) -> str:
        if now >= meeting.start:
            log.info("reminder for %s skipped: the meeting has started", meeting.id)
            return "skipped"
        late = now - (meeting.start - meeting.remind) > LATE
        text = f"starts in {duration(_round_up_minutes(meeting.start - now))}"
        if late:
            text += " (this reminder is late: convene was offline)"
        await self._notice(meeting, NoticeKind.REMINDER, text)
        await self._remind_privately(meeting, text)
        return "sent"

    async def _remind_privately(self, meeting: Meeting, text: str) -> None:
        """A direct message to each person who asked (`/meet remind me`). Sent after the
        channel's notice, inside its claim: one person's closed DMs cost nobody else theirs,
        and a failure here never repeats the channel's notice."""
        messenger = self._messenger(meeting)
        if messenger is None:
            return
        note = Private(
            f"Reminder: “{meeting.title}” {text}.", link=meeting.join_url, link_label="Join"
        )
        for user in await people.private_reminders(self.core.store, meeting.id):
            if not messenger.is_user_id(user):
                continue
            try:
                await messenger.send_direct(meeting.place, user, note)
            except DeliveryError as exc:
                log.warning("a private reminder for %s was not delivered: %s", meeting.id, exc)

    async def _start(self, meeting: Meeting, now: datetime) -> str:
        if now >= meeting.end:
            return "skipped"
        await meeting_rows.set_status(self.core.store, meeting.id, MeetingStatus.ACTIVE)
        late = now - meeting.start > LATE
        text = "started a little while ago" if late else "is starting now"
        await self._notice(meeting, NoticeKind.STARTING, text)
        await self.tell_surface(meeting, lambda surface: surface.started(meeting))
        return "sent"

    async def close(self, meeting: Meeting, status: MeetingStatus) -> bool:
        """End or cancel a meeting everywhere: storage, timers, provider, card.

        Returns False if it was already closed (another path won the race).
        Provider failures are logged and do not stop the rest: the room then
        simply expires at the provider.
        """
        if not await meeting_rows.set_status(self.core.store, meeting.id, status):
            return False
        self.forget(meeting.id)
        closed = await self.core.get_meeting(meeting.id) or meeting
        await self._close_room(closed)
        messenger = self._messenger(closed)
        if messenger is not None:
            if closed.message_ref:
                card = await self.core.card(closed)
                await best_effort(messenger.update_card(closed.place, closed.message_ref, card))
            word = "has ended" if status is MeetingStatus.ENDED else "was cancelled"
            await best_effort(self._notice(closed, NoticeKind.ENDED, word))
        if status is MeetingStatus.ENDED:
            await self.tell_surface(closed, lambda surface: surface.ended(closed))
        else:
            await people.bump_sequence(self.core.store, closed.id)
            await self.tell_surface(closed, lambda surface: surface.cancelled(closed))
        if status is MeetingStatus.ENDED and closed.feedback:
            for hook in self.ended_hooks:
                await hook(closed)
        return True

    async def _abandon(self, meeting: Meeting) -> None:
        """The channel is gone: stop every further notice and close the room."""
        if await meeting_rows.set_status(self.core.store, meeting.id, MeetingStatus.CANCELLED):
            self.forget(meeting.id)
            await self._close_room(meeting)

    async def _close_room(self, meeting: Meeting) -> None:
        """Close the provider's room; a cancelled meeting uses the provider's cancel
        call where it has one (Upclass: cancel before anyone joined). Failures are
        logged, not raised: the room then simply expires at the provider."""
        try:
            provider = self.core.providers.get(meeting.provider)
            if meeting.status is MeetingStatus.CANCELLED:
                await provider.cancel_room(meeting.room_id)
            else:
                await provider.end_room(meeting.room_id)
        except ProviderError as exc:
            log.warning("closing room of meeting %s failed: %s", meeting.id, exc)
        except Exception:  # a bug in a provider client must not stop the rest of closing
            log.exception("closing room of meeting %s failed", meeting.id)

    async def _notice(self, meeting: Meeting, kind: NoticeKind, text: str) -> None:
        messenger = self._messenger(meeting)
        if messenger is None:
            return
        join = meeting.join_url if kind in (NoticeKind.REMINDER, NoticeKind.STARTING) else None
        mentions: tuple[str, ...] = ()
        if kind in (NoticeKind.REMINDER, NoticeKind.STARTING):
            await merge_interested(self.core, meeting)
            mentions = await notice_mentions(self.core, meeting, messenger)
        notice = Notice(
            kind,
            meeting.id,
            meeting.title,
            text,
            join_url=join,
            start=meeting.start,
            mentions=mentions,
        )
        await messenger.post_notice(meeting.place, notice, meeting.message_ref)

    async def tell_surface(
        self, meeting: Meeting, what: Callable[[Surface], Awaitable[None]]
    ) -> None:
        """Keep the platform's native view (Discord event, Slack call) in step, if it
        has one; surfaces log their own failures and never raise."""
        surface = self.core.surfaces.get(meeting.platform)
        if surface is not None:
            await what(surface)

    def _messenger(self, meeting: Meeting) -> Messenger | None:
        messenger = self.core.messengers.get(meeting.platform)
        if messenger is None:
            log.warning(
                "meeting %s belongs to %s, which is not running", meeting.id, meeting.platform
            )
        return messenger


async def best_effort(action: Awaitable[None]) -> None:
    """Closing must finish even if the chat platform hiccups; log and go on."""
    try:
        await action
    except DeliveryError as exc:
        log.warning("could not update the channel: %s", exc)


def _round_up_minutes(delta: timedelta) -> timedelta:
    minutes = -(-int(delta.total_seconds()) // 60)
    return timedelta(minutes=max(1, minutes))
