"""Pure rendering of convene's neutral view models into Discord embeds and text.

Times go out as Discord timestamp markup (`<t:unix:F>`), which every reader's
client shows in their own zone; so the public card needs no zone at all. Only
`reply_text` (the caller's private answer) may carry a host link, because a
`Reply` is only ever sent ephemerally.

User text (titles, names, the service's sentences that quote them) goes through
`literal`: markdown escaped, no masked or bare link, no mention of any kind, so the
only links are convene's own (the Join button, `<join url>`, the host link).
"""

from __future__ import annotations

import re
from datetime import datetime

import discord
from discord.utils import escape_markdown, escape_mentions

from adapters.console.render import one_line
from bot.messages import Card, ListItem, Notice, NoticeKind, Private, Reply, status_word
from bot.models import SeriesStatus
from bot.rsvp import Tally, card_tally

CONTENT_LIMIT = 2000  # Discord's limit for a message's content
TITLE_LIMIT = 256
COLOURS = {
    "scheduled": discord.Colour.blurple(),
    "active": discord.Colour.green(),
    "ended": discord.Colour.dark_grey(),
    "cancelled": discord.Colour.red(),
}


MAX_MENTIONS = 50
FIELD_LIMIT = 1024
ZWSP = "\u200b"
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_SCHEME = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*(?=://)")


def literal(text: str) -> str:
    """Text Discord shows as typed: markdown escaped everywhere (masked links too), a URL's
    scheme broken by a zero-width space so it is no link, @everyone/@here and user or
    role mentions broken, and every `<` escaped (`<#channel>`, `<t:…>`, `</command:…>`)."""
    text = _SCHEME.sub(lambda m: m.group() + ZWSP, text)
    text = escape_markdown(text, ignore_links=False)  # user text holds no link to keep
    return escape_mentions(text).replace("<", "\\<")


def stamp(moment: datetime, style: str = "F") -> str:
    """Discord timestamp markup; the reader's client renders it in their zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def is_user_id(user_id: str) -> bool:
    """A Discord snowflake (ASCII digits that fit 64 bits), never a display name."""
    return _SNOWFLAKE.fullmatch(user_id) is not None and int(user_id) < 2**64


def mention(user_id: str) -> str:
    return f"<@{user_id}>" if is_user_id(user_id) else literal(one_line(user_id))


def mentioned(user_ids: tuple[str, ...]) -> tuple[str, ...]:
    """The ids a notice may ping: real snowflakes only, each once, in the given order, at
    most MAX_MENTIONS (Discord allows 100 in `allowed_mentions`; 50 fit in one message)."""
    return tuple(dict.fromkeys(u for u in user_ids if is_user_id(u)))[:MAX_MENTIONS]


def tally_text(tally: Tally) -> str:
    """The answers, shown in the embed, where a mention never pings; the card is also
    sent with no mentions allowed."""
    return _clip(card_tally(tally, mention), FIELD_LIMIT)


def card_embed(card: Card) -> discord.Embed:
    """The public card: title, when (absolute and relative), organizer, provider, status."""
    title = literal(one_line(card.title))[:TITLE_LIMIT]
    embed = discord.Embed(title=title, colour=COLOURS.get(card.status, discord.Colour.default()))
    when = f"{stamp(card.start)} – {stamp(card.end, 't')}"
    if card.status in ("scheduled", "active"):
        when += f"\n{'Started' if card.status == 'active' else 'Starts'} {stamp(card.start, 'R')}"
    embed.add_field(name="When", value=when, inline=False)
    embed.add_field(name="Organizer", value=mention(card.organizer_id), inline=True)
    embed.add_field(name="Provider", value=literal(card.provider_label), inline=True)
    embed.add_field(name="Status", value=literal(status_word(card.status)), inline=True)
    if card.invitees:
        embed.add_field(
            name="With", value=" ".join(mention(i) for i in card.invitees)[:1024], inline=False
        )
    if card.rsvp is not None:
        embed.add_field(name="Answers", value=tally_text(card.rsvp), inline=False)
    if card.late:
        embed.description = "Posted late: convene was offline when this was due."
    embed.set_footer(text=f"Meeting id {card.meeting_id}")
    return embed


def notice_text(notice: Notice) -> str:
    """One public line under the card, starting with the people it mentions (the notice's
    own list, real ids only; the messenger allows pings for exactly those)."""
    parts: list[str] = []
    if people := mentioned(notice.mentions):
        parts.append(" ".join(f"<@{person}>" for person in people))
    parts.append(f"**{literal(one_line(notice.title))}**: {literal(one_line(notice.text))}")
    if notice.start is not None and notice.kind is NoticeKind.REMINDER:
        parts.append(f"({stamp(notice.start, 'R')})")
    if notice.join_url:
        parts.append(f"Join: <{notice.join_url}>")
    return _clip(" ".join(parts))


def private_text(note: Private) -> str:
    """A private note; the link (a host link, perhaps) in angle brackets: no preview."""
    text = literal(note.text)
    if note.link:
        text += f"\n{note.link_label}: <{note.link}>"
    return text


def item_line(item: ListItem) -> str:
    """One listed meeting, at a timestamp each reader's client shows in their zone."""
    if item.is_series:
        return series_line(item)
    kind = status_word(item.status).lower()
    line = f"`{item.id}` **{literal(one_line(item.title))}**: {stamp(item.start)} ({kind})"
    if item.join_url:
        line += f" <{item.join_url}>"
    return line


def series_line(item: ListItem) -> str:
    """A series has no single moment (its `start` is only when the list was made), so it
    shows its rule and next dates, which the service wrote in the caller's zone."""
    kind = "paused series" if item.status == SeriesStatus.PAUSED else "series"
    line = f"`{item.id}` **{literal(one_line(item.title))}**: {literal(item.local_when)}"
    line += f" ({kind})"
    if item.next_occurrences:
        line += "\n  Next: " + ", ".join(literal(d) for d in item.next_occurrences)
    return line


def reply_text(reply: Reply) -> str:
    """The caller's ephemeral answer: the sentence, a listing, then private notes."""
    text = reply.text
    if "\n" in text:  # multi-line answers (help) keep their alignment
        body = f"```\n{text.replace('```', '')}\n```"
    else:
        body = literal(text) if reply.ok else f"⚠️ {literal(text)}"
    head = "\n".join([body, *(item_line(item) for item in reply.items)])
    tail = "\n".join(private_text(note) for note in reply.private)
    if not tail:
        return _clip(head)
    return _clip(head, CONTENT_LIMIT - len(tail) - 1) + "\n" + tail  # never clip a link


def _clip(text: str, limit: int = CONTENT_LIMIT) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
