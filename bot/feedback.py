"""After a meeting: ask how it went, record answers, summarise for the organizer.

The prompt goes out once when a meeting ends (expiry, /meet end, or a provider
webhook), both threaded under the card and privately to the organizer, the
invitees and whoever the provider saw join. Answers can change while the window
is open (the workspace's feedback window, from the moment of the prompt); when
it closes the organizer gets the summary privately, once.

Upclass meetings also get `feedback_required` at the provider; convene's own
prompt still runs for them, because Upclass keeps its answers in its own
dashboard and never reports them back to the chat.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime

from bot.core import Core
from bot.lifecycle import Lifecycle
from bot.messages import Notice, NoticeKind, Private, Reply
from bot.models import Caller, Meeting
from bot.ports import DeliveryError
from bot.requests import RateMeeting
from storage import deliveries
from storage import feedback as feedback_rows
from storage import meetings as meeting_rows

log = logging.getLogger(__name__)


class FeedbackManager:
    def __init__(self, core: Core, lifecycle: Lifecycle) -> None:
        self.core = core
        lifecycle.ended_hooks.append(self.prompt)
        lifecycle.sweeps.append(self.sweep)

    async def prompt(self, meeting: Meeting) -> None:
        core = self.core
        settings = core.settings_for(meeting.platform, meeting.workspace_id)
        if not (meeting.feedback and settings.feedback):
            return
        if not deliveries.record_once(core.db, meeting.id, "feedback-prompt", core.clock()):
            return  # prompted already (a restart, or two end paths racing)
        messenger = core.messengers.get(meeting.platform)
        if messenger is None:
            return
        closes = self._closes(meeting)
        notice = Notice(
            NoticeKind.FEEDBACK,
            meeting.id,
            meeting.title,
            f"has ended. How was it? Rate it from 1 to 5 (open until {closes:%a %H:%M} UTC)",
        )
        people = dict.fromkeys(
            [meeting.organizer_id, *meeting.invitees, *meeting_rows.attendees(core.db, meeting.id)]
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

    async def rate(self, caller: Caller, request: RateMeeting) -> Reply:
        meeting = self.core.find_meeting(caller, request.meeting_id)
        if meeting is None:
            return Reply(
                f"I can't find a meeting “{request.meeting_id}” here; /meet list shows the ids.",
                ok=False,
            )
        opened = feedback_rows.prompted_at(self.core.db, meeting.id)
        if opened is None:
            return Reply(
                f"Feedback for “{meeting.title}” opens when it has ended and feedback is on.",
                ok=False,
            )
        closes = self._closes(meeting, opened)
        if self.core.clock() > closes:
            return Reply(
                f"Feedback for “{meeting.title}” closed on {closes:%a %d %b %H:%M} UTC; "
                "thank you all the same.",
                ok=False,
            )
        feedback_rows.save_answer(
            self.core.db,
            meeting.id,
            caller.user_id,
            request.score,
            request.comment.strip()[:1000],
            self.core.clock(),
        )
        what = f"rated “{meeting.title}” {request.score}/5" if request.score else "commented"
        return Reply(f"Thank you: you {what}. You can change it until {closes:%a %H:%M} UTC.")

    def summary(self, caller: Caller, meeting_id: str) -> Reply:
        meeting = self.core.find_meeting(caller, meeting_id)
        if meeting is None:
            return Reply(
                f"I can't find a meeting “{meeting_id}” here; /meet list shows the ids.", ok=False
            )
        if caller.user_id != meeting.organizer_id and not caller.is_admin:
            return Reply(
                f"Only the organizer of “{meeting.title}” or an admin can see its feedback.",
                ok=False,
            )
        return Reply(self.summary_text(meeting))

    def summary_text(self, meeting: Meeting) -> str:
        answers = feedback_rows.answers(self.core.db, meeting.id)
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
        if meeting.series_id:
            lines.append("Recent meetings of this series: " + self._trend(meeting.series_id))
        return "\n".join(lines)

    def _trend(self, series_id: str) -> str:
        parts = []
        for occurrence_id, end in feedback_rows.recent_occurrences(self.core.db, series_id):
            scores = _scores(feedback_rows.answers(self.core.db, occurrence_id))
            parts.append(f"{end[:10]} {_average(scores) if scores else '–'}")
        return "; ".join(parts) or "none yet."

    async def sweep(self) -> None:
        """Send each organizer the summary once their window has closed."""
        core = self.core
        now = core.clock()
        for meeting_id, opened in feedback_rows.prompted(core.db):
            meeting = core.get_meeting(meeting_id)
            if meeting is None or now < self._closes(meeting, opened):
                continue
            if not deliveries.claim(core.db, meeting.id, "feedback-summary", now, core.instance):
                continue
            messenger = core.messengers.get(meeting.platform)
            try:
                if messenger is not None:
                    note = Private(self.summary_text(meeting))
                    await messenger.send_private(meeting.place, meeting.organizer_id, note)
            except DeliveryError as exc:
                if not exc.permanent:
                    deliveries.release(core.db, meeting.id, "feedback-summary")
                    continue
            deliveries.mark_done(core.db, meeting.id, "feedback-summary", core.clock())

    def _closes(self, meeting: Meeting, opened: datetime | None = None) -> datetime:
        window = self.core.settings_for(meeting.platform, meeting.workspace_id).feedback_window
        return (opened or self.core.clock()) + window


def _scores(answers: list[feedback_rows.Answer]) -> list[int]:
    return [answer.score for answer in answers if answer.score]


def _average(scores: list[int]) -> str:
    return f"{sum(scores) / len(scores):.1f}"


def _responses(count: int) -> str:
    return f"{count} response{'s' if count != 1 else ''}"
