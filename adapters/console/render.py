"""Plain-text rendering of the neutral view models for a terminal.

Every line is labelled with where it would appear on a real platform:
`[#general]` for the channel, `[private → you]` for what only the caller sees.
No returned line holds a line break or a control character, so a title such as
"x\n[#general] cancelled" cannot print a line that looks like the channel's.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from bot.messages import Card, ListItem, Notice, NoticeKind, Private, Reply, status_word
from bot.rsvp import Tally, first_names
from bot.timefmt import when

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
NAMES_SHOWN = 10  # people named per answer before "+k more"


def one_line(text: str) -> str:
    """User text as one line: control characters (escape sequences too) and every
    kind of line break or run of spaces become a single space. Slack and Discord
    rendering use it for titles and names as well."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _lines(text: str) -> list[str]:
    """Multi-line prose (help, a summary) as separate lines, each cleaned, so the
    messenger prints every one of them with its label."""
    return [_CONTROL.sub(" ", line).rstrip() for line in text.splitlines()] or [""]


def channel_label(channel_id: str) -> str:
    return f"[#{channel_id}]"


def private_label(user_id: str) -> str:
    return f"[private → {user_id}]"


def card_lines(card: Card, tz: ZoneInfo, updated: bool = False) -> list[str]:
    title, organizer = one_line(card.title), one_line(card.organizer_id)
    head = f"“{title}” · {when(card.start, card.end, tz)} · organized by {organizer}"
    head += f" · {one_line(card.provider_label)} · id {one_line(card.meeting_id)}"
    if updated:
        head = f"(card updated) {head} · {status_word(card.status)}"
    lines = [head]
    if card.invitees:
        lines.append("  with " + ", ".join(f"@{one_line(name)}" for name in card.invitees))
    if card.join_url:
        lines.append(f"  Join: {card.join_url}")
    else:
        lines.append("  The room is closed.")
    if card.rsvp is not None:
        lines.append(
            f"  {tally_line(card.rsvp)} (answer: /meet rsvp {card.meeting_id} yes|maybe|no)"
        )
    if card.calendar is not None:
        links = [f"Google: {card.calendar.google}", f"Outlook: {card.calendar.outlook}"]
        if card.calendar.ics_url:
            links.insert(0, f"Calendar file: {card.calendar.ics_url}")
        lines.append("  " + " · ".join(links))
    return lines


def tally_line(tally: Tally, limit: int = NAMES_SHOWN) -> str:
    """One line: Going: ana, raj · Maybe: — · Can't: —."""

    def names(people: tuple[str, ...]) -> str:
        shown, more = first_names(people, limit)
        text = ", ".join(one_line(person) for person in shown) or "—"
        return f"{text} +{more} more" if more else text

    return f"Going: {names(tally.going)} · Maybe: {names(tally.maybe)} · Can't: {names(tally.no)}"


def notice_line(notice: Notice) -> str:
    prefix = {
        NoticeKind.REMINDER: "Reminder: ",
        NoticeKind.STARTING: "",
        NoticeKind.ENDED: "",
        NoticeKind.FAILURE: "Problem: ",
        NoticeKind.INFO: "",
        NoticeKind.FEEDBACK: "",
    }[notice.kind]
    people = "".join(f"@{one_line(person)} " for person in dict.fromkeys(notice.mentions))
    line = f"{people}{prefix}“{one_line(notice.title)}” {one_line(notice.text)}."
    if notice.kind is NoticeKind.FEEDBACK:
        line += f" Rate it: /meet rate {notice.meeting_id} 1-5 [comment]"
    if notice.join_url:
        line += f" Join: {notice.join_url}"
    return line


def private_line(note: Private) -> str:
    """One line, as the messenger prints it under one label; a multi-line note (the
    feedback summary) keeps its lines apart with " | "."""
    text = " | ".join(line.strip() for line in _lines(note.text) if line.strip())
    line = f"{text} {note.link_label}: {note.link}" if note.link else text
    if note.feedback_meeting_id:
        line += f" Answer with /meet rate {note.feedback_meeting_id} 5 [comment]"
    return line


def reply_lines(reply: Reply) -> list[str]:
    lines = _lines(reply.text if reply.ok else f"Sorry: {reply.text}")
    for item in reply.items:
        title = one_line(item.title)
        lines.append(f"  {item.id}  “{title}”  {one_line(item.local_when)}  {_kind(item)}")
        if item.join_url:
            lines.append(f"      Join: {item.join_url}")
        if item.next_occurrences:
            lines.append(f"      Next: {'; '.join(item.next_occurrences)}")
    lines.extend(private_line(note) for note in reply.private)
    return lines


def _kind(item: ListItem) -> str:
    """The status in the words every platform uses; a series says it is one."""
    return f"series ({item.status})" if item.is_series else status_word(item.status)
