"""After a meeting: ask how it went, record answers, summarise for the organizer.

The prompt goes out once when a meeting ends (expiry, /meet end, or a provider
webhook), both threaded under the card and privately to the organizer, the
invitees and whoever the provider saw join. Answers can change while the window
is open (the workspace's feedback window, fixed in `feedback_windows` when the
prompt goes out); when it closes the organizer gets the summary privately, once.
Every time shown is in the reader's own zone.

Upclass meetings also get `feedback_required` at the provider; convene's own
prompt still runs for them, because Upclass keeps its answers in its own
dashboard and never reports them back to the chat.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.attendance import prompt_recipients
from bot.claims import Retry
from bot.core import Core
from bot.lifecycle import Lifecycle
from bot.messages import Notice, NoticeKind, Private, Reply, meeting_not_found
from bot.models import Caller, Meeting
from bot.people import attendance_text, attendance_trend, tally_of
from bot.ports import DeliveryError
from bot.requests import RateMeeting
from bot.timefmt import duration
from storage import feedback as feedback_rows
from storage import people as people_rows
from storage.deliveries import Kind

log = logging.getLogger(__name__)


class FeedbackManager:
    def __init__(self, core: Core, lifecycle: Lifecycle) -> None:
        self.core = core
        lifecycle.ended_hooks.append(self.prompt)
        lifecycle.sweeps.append(self.sweep)

    async def prompt(self, meeting: Meeting) -> None:
        settings = await self.core.settings_for(meeting.platform, meeting.workspace_id)
        if meeting.feedback and settings.feedback:

            async def act() -> str:
                return await self._prompt(meeting)

            await self.core.claims.once(meeting.id, Kind.FEEDBACK_PROMPT, act)

    async def _prompt(self, meeting: Meeting) -> str:
        """Open the window, then ask the channel and each person privately."""
        core = self.core
        window = (await core.settings_for(meeting.platform, meeting.workspace_id)).feedback_window
        opened = core.clock()
        await feedback_rows.open_window(core.store, meeting.id, opened, opened + window)
        messenger = core.messengers.get(meeting.platform)
        if messenger is None:
            return "no-platform"
        notice = Notice(
            NoticeKind.FEEDBACK,
            meeting.id,
            meeting.title,
            f"has ended. How was it? Rate it from 1 to 5 (open for {duration(window)})",
        )
        sessions = await people_rows.sessions(core.store, meeting.id)
        people = prompt_recipients(
            meeting.organizer_id,
            (await tally_of(core, meeting.id)).going,
            meeting.invitees,
            [s["person_key"] for s in sessions if s["person_key"]],  # matched, never a name
            is_user=messenger.is_user_id,
        )
        note = Private(
            f"How was “{meeting.title}”? One tap to rate it; a comment is welcome too.",
            feedback_meeting_id=meeting.id,
        )
        sends = [messenger.post_notice(meeting.place, notice, meeting.message_ref)]
        sends += [messenger.send_private(meeting.place, user, note) for user in people]
        for send in sends:  # one person who blocks messages must not cost the others theirs
            try:
                await send
            except DeliveryError as exc:
                log.warning("a feedback prompt for %s was not delivered: %s", meeting.id, exc)
        return "sent"

    async def rate(self, caller: Caller, request: RateMeeting) -> Reply:
        core = self.core
        meeting = await core.find_meeting(caller, request.meeting_id)
        if meeting is None:
            return meeting_not_found(request.meeting_id)
        name = _name_for(caller, meeting)
        window = await feedback_rows.window(core.store, meeting.id)
        if window is None:
            return Reply(
                f"Feedback for {name} opens when it has ended and feedback is on.", ok=False
            )
        closes = _local(window.closes_at, await core.zone_for(caller))
        if core.clock() > window.closes_at:
            return Reply(
                f"Feedback for {name} closed on {closes}; thank you all the same.", ok=False
            )
        await feedback_rows.save_answer(
            core.store,
            meeting.id,
            caller.user_id,
            request.score,
            " ".join(request.comment.split())[:1000],  # one line: it cannot fake the summary
            core.clock(),
        )
        what = f"rated {name} {request.score}/5" if request.score else "commented"
        return Reply(f"Thank you: you {what}. You can change it until {closes}.")

    async def summary(self, caller: Caller, meeting_id: str) -> Reply:
        meeting = await self.core.find_meeting(caller, meeting_id)
        if meeting is None:
            return meeting_not_found(meeting_id)
        if caller.user_id != meeting.organizer_id and not caller.is_admin:
            return Reply(
                f"Only the organizer of meeting {meeting.id} or an admin can see its feedback.",
                ok=False,
            )
        return Reply(await self.summary_text(meeting, await self.core.zone_for(caller)))

    async def summary_text(self, meeting: Meeting, zone: ZoneInfo) -> str:
        answers = await feedback_rows.answers(self.core.store, meeting.id)
        scores = _scores(answers)
        lines = [f"Feedback for “{meeting.title}”: {_responses(len(answers))}"]
        if scores:
            lines[0] += f", average {_average(scores)} out of 5."
            counts = Counter(scores)
            lines += [
                f"{score} ★ {'█' * counts[score]} {counts[score]}" for score in range(5, 0, -1)
            ]
        else:
            lines[0] += "."
        lines += [f"“{answer.comment}”" for answer in answers if answer.comment]
        if came := await attendance_text(self.core, meeting):
            lines.append(f"Attendance: {came}")
        if meeting.series_id:
            lines.append(
                "Recent meetings of this series: " + await self._trend(meeting.series_id, zone)
            )
            if trend := await attendance_trend(self.core, meeting.series_id):
                lines.append(f"Series {trend}.")
        return "\n".join(lines)

    async def _trend(self, series_id: str, zone: ZoneInfo) -> str:
        parts = []
        for occurrence_id, end in await feedback_rows.recent_occurrences(
            self.core.store, series_id
        ):
            scores = _scores(await feedback_rows.answers(self.core.store, occurrence_id))
            day = end.astimezone(zone)
            parts.append(f"{day:%a} {day.day} {day:%b} {_average(scores) if scores else '–'}")
        return "; ".join(parts) or "none yet."

    async def sweep(self) -> None:
        """Send each organizer the summary once their window has closed."""
        core = self.core
        closed = await feedback_rows.closed_windows(core.store, core.clock(), Kind.FEEDBACK_SUMMARY)
        for meeting_id in closed:
            meeting = await core.get_meeting(meeting_id)
            if meeting is None:
                continue

            async def act(meeting: Meeting = meeting) -> str:
                return await self._send_summary(meeting)

            await core.claims.once(meeting.id, Kind.FEEDBACK_SUMMARY, act)

    async def _send_summary(self, meeting: Meeting) -> str:
        messenger = self.core.messengers.get(meeting.platform)
        if messenger is None:
            return "no-platform"
        zone = await self.core.zone_of(meeting.platform, meeting.workspace_id, meeting.organizer_id)
        note = Private(await self.summary_text(meeting, zone))
        try:
            await messenger.send_private(meeting.place, meeting.organizer_id, note)
        except DeliveryError as exc:
            if not exc.permanent:
                raise Retry(str(exc)) from exc
            return "undeliverable"
        return "sent"


def _name_for(caller: Caller, meeting: Meeting) -> str:
    """A meeting's title for people who can see its card; its id for anyone else."""
    if caller.channel_id == meeting.channel_id:
        return f"“{meeting.title}”"
    return f"meeting {meeting.id}"


def _local(moment: datetime, zone: ZoneInfo) -> str:
    """'Tue 2 Dec 10:30 Europe/Berlin': a time as the reader reads it."""
    local = moment.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M} {zone.key}"


def _scores(answers: list[feedback_rows.Answer]) -> list[int]:
    return [answer.score for answer in answers if answer.score]


def _average(scores: list[int]) -> str:
    return f"{sum(scores) / len(scores):.1f}"


def _responses(count: int) -> str:
    return f"{count} response{'s' if count != 1 else ''}"
