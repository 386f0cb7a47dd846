"""Block Kit rendering of convene's neutral view models: pure functions, no I/O.

Every piece of user text (titles, names, comments, and the service's sentences that
quote them) goes through `escape` before it reaches mrkdwn, and titles and names
through `one_line` first, so a title reads as typed: "<!channel>" pings nobody,
"*APPROVED*" is not bold, "https://evil.example" is no link, and no title starts a
line of its own. Every mrkdwn text object is also `verbatim`, so Slack itself links
no bare URL and parses no #channel or @here; the only links are the ones convene
makes (Join and host-link buttons, the host link's own `<url|label>`). Times are
sent as `<!date^…>` tokens, so each reader sees them in their own Slack time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from adapters.console.render import one_line
from bot.messages import (
    CalendarLinks,
    Card,
    ListItem,
    Notice,
    NoticeKind,
    Private,
    Reply,
    status_word,
)
from bot.requests import BUTTON_LABELS, CARD_ANSWERS, Button
from bot.rsvp import Tally, card_tally

Block = dict[str, Any]

MAX_TEXT = 2900  # a section's text may hold 3000 characters
MAX_ITEMS = 40  # a message holds at most 50 blocks
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{2,}")

# Action ids are what cards already posted in channels send back: never rename one.
END_ACTION = "meet_end"
CANCEL_ACTION = "meet_cancel"
EDIT_ACTION = "meet_edit"  # opens the scheduling form filled in, value = meeting id
JOIN_ACTION = "meet_join"  # link buttons still send an action, which is only acknowledged
LINK_ACTION = "meet_link"
OPEN_FORM_ACTION = "meet_open_schedule"
RATE_PREFIX = "feedback_"  # rating buttons are feedback_1 … feedback_5, value = meeting id
COMMENT_ACTION = "feedback_comment"  # opens the comment modal, value = meeting id
SCORES = range(1, 6)
ACTION_IDS = {
    Button.END: END_ACTION,
    Button.EDIT: EDIT_ACTION,
    Button.CANCEL: CANCEL_ACTION,
    Button.COMMENT: COMMENT_ACTION,
    Button.GOING: "meet_going",
    Button.MAYBE: "meet_maybe",
    Button.NO: "meet_no",
    Button.GOING_ALL: "meet_going_all",
    Button.MY_LINK: "meet_my_link",
    Button.REMIND_ME: "meet_remind_me",
}
ANSWER_ACTIONS = tuple(ACTION_IDS[b] for b in CARD_ANSWERS)
"""The card's answer buttons: each press is a request (`bot.requests.button_request`)."""
# Calendar buttons are links; their ids start with LINK_ACTION, so the listener that
# acknowledges link clicks takes them too.
CALENDAR_ACTIONS = {kind: f"{LINK_ACTION}_{kind}" for kind in ("ics", "google", "outlook")}


def action_id(button: Button, score: int | None = None) -> str:
    """The Slack action id of a convene button; a rating's id carries its score."""
    if button is Button.RATE:
        return f"{RATE_PREFIX}{score}"
    return ACTION_IDS[button]


_ESCAPED = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ESCAPED_RE = re.compile("|".join(_ESCAPED))
ZWSP = "\u200b"
# Slack has no backslash escape. A marker between two zero-width spaces cannot open
# or close a span whichever way Slack classes that space: as a space, the marker
# has a space inside; as a letter, it sits inside a word.
_MARKERS = re.compile(r"[*_~`]")
_QUOTE = re.compile(r"^(?=[ \t]*&gt;)", re.MULTILINE)  # "> " at a line's start quotes it
# What Slack may link or parse in text by itself: a URL's scheme, "www.", mailto: and
# tel:, and the broadcast words. A zero-width space after each breaks it; other
# "@name"s stay as typed (the service's "/invite @convene" must still work when copied).
_AUTOLINKED = re.compile(
    r"(?i)\b(?:[a-z][a-z0-9+.-]*(?=://)|(?:mailto|tel|slack)(?=:)|www(?=\.))"
    r"|@(?=(?:channel|here|everyone|group)\b)"
)
_PARTIAL_ENTITY = re.compile(r"&(?:a|am|amp|l|lt|g|gt)?$")


def defuse(text: str) -> str:
    """Break what Slack would turn into a link or a mention; for plain_text as well."""
    return _AUTOLINKED.sub(lambda match: match.group() + ZWSP, text)


