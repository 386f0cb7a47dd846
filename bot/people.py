"""The people around a meeting: their answers, private reminders, own links, attendance.

An answer changes the card, so every answer touches the core's coalesced card edits
(`Core.card_edits`): a burst of presses becomes a handful of redraws. Who may be
addressed is the platform's own judgement (`Messenger.is_user_id`): a name a provider
reports is shown, never mentioned or messaged. A provider event names the person a
personal link was made for by `participant_key` ("<platform>:<user id>"); that key,
not the display name, is what matches an attendee to a platform user.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.attendance import Session, durations, summary_line, trend_line
from bot.core import Core
from bot.messages import Private, Reply, meeting_not_found
from bot.models import Caller, Meeting
from bot.ports import Messenger, Person
from bot.providers.errors import ProviderError
from bot.providers.webhooks import ProviderEvent
from bot.requests import Rsvp
from bot.rsvp import Answer, Tally, press
from storage import feedback as feedback_rows
from storage import people as people_rows

if TYPE_CHECKING:
    from bot.lifecycle import Lifecycle

log = logging.getLogger(__name__)

_SAID = {
    Answer.GOING: "You're going to {title}.",
    Answer.MAYBE: "You said maybe to {title}.",
    Answer.NO: "You said you can't make {title}.",
}


async def tally_of(core: Core, meeting_id: str) -> Tally:
    """Everyone's answer to one meeting, in the order they gave them."""
    rows = await people_rows.rsvps(core.store, meeting_id)
    return Tally.of((user, Answer(answer)) for user, answer in rows)


async def notice_mentions(core: Core, meeting: Meeting, messenger: Messenger) -> tuple[str, ...]:
    """Who a reminder or start notice mentions: the people who said Going, then the
    invitees, each once; only real user ids, and nobody when the workspace said no."""
    settings = await core.settings_for(meeting.platform, meeting.workspace_id)
    if not settings.mentions:
        return ()
    going = (await tally_of(core, meeting.id)).going
    return addressable([*going, *meeting.invitees], messenger)


async def merge_interested(core: Core, meeting: Meeting) -> None:
    """People who pressed the platform's own "Interested" (a Discord event) count as
    Going unless they answered otherwise on the card; read when a reminder or start
    notice is about to name who is coming, not on every card drawing."""
    surface = core.surfaces.get(meeting.platform)
    if surface is None:
        return
    interested = await surface.interested(meeting)
    answered = dict(await people_rows.rsvps(core.store, meeting.id))
    new = [user for user in dict.fromkeys(interested) if user not in answered]
    for user in new:
        await people_rows.set_rsvp(core.store, meeting.id, user, Answer.GOING.value, core.clock())
    if new:
        core.card_edits.touch(meeting.id)


def addressable(people: Iterable[str], messenger: Messenger) -> tuple[str, ...]:
    """Each person once, in order, keeping only ids the platform can address."""
    return tuple(p for p in dict.fromkeys(people) if p and messenger.is_user_id(p))


def user_of(
    participant_key: str | None, meeting: Meeting, messenger: Messenger | None
) -> str | None:
    """The platform user a provider event names, when the key is one of this meeting's
    platform and a real user id there; None for a guest known by name only."""
    if not participant_key or messenger is None:
        return None
    platform, _, user_id = participant_key.partition(":")
    if platform != meeting.platform or not messenger.is_user_id(user_id):
        return None
    return user_id


async def copy_series_answers(core: Core, meeting: Meeting) -> None:
    """A new occurrence starts with its series' standing Going answers ("Going to all");
    its card, posted a moment before, is redrawn to show them."""
    if meeting.series_id is None:
        return
    standing = await people_rows.series_rsvps(core.store, meeting.series_id)
    going = [user for user, answer in standing if answer == Answer.GOING.value]
    for user in going:
        await people_rows.set_rsvp(core.store, meeting.id, user, Answer.GOING.value, core.clock())
    if going:
        core.card_edits.touch(meeting.id)


async def attendance_text(core: Core, meeting: Meeting) -> str | None:
    """Who came and for how long, beside who said Going or was invited; None when the
    provider reported nobody at all (Jitsi reports nothing: silence is not absence)."""
    rows = await people_rows.sessions(core.store, meeting.id)
    if not rows:
        return None
    presences = durations((Session(**row) for row in rows), meeting_end=meeting.end)
    names = {p.person_key: p.name for p in presences if p.person_key is not None}
    going = (await tally_of(core, meeting.id)).going
    return summary_line(presences, going, names, meeting.invitees)


async def attendance_trend(core: Core, series_id: str) -> str | None:
    """How many came to each of a series' recent meetings, oldest first; None when no
    provider ever reported anyone."""
    counts: list[int] = []
    reported = False
    for occurrence_id, end in await feedback_rows.recent_occurrences(core.store, series_id):
        rows = await people_rows.sessions(core.store, occurrence_id)
        reported = reported or bool(rows)
        counts.append(len(durations((Session(**row) for row in rows), meeting_end=end)))
    return trend_line(counts) if reported else None


