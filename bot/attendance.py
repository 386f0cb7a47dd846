"""Who came, and for how long: the arithmetic behind the organizer's summary.

A provider reports joins and leaves per participant; one person may join three times
(a dropped connection), or twice at once (laptop and phone). Time is counted as the
union of a person's sessions, so repeats add up and overlaps count once; a session
still open when the meeting ends is closed at its end. Attendees the service could
match to a platform user carry that user's id (`person_key`); everyone else is a
guest, known by name only: shown or counted, never used as an id.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

NAMES_SHOWN = 8  # attendees named in a summary before "+k more"


@dataclass(frozen=True)
class Session:
    """One stretch in the room. `left` is None while the person is still there."""

    person_key: str | None  # the platform user id when matched, else None (a guest)
    name: str
    joined: datetime
    left: datetime | None


@dataclass(frozen=True)
class Presence:
    """One person's total time in the meeting."""

    person_key: str | None
    name: str
    total: timedelta

    @property
    def guest(self) -> bool:
        return self.person_key is None

    @property
    def minutes(self) -> int:
        """Whole minutes, at least 1 for anyone who was there at all."""
        if self.total <= timedelta(0):
            return 0
        return max(1, round(self.total.total_seconds() / 60))


def durations(sessions: Iterable[Session], *, meeting_end: datetime) -> list[Presence]:
    """Each person's time: the union of their sessions (open ones end at `meeting_end`),
    longest first. Guests are told apart by name."""
    spans: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}
    names: dict[tuple[str, str], str] = {}
    for session in sessions:
        key = _key(session)
        end = session.left if session.left is not None else meeting_end
        spans.setdefault(key, []).append((session.joined, max(end, session.joined)))
        names[key] = session.name.strip() or names.get(key, "")
    presences = [
        Presence(key[1] if key[0] == "user" else None, names[key] or "someone", _union(spans[key]))
        for key in spans
    ]
    return sorted(presences, key=lambda p: (-p.total, p.name.casefold()))


def _key(session: Session) -> tuple[str, str]:
    if session.person_key:
        return ("user", session.person_key)
    return ("guest", " ".join(session.name.split()).casefold())


def _union(spans: list[tuple[datetime, datetime]]) -> timedelta:
    """The length of the union of [start, end) spans: overlaps count once."""
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return total


def summary_line(
    presences: Sequence[Presence],
    going: Sequence[str],
    names: Mapping[str, str],
    invited: Sequence[str] = (),
) -> str:
    """The attendance sentence: "6 of 8 who said Going came; median 41 min; Ana 45 min,
    Raj 12 min, 2 guests. Said Going but didn't join: Lee." `going` and `invited` are
    user ids, `names` their display names; the sentence is plain prose for the organizer
    (adapters escape it)."""
    came = {p.person_key for p in presences if p.person_key is not None}
    guest_names = {" ".join(p.name.split()).casefold() for p in presences if p.guest}

    def joined(person: str) -> bool:
        if person in came:
            return True  # a typed @name invitee may have joined as a guest of that name
        return person not in names and person.lstrip("@").casefold() in guest_names

    def name(person: str) -> str:
        return names.get(person) or person

    going = list(dict.fromkeys(going))
    invited = [p for p in dict.fromkeys(invited) if p not in going]
    parts: list[str] = []
    if going:
        parts.append(f"{sum(map(joined, going))} of {len(going)} who said Going came")
    elif invited:
        parts.append(f"{sum(map(joined, invited))} of {len(invited)} invited came")
    else:
        parts.append(_people(len(presences)) + " came")
    if presences:
        median = statistics.median(p.total.total_seconds() for p in presences)
        parts.append(f"median {round(median / 60)} min")
        parts.append(_attendees(presences, names))
    text = "; ".join(parts) + "."
    if missing := [name(p) for p in going if not joined(p)]:
        text += " Said Going but didn't join: " + _listed(missing) + "."
    if missing := [name(p) for p in invited if not joined(p)]:
        text += " Invited but didn't join: " + _listed(missing) + "."
    return text


def _attendees(presences: Sequence[Presence], names: Mapping[str, str]) -> str:
    members = [p for p in presences if not p.guest]
    guests = len(presences) - len(members)
    shown = [
        f"{names.get(p.person_key or '') or p.name} {p.minutes} min" for p in members[:NAMES_SHOWN]
    ]
    if len(members) > NAMES_SHOWN:
        shown.append(f"+{len(members) - NAMES_SHOWN} more")
    if guests:
        shown.append(f"{guests} guest{'s' if guests != 1 else ''}")
    return ", ".join(shown)


def _people(count: int) -> str:
    return {0: "nobody", 1: "1 person"}.get(count, f"{count} people")


def _listed(people: list[str]) -> str:
    shown = people[:NAMES_SHOWN]
    more = len(people) - len(shown)
    return ", ".join(shown) + (f" +{more} more" if more else "")


def trend_line(per_occurrence_counts: Sequence[int]) -> str:
    """A series' attendance, oldest first: "attendance over the last 4: 5, 6, 4, 7"."""
    counts = list(per_occurrence_counts)
    if not counts:
        return "no attendance recorded yet"
    if len(counts) == 1:
        return f"attendance last time: {counts[0]}"
    return f"attendance over the last {len(counts)}: " + ", ".join(map(str, counts))


def prompt_recipients(
    organizer: str,
    going: Iterable[str],
    invitees: Iterable[str],
    matched_attendees: Iterable[str],
    *,
    is_user: Callable[[str], bool],
) -> list[str]:
    """Who is asked for feedback: the organizer (as before), the people who said Going,
    the invitees and the attendees matched to a platform user; each once, and only real
    user ids (`is_user`, the platform's own check), never a display name."""
    everyone = [organizer, *going, *invitees, *matched_attendees]
    return [person for person in dict.fromkeys(everyone) if person and is_user(person)]