def escape(text: str) -> str:
    """User text as literal mrkdwn, the one escape of every Slack path: `& < >` as
    entities (which also defuses <!channel> and <@U…>), each formatting marker fenced
    by zero-width spaces, a `>` at a line's start unquoted, URLs and @channel-like
    words broken. Line breaks stay (the service's multi-line answers); titles and names
    go through `title_text` instead."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKERS.sub(lambda match: f"{ZWSP}{match.group()}{ZWSP}", text)
    return defuse(_QUOTE.sub(ZWSP, text))


def literal(text: str) -> str:
    """A title or name for a plain_text object: one line, nothing Slack could link."""
    return defuse(one_line(text))


def title_text(text: str) -> str:
    """A title or name for mrkdwn: one line, escaped."""
    return escape(one_line(text))


def unescape(text: str) -> str:
    """Undo Slack's own escaping of the text it sends (exactly `& < >`), e.g. for a
    command's text; the opposite direction of `escape`'s first step.

    One pass, so "&amp;lt;" (someone typed "&lt;") becomes "&lt;" and not "<".
    Mentions such as <@U123> arrive unescaped and are left as they are.
    """
    return _ESCAPED_RE.sub(lambda match: _ESCAPED[match.group()], text)


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    """Cut escaped text to Slack's limit without leaving half an entity, and with a
    zero-width space before the ellipsis so a cut-off marker cannot pair up."""
    if len(text) <= limit:
        return text
    return _PARTIAL_ENTITY.sub("", text[: limit - 2]) + f"{ZWSP}…"


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    clipped = text if len(text) <= limit else text[: limit - 1] + "…"
    return {"type": "plain_text", "text": clipped, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object; verbatim, so Slack adds no links or mentions of its own."""
    return {"type": "mrkdwn", "text": _clip(text), "verbatim": True}


def mrkdwn_section(text: str, accessory: Block | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    return block


def link_button(label: str, url: str, action_id: str, primary: bool = False) -> Block:
    button: Block = {"type": "button", "text": plain(label), "url": url, "action_id": action_id}
    if primary:
        button["style"] = "primary"
    return button


def is_user_id(user_id: str) -> bool:
    """A Slack user id (U… or W…), as opposed to a display name or anything typed."""
    return _SLACK_ID.fullmatch(user_id) is not None


def mention(user_id: str) -> str:
    """A user mention only for a real Slack id; anything else is shown as plain text."""
    return f"<@{user_id}>" if _SLACK_ID.fullmatch(user_id) else title_text(f"@{user_id}")


def _fallback(moment: datetime, with_date: bool = True) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%d %H:%M} UTC" if with_date else f"{utc:%H:%M} UTC"


