"""Option values read into requests, shared by the typed `/meet` options and the form.

`/meet now`, `/meet schedule` and the scheduling form all end in `meeting_request`,
so a time, a length or an invitee is read the same way whichever way it was given.

Invitees. A `with` option is free text in which people type mentions: Discord sends
`<@id>` for a person and `<@&id>` for a role. A person is kept as their snowflake id;
a role is expanded to the ids of its members, and the role itself is never an invitee,
so a reminder pings people, never a role. Role members come from the client's member
cache (`guild.get_role(id).members`): without the privileged members intent only the
members convene has already been sent are known, so a role may expand to nobody, and
then the caller is told so and nothing is booked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from adapters.discord.context import Interaction, service_of
from bot import grammar
from bot.requests import CreateMeeting, GrammarError

T = TypeVar("T")
_MENTION = re.compile(r"<@(?P<kind>[!&]?)(?P<id>[0-9]{1,20})>")
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_GLUE = {"and", ","}
NOT_A_MENTION = (
    "The with option takes people or roles you mention (type @ and pick one, "
    "like with: @ana @raj), and {words} is not one of them."
)
EMPTY_ROLE = (
    "convene knows no members of a role you mentioned (it sees only members it has met), "
    "so nothing was booked; mention the people instead, like with: @ana @raj."
)
BROADCAST_ROLE = (
    "convene does not invite a whole server; mention the people or a smaller role instead, "
    "like with: @ana @raj."
)
NO_WHEN = "Say when the meeting starts, like tomorrow 9am or mon 10:30."


@dataclass(frozen=True)
class Picked:
    """The people and roles someone named, as snowflakes, before roles are expanded."""

    users: tuple[int, ...] = ()
    roles: tuple[int, ...] = ()


@dataclass(frozen=True)
class MeetingOptions:
    """What `/meet now`, `/meet schedule` or the form was given; `when` None means now."""

    title: str = ""
    when: str | None = None
    duration: str | None = None
    remind: str | None = None
    picked: Picked = Picked()
    feedback: bool = True


@dataclass(frozen=True)
class Slot:
    start: datetime
    duration: timedelta | None
    note: str


def read_with(text: str | None) -> Picked:
    """The mentions in a `with` option; anything else (a plain name, @everyone) is refused
    with one sentence, because a name cannot be pinged and must not be guessed at."""
    users: list[int] = []
    roles: list[int] = []
    for match in _MENTION.finditer(text or ""):
        (roles if match["kind"] == "&" else users).append(int(match["id"]))
    rest = _MENTION.sub(" ", text or "").replace(",", " ").split()
    if stray := [w for w in rest if w.lower() not in _GLUE]:
        raise GrammarError(NOT_A_MENTION.format(words=quoted(" ".join(stray))))
    return Picked(tuple(users), tuple(roles))


def invitees(interaction: Interaction, picked: Picked) -> tuple[str, ...]:
    """Each person once, in order: the people named, then each role's known members
    (bots left out). A role that is the whole server, or has no known member, is refused."""
    guild = interaction.guild
    people: list[int] = list(picked.users)
    for role_id in picked.roles:
        role = guild.get_role(role_id) if guild is not None else None
        if role is not None and role.is_default():
            raise GrammarError(BROADCAST_ROLE)
        members = [m.id for m in role.members if not m.bot] if role is not None else []
        if not members:
            raise GrammarError(EMPTY_ROLE)
        people.extend(members)
    return tuple(str(person) for person in dict.fromkeys(people))


def meeting_request(
    interaction: Interaction, zone: ZoneInfo, given: MeetingOptions
) -> CreateMeeting:
    """The booking the options ask for; a GrammarError names what could not be read."""
    people = invitees(interaction, given.picked)
    remind = opt(grammar.parse_remind, given.remind)
    if given.when is None:
        duration = opt(grammar.parse_duration, given.duration)
        return CreateMeeting(
            title=given.title,
            duration=duration,
            remind=remind,
            invitees=people,
            feedback=given.feedback,
        )
    if not given.when.strip():
        raise GrammarError(NO_WHEN)
    slot = slot_of(interaction, zone, given.when, given.duration)
    return CreateMeeting(
        title=given.title,
        start=slot.start,
        duration=slot.duration,
        remind=remind,
        invitees=people,
        feedback=given.feedback,
        note=slot.note,
    )


def slot_of(interaction: Interaction, zone: ZoneInfo, when: str, duration: str | None) -> Slot:
    """A `when` option read in the caller's zone from the service's clock, ranges and
    DST notes included, and its length: a range's own, else the `duration` option."""
    service = service_of(interaction)
    reading = grammar.parse_slot(when, now=service.now(), tz=zone)
    start = reading.start or service.now()  # parse_slot always gives a start
    if reading.end is None:
        return Slot(start, opt(grammar.parse_duration, duration), reading.note)
    if duration:
        raise GrammarError(
            f"You gave a range, {quoted(when)}, and a duration, {quoted(duration)}; "
            "I need just one."
        )
    return Slot(start, reading.end - start, reading.note)


def snowflakes(values: Iterable[object]) -> tuple[int, ...]:
    """The values that are snowflakes, as ints; anything else from outside is dropped."""
    return tuple(int(v) for v in values if isinstance(v, str) and _SNOWFLAKE.fullmatch(v))


def quoted(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def opt(parse: Callable[[str], T], text: str | None) -> T | None:
    return parse(text) if text else None