class People:
    """RSVPs, "Remind me privately", "Get my link" and attendance, for the service."""

    def __init__(self, core: Core, lifecycle: Lifecycle) -> None:
        self.core = core
        self.lifecycle = lifecycle

    async def _answerable(self, caller: Caller, meeting_id: str) -> Meeting | Reply:
        """A meeting of the caller's workspace that is still open, or the refusal."""
        meeting = await self.core.find_meeting(caller, meeting_id)
        if meeting is None:
            return meeting_not_found(meeting_id)
        if not meeting.status.is_open:
            return Reply(
                f"“{meeting.title}” is {meeting.status.value}, so it takes no answers now.",
                ok=False,
            )
        return meeting

    # -- answers ------------------------------------------------------------------------

    async def rsvp(self, caller: Caller, request: Rsvp) -> Reply:
        found = await self._answerable(caller, request.meeting_id)
        if isinstance(found, Reply):
            return found
        meeting, core, now = found, self.core, self.core.clock()
        pressed = Answer.read(request.answer) if request.answer else None
        if request.answer and pressed is None:
            return Reply(
                f"I can't read {request.answer[:20]!r} as an answer; say yes, maybe or no. "
                f"Try: /meet rsvp {meeting.id} yes",
                ok=False,
            )
        if request.every and meeting.series_id:
            return await self._rsvp_series(caller, meeting, meeting.series_id, request.toggle)
        current = (await tally_of(core, meeting.id)).answer_of(caller.user_id)
        answer = press(current, pressed) if request.toggle and pressed else pressed
        await people_rows.set_rsvp(core.store, meeting.id, caller.user_id, answer, now)
        core.card_edits.touch(meeting.id)
        title = f"“{meeting.title}”"
        if answer is None:
            return Reply(f"Your answer to {title} is taken back.")
        return Reply(_SAID[answer].format(title=title) + " Press again to take it back.")

    async def _rsvp_series(
        self, caller: Caller, meeting: Meeting, series_id: str, toggle: bool
    ) -> Reply:
        """Going to all: remembered for the series, and this meeting's answer too."""
        core, now = self.core, self.core.clock()
        standing = dict(await people_rows.series_rsvps(core.store, series_id))
        withdraw = toggle and standing.get(caller.user_id) == Answer.GOING.value
        answer = None if withdraw else Answer.GOING
        await people_rows.set_series_rsvp(core.store, series_id, caller.user_id, answer, now)
        await people_rows.set_rsvp(core.store, meeting.id, caller.user_id, answer, now)
        core.card_edits.touch(meeting.id)
        if withdraw:
            return Reply(f"You're no longer going to every meeting of “{meeting.title}”.")
        return Reply(f"You're going to every meeting of “{meeting.title}”, this one included.")

    # -- private reminders and personal links --------------------------------------------

    async def remind_me(self, caller: Caller, meeting_id: str) -> Reply:
        found = await self._answerable(caller, meeting_id)
        if isinstance(found, Reply):
            return found
        meeting, core = found, self.core
        title = f"“{meeting.title}”"
        messenger = core.messengers.get(meeting.platform)
        if messenger is None or not messenger.is_user_id(caller.user_id):
            return Reply(f"convene cannot message you privately here about {title}.", ok=False)
        if meeting.instant or meeting.remind.total_seconds() <= 0:
            return Reply(f"{title} has no reminder: it was booked to start too soon.", ok=False)
        if core.clock() >= meeting.start - meeting.remind:
            return Reply(f"The reminder for {title} has gone out already.", ok=False)
        if not await people_rows.add_private_reminder(core.store, meeting.id, caller.user_id):
            return Reply(f"You'll already get a private reminder for {title}.")
        minutes = round(meeting.remind.total_seconds() / 60)
        return Reply(f"I'll message you privately {minutes} min before {title} starts.")

    async def personal_link(self, caller: Caller, meeting_id: str) -> Reply:
        found = await self._answerable(caller, meeting_id)
        if isinstance(found, Reply):
            return found
        meeting, core = found, self.core
        title = f"“{meeting.title}”"
        shared = Reply(
            f"{core.provider_label(meeting.provider)} gives everyone the same link to {title}.",
            private=(Private("The join link:", link=meeting.join_url, link_label="Join"),),
        )
        try:
            provider = core.providers.get(meeting.provider)
            if not provider.capabilities.personal_link:
                return shared
            person = Person(
                key=f"{caller.platform}:{caller.user_id}",
                name=caller.user_name or caller.user_id,
            )
            link = await provider.personal_link(meeting.room_id, person, join_url=meeting.join_url)
        except ProviderError as exc:
            return Reply(str(exc), ok=False)
        if link is None:
            return shared
        note = Private(
            f"Your own link to {title}: it shows your name in the room (only you can see this).",
            link=link,
            link_label="Join",
        )
        return Reply(f"Here is your own link to {title}.", private=(note,))

    # -- attendance -----------------------------------------------------------------------

    async def on_attendance(self, event: ProviderEvent, meeting: Meeting) -> None:
        """A join opens a session (unless that person is already in), a leave closes
        their latest one; the provider's time when it sent one, else the clock's."""
        core = self.core
        at = event.at or core.clock()
        user = user_of(event.participant_key, meeting, core.messengers.get(meeting.platform))
        name = " ".join((event.participant or "").split())[:100]
        if user is None and not name:
            return  # nobody to count
        if event.kind == "joined":
            if await self._inside(meeting.id, user, name):
                return
            await people_rows.open_session(core.store, meeting.id, user, name, at)
        elif event.kind == "left":
            await people_rows.close_session(core.store, meeting.id, user, name, at)

    async def _inside(self, meeting_id: str, user: str | None, name: str) -> bool:
        for session in await people_rows.sessions(self.core.store, meeting_id):
            if session["left"] is not None:
                continue
            if user is not None and session["person_key"] == user:
                return True
            if user is None and session["person_key"] is None and session["name"] == name:
                return True
        return False