def date_token(moment: datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """`<!date^…>`: Slack renders it in the reader's own zone; the fallback is UTC."""
    with_date = "date" in fmt
    return f"<!date^{int(moment.timestamp())}^{fmt}|{_fallback(moment, with_date)}>"


def span_tokens(start: datetime, end: datetime) -> str:
    """Start with its date, end as a time only (its date too when it is another UTC day)."""
    same_day = start.astimezone(UTC).date() == end.astimezone(UTC).date()
    end_fmt = "{time}" if same_day else "{date_short_pretty} {time}"
    return f"{date_token(start)}–{date_token(end, end_fmt)}"


def span_fallback(start: datetime, end: datetime) -> str:
    return f"{_fallback(start)}–{_fallback(end, with_date=False)}"


# ---- the public card ---------------------------------------------------------------


def status_text(status: str) -> str:
    """The shared status word, escaped: an unknown status is shown as it is, never as mrkdwn."""
    return escape(status_word(status))


def card_text(card: Card) -> str:
    """The notification text of the card (also mrkdwn, so escaped)."""
    text = f"“{title_text(card.title)}” {span_fallback(card.start, card.end)}"
    if card.join_url:
        text += f" · Join: {card.join_url}"
    else:
        text += f" · {status_text(card.status)}"
    return text


def card_blocks(card: Card) -> list[Block]:
    """Title, local start–end, organizer, provider; Join/End/Cancel while the room is open,
    and Edit while the meeting has not started (cards of earlier versions have none)."""
    status = status_text(card.status)
    if card.late:
        status += " (posted late)"
    title = title_text(card.title)
    head = f"*{title}*\n{span_tokens(card.start, card.end)}"
    if card.join_url is None:
        head = f"~*{title}*~ · {status}\n{span_tokens(card.start, card.end)}"
    details = [
        f"Organized by {mention(card.organizer_id)}",
        escape(card.provider_label),
        status,
        f"id `{escape(card.meeting_id)}`",
    ]
    blocks: list[Block] = [
        mrkdwn_section(head),
        {"type": "context", "elements": [mrkdwn(" · ".join(details))]},
    ]
    if card.invitees:
        people = " ".join(mention(person) for person in card.invitees)
        blocks.insert(1, mrkdwn_section(f"With {people}"))
    if card.join_url:
        buttons = [
            link_button("Join", card.join_url, JOIN_ACTION, primary=True),
            _action_button("End now", action_id(Button.END), card.meeting_id),
        ]
        if card.status == "scheduled":
            buttons.append(_action_button("Edit", action_id(Button.EDIT), card.meeting_id))
        buttons.append(
            _action_button("Cancel", action_id(Button.CANCEL), card.meeting_id, confirm=True)
        )
        blocks.append({"type": "actions", "block_id": "meet_card", "elements": buttons})
    if card.rsvp is not None:
        blocks.append({"type": "context", "elements": [mrkdwn(tally_text(card.rsvp))]})
    if card.join_url and (answers := answer_actions(card)) is not None:
        blocks.append(answers)
    if card.calendar is not None:
        blocks.append(calendar_actions(card.calendar))
    return blocks


def tally_text(tally: Tally) -> str:
    """The answers. Only real ids become mentions, and in a card they seldom notify:
    it is mostly edited, and an edit notifies nobody."""
    return card_tally(tally, mention)


def answer_actions(card: Card) -> Block | None:
    """Going / Maybe / Can't (a second press withdraws) and Going to all on a series' card
    when the card takes answers, Remind me privately before the start, and Get my link
    where the provider makes one."""
    wanted: list[Button] = []
    if card.rsvp is not None:
        wanted += [Button.GOING, Button.MAYBE, Button.NO]
        if card.series_id:
            wanted.append(Button.GOING_ALL)
        if card.status == "scheduled":
            wanted.append(Button.REMIND_ME)
    if card.personal_links:
        wanted.append(Button.MY_LINK)
    if not wanted:
        return None
    buttons = [_action_button(BUTTON_LABELS[b], action_id(b), card.meeting_id) for b in wanted]
    return {"type": "actions", "block_id": "meet_rsvp", "elements": buttons}


def calendar_actions(links: CalendarLinks) -> Block:
    """Add to calendar (convene's .ics file, when it has a public address), Google, Outlook."""
    buttons = []
    if links.ics_url:
        buttons.append(link_button("Add to calendar", links.ics_url, CALENDAR_ACTIONS["ics"]))
    buttons.append(link_button("Google", links.google, CALENDAR_ACTIONS["google"]))
    buttons.append(link_button("Outlook", links.outlook, CALENDAR_ACTIONS["outlook"]))
    return {"type": "actions", "block_id": "meet_calendar", "elements": buttons}


def _action_button(label: str, action_id: str, value: str, confirm: bool = False) -> Block:
    button: Block = {"type": "button", "text": plain(label), "action_id": action_id, "value": value}
    if confirm:
        button["style"] = "danger"
        button["confirm"] = {
            "title": plain("Cancel this meeting?"),
            "text": mrkdwn("The room closes and the card says cancelled."),
            "confirm": plain("Cancel meeting"),
            "deny": plain("Keep it"),
        }
    return button


# ---- notices under the card ----------------------------------------------------------

_NOTICE_PREFIX = {
    NoticeKind.REMINDER: ":alarm_clock: Reminder: ",
    NoticeKind.STARTING: ":arrow_forward: ",
    NoticeKind.ENDED: "",
    NoticeKind.FAILURE: ":warning: ",
    NoticeKind.INFO: "",
    NoticeKind.FEEDBACK: ":speech_balloon: ",
}


BROADCAST_KINDS = (NoticeKind.REMINDER, NoticeKind.STARTING)
"""Notices that must reach people: a thread reply under the card is also sent to the channel."""


MAX_MENTIONS = 50  # past this a notice names nobody more: it stays one readable line


def mentions_text(user_ids: tuple[str, ...]) -> str:
    """`<@U1> <@U2> `: each real Slack user id once; anything else (a display name, a
    broadcast word) is dropped, so a notice is never addressed to a name or the channel."""
    real = list(dict.fromkeys(u for u in user_ids if is_user_id(u)))[:MAX_MENTIONS]
    return "".join(f"<@{u}> " for u in real)


def notice_text(notice: Notice) -> str:
    """A public line: the mentions first, then title and sentence each on one line (the
    sentence may quote text)."""
    title, said = title_text(notice.title), title_text(notice.text)
    text = mentions_text(notice.mentions)
    text += f"{_NOTICE_PREFIX.get(notice.kind, '')}“{title}” {said}."
    if notice.kind is NoticeKind.REMINDER and notice.start is not None:
        text += f" Starts {date_token(notice.start, '{time}')}."
    if notice.join_url:
        text += f" Join: {notice.join_url}"
    return text


def notice_blocks(notice: Notice) -> list[Block]:
    text = notice_text(notice)
    if notice.join_url:
        return [mrkdwn_section(text, link_button("Join", notice.join_url, JOIN_ACTION, True))]
    if notice.kind is NoticeKind.FEEDBACK:
        return [mrkdwn_section(text), feedback_actions(notice.meeting_id)]
    return [mrkdwn_section(text)]


# ---- feedback buttons ----------------------------------------------------------------


def feedback_actions(meeting_id: str) -> Block:
    """Rating buttons 1–5 and "Add a comment"; each value only names the meeting."""
    buttons = [
        _action_button(str(score), action_id(Button.RATE, score), meeting_id) for score in SCORES
    ]
    buttons.append(_action_button("Add a comment", action_id(Button.COMMENT), meeting_id))
    return {"type": "actions", "elements": buttons}


# ---- private replies -------------------------------------------------------------------


def _reply_body(reply: Reply) -> str:
    text = escape(reply.text)
    if "\n" in text:  # help and other aligned listings read best preformatted
        text = f"```{text}```"
    return text if reply.ok else f":warning: {text}"


def item_block(item: ListItem, index: int) -> Block:
    kind = "series" if item.is_series else status_text(item.status)
    text = f"*{title_text(item.title)}*  `{escape(item.id)}`\n{escape(item.local_when)} · {kind}"
    if item.next_occurrences:
        text += "\nNext: " + ", ".join(escape(x) for x in item.next_occurrences)
    accessory = None
    if item.join_url:
        accessory = link_button("Join", item.join_url, f"{JOIN_ACTION}_{index}")
    return mrkdwn_section(text, accessory)


def private_text(note: Private) -> str:
    """The notification text of a private note: its sentence, never its link."""
    return _clip(escape(note.text), 3000)


def private_block(note: Private, index: int) -> Block:
    if note.link is None:
        return mrkdwn_section(escape(note.text))
    link = f"\n<{note.link}|{escape(note.link_label)}>"  # convene's own link, never clipped
    return mrkdwn_section(
        _clip(escape(note.text), MAX_TEXT - len(link)) + link,
        link_button(note.link_label, note.link, f"{LINK_ACTION}_{index}", primary=True),
    )


def private_blocks(note: Private, index: int = 0) -> list[Block]:
    """A private note, with the rating buttons when it asks for feedback."""
    blocks = [private_block(note, index)]
    if note.feedback_meeting_id:
        blocks.append(feedback_actions(note.feedback_meeting_id))
    return blocks


def reply_blocks(reply: Reply, *, offer_form: bool = False) -> list[Block]:
    """The ephemeral answer: its text, a tidy list, private notes with their links."""
    blocks = [mrkdwn_section(_reply_body(reply))]
    shown = reply.items[:MAX_ITEMS]
    blocks.extend(item_block(item, i) for i, item in enumerate(shown))
    if len(reply.items) > len(shown):
        more = len(reply.items) - len(shown)
        blocks.append(mrkdwn_section(f"…and {more} more."))
    for i, note in enumerate(reply.private):
        blocks.extend(private_blocks(note, i))
    if offer_form:
        button = {
            "type": "button",
            "text": plain("Schedule a meeting"),
            "action_id": OPEN_FORM_ACTION,
            "style": "primary",
        }
        blocks.append({"type": "actions", "elements": [button]})
    return blocks


def reply_text(reply: Reply) -> str:
    """Notification fallback of a reply; the links live in the blocks only."""
    return _clip(("" if reply.ok else "Sorry: ") + escape(reply.text), 3000)
