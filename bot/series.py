"""Recurring meetings: a fresh room for every occurrence, exactly once.

An occurrence is opened a lead time before its start (the workspace's reminder
setting): a new room, the card in the channel, the host link privately to the
owner; from then on it is an ordinary meeting (start notice, expiry, feedback).
Each occurrence is claimed in storage as `<series id>@<local date>` before its
room is made, so restarts, a second process or a clock jump never post twice.
Occurrences missed while convene was down are opened late if the meeting would
still be running, and otherwise skipped with a log line.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import rules
from bot.claims import Retry
from bot.core import Core
from bot.lifecycle import HORIZON, Lifecycle
from bot.messages import ListItem, Notice, NoticeKind, Reply
from bot.models import Caller, MeetingStatus, Place, Series, SeriesStatus
from bot.people import copy_series_answers
from bot.providers import ProviderNotConfigured
from bot.providers.errors import ProviderError, RateLimited, Unavailable
from bot.recurrence import (
    anchored,
    has_ended,
    left,
    next_starts,
    series_occurrences,
    until_date,
)
from bot.requests import ChangeSeries, CreateSeries
from bot.rooms import MeetingPlan, meeting_title, open_meeting
from bot.timefmt import duration
from storage import deliveries
from storage import meetings as meeting_rows
from storage import series as series_rows
from storage.db import StorageBusy, from_text
from storage.deliveries import Kind

log = logging.getLogger(__name__)

MIN_LEAD = timedelta(minutes=1)
FIRST_RETRY = timedelta(seconds=15)
PAGE = 25  # series read per query in the sweep; the loop is yielded between pages


class SeriesManager:
    def __init__(self, core: Core, lifecycle: Lifecycle) -> None:
        self.core = core
        self.lifecycle = lifecycle
        self._retry_at: dict[str, tuple[datetime, int]] = {}  # subject -> (when, attempts)
        lifecycle.sweeps.append(self.sweep)
        lifecycle.horizons.append(self.plan_window)

    # -- commands -------------------------------------------------------------------

    async def create(self, caller: Caller, request: CreateSeries) -> Reply:
        core = self.core
        settings = await core.settings_for(caller.platform, caller.workspace_id)
        zone = await core.zone_for(caller)
        series = Series(
            id=await core.new_id(),
            platform=caller.platform,
            workspace_id=caller.workspace_id,
            channel_id=caller.channel_id,
            owner_id=caller.user_id,
            title=meeting_title(request.title, "Meeting"),
            rule=anchored(request.rule, core.clock(), zone),
            tz=zone.key,
            length=request.duration or settings.default_length,
            provider=settings.provider,
            status=SeriesStatus.ACTIVE,
            feedback=request.feedback and settings.feedback,
            created_at=core.clock(),
        )
        missing = core.providers.missing(series.provider)
        if missing:
            return Reply(str(ProviderNotConfigured(series.provider, missing)), ok=False)
        until = until_date(series.rule)
        if until is not None and has_ended(series, core.clock()):
            today = core.clock().astimezone(zone).date()
            return Reply(
                f"“{series.title}” ({rules.describe(series.rule)}) would hold no meeting: "
                f"it ends on {rules.describe_day(until, today)}, before the first one. "
                "Give an end that is still ahead.",
                ok=False,
            )
        await series_rows.insert_series(core.store, series)
        await self.plan(series)
        lead = await self._lead(series)
        return Reply(
            f"“{series.title}” {describe_rule(series, core.clock())}; "
            f"{duration(series.length)} each (id {series.id}). {self.next_text(series, zone)} "
            "convene posts a fresh link "
            f"{duration(lead)} before each; stop it with /meet cancel {series.id}."
        )

    async def list_items(self, caller: Caller, zone: ZoneInfo) -> list[ListItem]:
        found = await series_rows.channel_series(
            self.core.store, caller.platform, caller.workspace_id, caller.channel_id
        )
        now = self.core.clock()
        items = []
        for series in found:
            ended = series.status is SeriesStatus.ACTIVE and has_ended(series, now)
            items.append(
                ListItem(
                    id=series.id,
                    title=series.title,
                    start=now,
                    end=now,
                    status="ended" if ended else series.status.value,
                    join_url=None,
                    local_when=describe_rule(series, now),
                    is_series=True,
                    next_occurrences=tuple(self.upcoming(series, zone)),
                )
            )
        return items

    def upcoming(self, series: Series, zone: ZoneInfo, count: int = 3) -> list[str]:
        local = [start.astimezone(zone) for start in next_starts(series, self.core.clock(), count)]
        return [f"{s:%a} {s.day} {s:%b %H:%M}" for s in local]

    def next_text(self, series: Series, zone: ZoneInfo) -> str:
        """The coming dates in the reader's zone, or that the series has ended."""
        coming = self.upcoming(series, zone)
        if not coming:
            return "It has ended: no meetings are left."
        return f"Next: {'; '.join(coming)}."

    async def find(self, caller: Caller, series_id: str) -> Series | None:
        series = await series_rows.get_series(self.core.store, series_id.strip().lower())
        if series is None or (series.platform, series.workspace_id) != (
            caller.platform,
            caller.workspace_id,
        ):
            return None
        return series

    async def skip(self, caller: Caller, series_id: str, day: date | None) -> Reply:
        series, refusal = await self._owned(caller, series_id, "skip a meeting of")
        if series is None:
            return refusal
        now = self.core.clock()
        target = day or next((d for d, _ in series_occurrences(series, now)), None)
        if target is None or not _falls_on(series, target, now):
            return Reply(
                f"“{series.title}” ({describe_rule(series, now)}) has no meeting on "
                f"{_day_text(target) if target else 'the coming days'} to skip.",
                ok=False,
            )
        await series_rows.add_skip(self.core.store, series.id, target)
        updated = await series_rows.get_series(self.core.store, series.id) or series
        await self.plan(updated)
        zone = await self.core.zone_for(caller)
        counted = " (it still counts as one of the times)" if left(series, now) is not None else ""
        return Reply(
            f"Skipping “{series.title}” on {_day_text(target)}{counted}; "
            f"{describe_rule(updated, now)}. {self.next_text(updated, zone)}"
        )

    async def change(self, caller: Caller, request: ChangeSeries) -> Reply:
        """A new rule (and length) from the next occurrence on; the ones already opened
        stay as they are."""
        series, refusal = await self._owned(caller, request.series_id, "change")
        if series is None:
            return refusal
        now, zone = self.core.clock(), ZoneInfo(series.tz)
        changed = replace(
            series,
            rule=anchored(request.rule, now, zone),
            length=request.duration or series.length,
        )
        if has_ended(changed, now):
            return Reply(
                f"“{series.title}” would hold no more meetings with that rule; "
                "give an end that is still ahead.",
                ok=False,
            )
        await series_rows.change_rule(self.core.store, series.id, changed.rule, changed.length)
        await self.plan(changed)
        return Reply(
            f"“{series.title}” is now {describe_rule(changed, now)}; "
            f"{duration(changed.length)} each. "
            f"{self.next_text(changed, await self.core.zone_for(caller))}"
        )

    async def pause(self, caller: Caller, series_id: str) -> Reply:
        series, refusal = await self._owned(caller, series_id, "pause")
        if series is None:
            return refusal
        await series_rows.set_series_status(self.core.store, series.id, SeriesStatus.PAUSED)
        self.forget(series.id)
        return Reply(f"Paused “{series.title}”; /meet resume {series.id} starts it again.")

    async def resume(self, caller: Caller, series_id: str) -> Reply:
        series, refusal = await self._owned(caller, series_id, "resume")
        if series is None:
            return refusal
        await series_rows.set_series_status(self.core.store, series.id, SeriesStatus.ACTIVE)
        resumed = await series_rows.get_series(self.core.store, series.id) or series
        await self.plan(resumed)
        zone = await self.core.zone_for(caller)
        now = self.core.clock()
        return Reply(
            f"Resumed “{series.title}”, {describe_rule(resumed, now)}. "
            f"{self.next_text(resumed, zone)}"
        )

    async def cancel(self, caller: Caller, series_id: str) -> Reply:
        series, refusal = await self._owned(caller, series_id, "cancel")
        if series is None:
            return refusal
        await series_rows.set_series_status(self.core.store, series.id, SeriesStatus.CANCELLED)
        self.forget(series.id)
        for meeting in await meeting_rows.series_meetings(self.core.store, series.id):
            if meeting.status is MeetingStatus.SCHEDULED:
                await self.lifecycle.close(meeting, MeetingStatus.CANCELLED)
        return Reply(f"Cancelled the series “{series.title}”; no more links will be posted.")

    async def _owned(
        self, caller: Caller, series_id: str, verb: str
    ) -> tuple[Series | None, Reply]:
        series = await self.find(caller, series_id)
        if series is None or series.status is SeriesStatus.CANCELLED:
            return None, Reply(
                f"I can't find a series “{series_id}” here; /meet list shows the ids.", ok=False
            )
        if caller.user_id != series.owner_id and not caller.is_admin:
            return None, Reply(
                f"Only the owner of series {series.id} or a workspace admin can {verb} it.",
                ok=False,
            )
        return series, Reply("")

    # -- timing -------------------------------------------------------------------------

    def start(self) -> None:
        """Nothing to read: the lifecycle's horizon plan (`plan_window`) gives the series
        opening in the next minutes their timers from the stored `next_open_at`, and
        the sweep works out the series whose opening time is not stored yet."""

    async def plan_window(self, until: datetime) -> None:
        """Timers for the series whose stored next opening comes by `until` (or has
        passed: those fire at once), ids and times only, a page at a time."""
        after = ("", "")
        while rows := await series_rows.opening_series(self.core.store, until, after, PAGE):
            for opens, series_id in rows:
                self.lifecycle.timers.at(_job_id(series_id), from_text(opens), self.fire, series_id)
            after = rows[-1]
            await asyncio.sleep(0)  # let acks and timers in between pages

    async def plan(self, series: Series) -> None:
        """Store when the sweep must next look at the series (`_next_open`), and give it a
        timer for its next opening if that comes within the lifecycle's horizon (later
        ones get theirs from `plan_window`)."""
        if series.status is not SeriesStatus.ACTIVE:
            return
        lead = await self._lead(series)
        opens, upcoming = await self._next_open(series, lead)
        if upcoming is not None and upcoming <= self.core.clock() + HORIZON:
            self.lifecycle.timers.at(_job_id(series.id), upcoming, self.fire, series.id)
        await series_rows.set_next_open(self.core.store, [(series.id, opens)])

    def forget(self, series_id: str) -> None:
        self.lifecycle.timers.cancel(_job_id(series_id))

    async def fire(self, series_id: str) -> None:
        series = await series_rows.get_series(self.core.store, series_id)
        if series is not None and series.status is SeriesStatus.ACTIVE:
            await self._open_due(series, await self._lead(series))
            await self.plan(series)

    async def sweep(self) -> None:
        """Open what is due, reading only the series whose stored next opening has come
        (or was never worked out), a page at a time, yielding the loop between pages;
        each is then given its next opening time."""
        leads: dict[tuple[str, str], timedelta] = {}  # settings read once per workspace
        store = self.core.store

        async def handle(ids: list[str]) -> None:
            opens: list[tuple[str, datetime | None]] = []
            for series_id in ids:
                series = await series_rows.get_series(store, series_id)
                if series is None or series.status is not SeriesStatus.ACTIVE:
                    continue
                key = (series.platform, series.workspace_id)
                if key not in leads:
                    leads[key] = await self._lead(series)
                await self._open_due(series, leads[key])
                await asyncio.sleep(0)  # opening a room may not have yielded at all
                opens.append((series.id, (await self._next_open(series, leads[key]))[0]))
            await series_rows.set_next_open(store, opens)
            await asyncio.sleep(0)  # let acks and timers in between pages

        unplanned: str | None = None
        while page := await series_rows.unplanned_series(store, unplanned, PAGE):
            await handle(page)
            unplanned = page[-1]
        now = self.core.clock()
        after = ("", "")
        while rows := await series_rows.opening_series(store, now, after, PAGE):
            await handle([series_id for _, series_id in rows])
            after = rows[-1]

    async def _next_open(
        self, series: Series, lead: timedelta
    ) -> tuple[datetime | None, datetime | None]:
        """(when the sweep must next look at this series, when its next occurrence opens).

        The first is the opening time of an occurrence that is due but not yet opened
        (a retry pending, another process's claim), so the series stays due, else the
        second; None when no occurrence is left."""
        now = self.core.clock()
        pending: datetime | None = None
        for day, start in series_occurrences(series, now - series.length - lead):
            if start - lead > now:
                return pending or start - lead, start - lead
            if pending is None and now < start + series.length:  # not over: still to open?
                subject = f"{series.id}@{day.isoformat()}"
                if await deliveries.outcome(self.core.store, subject, Kind.OCCURRENCE) is None:
                    pending = start - lead
        return pending, None

    async def _open_due(self, series: Series, lead: timedelta) -> None:
        """Open every occurrence whose opening time has come and whose meeting is not over."""
        now = self.core.clock()
        for day, start in series_occurrences(series, now - series.length - lead):
            if start - lead > now:
                break
            if now >= start + series.length:
                log.info("series %s: the %s meeting was missed while down; skipped", series.id, day)
                continue
            await self._open(series, day, start)

    async def _open(self, series: Series, day: date, start: datetime) -> None:
        subject = f"{series.id}@{day.isoformat()}"
        retry = self._retry_at.get(subject)
        if retry and self.core.clock() < retry[0]:
            return

        async def act() -> str:
            return await self._open_claimed(series, subject, start)

        await self.core.claims.once(subject, Kind.OCCURRENCE, act)

    async def _open_claimed(self, series: Series, subject: str, start: datetime) -> str:
        """Open the claimed occurrence; a passing provider failure before the start
        releases the claim with backoff (always one more try at the start time)."""
        core, now = self.core, self.core.clock()
        plan = MeetingPlan(
            platform=series.platform,
            place=Place(series.workspace_id, series.channel_id),
            organizer_id=series.owner_id,
            organizer_name="",
            title=series.title,
            start=start,
            end=start + series.length,
            remind=timedelta(0),
            instant=False,
            feedback=series.feedback,
            provider=series.provider,
            series_id=series.id,
        )
        try:
            opened = await open_meeting(core, self.lifecycle, plan)
        except ProviderError as exc:
            if isinstance(exc, Unavailable | RateLimited) and now < start:
                retry = self._retry_at.get(subject)
                attempts = retry[1] + 1 if retry else 1
                backoff = FIRST_RETRY * 2 ** (attempts - 1)
                self._retry_at[subject] = (min(now + backoff, start), attempts)  # last try at start
                raise Retry(str(exc)) from exc
            await self._report_failure(series, start, str(exc))
            return "failed"
        self._retry_at.pop(subject, None)
        try:
            await copy_series_answers(core, opened.meeting)
        except StorageBusy:  # the room and card exist; answers can be given again
            log.warning("series %s: standing answers not copied to %s", series.id, subject)
        messenger = core.messengers.get(series.platform)
        if messenger is not None:
            await messenger.send_private(opened.meeting.place, series.owner_id, opened.host)
        return "opened"

    async def _report_failure(self, series: Series, start: datetime, reason: str) -> None:
        messenger = self.core.messengers.get(series.platform)
        if messenger is None:
            return
        text = f"could not get a room for this occurrence: {reason}"
        notice = Notice(NoticeKind.FAILURE, series.id, series.title, text, start=start)
        await messenger.post_notice(Place(series.workspace_id, series.channel_id), notice, None)

    async def _lead(self, series: Series) -> timedelta:
        reminder = (await self.core.settings_for(series.platform, series.workspace_id)).reminder
        return max(reminder, MIN_LEAD)


def _job_id(series_id: str) -> str:
    return f"series:{series_id}"


def _falls_on(series: Series, day: date, now: datetime) -> bool:
    """Whether the series has a meeting still to come on local `day`."""
    since = max(now, datetime.combine(day, time(), ZoneInfo(series.tz)) - timedelta(days=1))
    found = next((d for d, _ in series_occurrences(series, since) if d >= day), None)
    return found == day


def _day_text(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def describe_rule(series: Series, now: datetime) -> str:
    """The rule in the reader's words, with its zone and how it ends:
    'every other Tuesday at 10:00 Europe/Berlin, 10 times, 3 left'."""
    rule = series.rule
    text = f"{rules.describe(rule)} {series.tz}"
    today = now.astimezone(ZoneInfo(series.tz)).date()
    until = until_date(rule)
    if until is not None:
        text += f", until {rules.describe_day(until, today)}"
    remaining = left(series, now)
    if remaining is not None:
        total = rule.parts["COUNT"]
        text += f", {total} times, {remaining or 'none'} left"
    if has_ended(series, now):
        text += " (ended)"
    return text
