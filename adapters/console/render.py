"""Plain-text rendering of the neutral view models for a terminal.

Every line is labelled with where it would appear on a real platform:
`[#general]` for the channel, `[private → you]` for what only the caller sees.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.messages import Card, ListItem, Notice, NoticeKind, Private, Reply, status_word
from bot.timefmt import when


def channel_label(channel_id: str) -> str:
    return f"[#{channel_id}]"


def private_label(user_id: str) -> str:
    return f"[private → {user_id}]"


def card_lines(card: Card, tz: ZoneInfo, updated: bool = False) -> list[str]:
    head = f"“{card.title}” · {when(card.start, card.end, tz)} · organized by {card.organizer_id}"
    head += f" · {card.provider_label} · id {card.meeting_id}"
    if updated:
        head = f"(card updated) {head} · {status_word(card.status)}"
    lines = [head]
    if card.invitees:
        lines.append("  with " + ", ".join(f"@{name}" for name in card.invitees))
    if card.join_url:
        lines.append(f"  Join: {card.join_url}")
    else:
        lines.append("  The room is closed.")
    return lines


def notice_line(notice: Notice) -> str:
    prefix = {
        NoticeKind.REMINDER: "Reminder: ",
        NoticeKind.STARTING: "",
        NoticeKind.ENDED: "",
        NoticeKind.FAILURE: "Problem: ",
        NoticeKind.INFO: "",
        NoticeKind.FEEDBACK: "",
    }[notice.kind]
    line = f"{prefix}“{notice.title}” {notice.text}."
    if notice.kind is NoticeKind.FEEDBACK:
        line += f" Rate it: /meet rate {notice.meeting_id} 1-5 [comment]"
    if notice.join_url:
        line += f" Join: {notice.join_url}"
    return line


def private_line(note: Private) -> str:
    line = f"{note.text} {note.link_label}: {note.link}" if note.link else note.text
    if note.feedback_meeting_id:
        line += f" Answer with /meet rate {note.feedback_meeting_id} 5 [comment]"
    return line


def reply_lines(reply: Reply) -> list[str]:
    lines = [reply.text if reply.ok else f"Sorry: {reply.text}"]
    for item in reply.items:
        lines.append(f"  {item.id}  “{item.title}”  {item.local_when}  {_kind(item)}")
        if item.join_url:
            lines.append(f"      Join: {item.join_url}")
        if item.next_occurrences:
            lines.append(f"      Next: {'; '.join(item.next_occurrences)}")
    lines.extend(private_line(note) for note in reply.private)
    return lines


def _kind(item: ListItem) -> str:
    """The status in the words every platform uses; a series says it is one."""
    return f"series ({item.status})" if item.is_series else status_word(item.status)
