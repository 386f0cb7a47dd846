"""Hostile titles, comments and names cannot forge convene's messages on any platform.

A title is typed by anyone in the channel and shown to everyone: it must read as
literal text, on one line, with no formatting of its own and no link or mention
convene did not make. Slack payloads are judged by `tests.slack_reader` (a model of
how a Slack client reads mrkdwn), Discord text by how Discord parses markdown, and
console lines by whether each one still starts with its own label.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.console import render as console
from adapters.discord import render as discord_render
from adapters.slack import modal
from adapters.slack import render as slack
from bot.messages import Card, ListItem, Notice, NoticeKind, Private, Reply
from tests.moments import next_monday_at
from tests.slack_reader import ZWSP, forgeries, text_objects

START = next_monday_at(15)
END = START + timedelta(minutes=30)
JOIN = "https://meet.jit.si/convene-abc234"
HOST = "https://meet.jit.si/convene-abc234?jwt=host-secret"

FORGED = [
    "Line one\nLine two: *APPROVED*",
    "Join: https://evil.example/login",
    "<https://evil.example|Join>",
    "*bold*",
    "@channel",
    "<!here>",
    "_it_ ~gone~ `code` ```block```",
    "> quoted\n> twice",
    "www.evil.example and mailto:boss@evil.example",
    "Sync\r\n\u2028:white_check_mark: Approved by <@UBOSS> #general",
]


def card(title: str, **changes: object) -> Card:
    fields: dict[str, object] = {
        "meeting_id": "abc234",
        "title": title,
        "start": START,
        "end": END,
        "organizer_id": "UANA",
        "provider_label": "Jitsi",
        "join_url": JOIN,
        "status": "scheduled",
    }
    fields.update(changes)
    return Card(**fields)  # type: ignore[arg-type]


# ---- Slack ------------------------------------------------------------------------------


@pytest.mark.parametrize("title", FORGED)
def test_slack_card_and_its_update_show_the_title_literally(title: str) -> None:
    for shown, links in (
        (card(title), {JOIN}),
        (card(title, join_url=None, status="ended"), set()),
    ):
        params = {"text": slack.card_text(shown), "blocks": slack.card_blocks(shown)}
        assert forgeries(params, title, links) == []


@pytest.mark.parametrize("title", FORGED)
def test_slack_notices_and_list_items_show_the_title_literally(title: str) -> None:
    reminder = Notice(NoticeKind.REMINDER, "abc234", title, "starts soon", JOIN, START)
    feedback = Notice(NoticeKind.FEEDBACK, "abc234", title, "has ended. How was it?")
    for notice, links in ((reminder, {JOIN}), (feedback, set())):
        params = {"text": slack.notice_text(notice), "blocks": slack.notice_blocks(notice)}
        assert forgeries(params, title, links) == []
    item = ListItem("abc234", title, START, END, "scheduled", JOIN, "Mon 16:00")
    reply = Reply("Meetings in this channel (1):", items=(item,))
    params = {"text": slack.reply_text(reply), "blocks": slack.reply_blocks(reply)}
    assert forgeries(params, title, {JOIN}) == []


@pytest.mark.parametrize("title", FORGED)
def test_slack_prose_that_quotes_a_title_has_no_formatting_or_foreign_link(title: str) -> None:
    """Replies and private notes are the service's sentences with the title inside; a
    title that still holds a line break keeps it there, but nothing in it formats or links."""
    refusal = Reply(f"Only the organizer of “{title}” can get its host link.", ok=False)
    made = Reply(f"“{title}” is set (id abc234).", private=(Private("Yours.", link=HOST),))
    note = Private(f"How was “{title}”? One tap to rate it.", feedback_meeting_id="abc234")
    sent = [
        ({"text": slack.reply_text(refusal), "blocks": slack.reply_blocks(refusal)}, set()),
        ({"text": slack.reply_text(made), "blocks": slack.reply_blocks(made)}, {HOST}),
        ({"text": slack.private_text(note), "blocks": slack.private_blocks(note)}, set()),
    ]
    for params, links in sent:
        assert forgeries(params, title, links, collapse=False) == []


def test_slack_feedback_comments_cannot_close_the_summary_block_or_link() -> None:
    """The summary is preformatted; a comment with ``` must not end the block early."""
    comment = "fine``` *APPROVED* https://evil.example ```"
    summary = Reply(f"Feedback for “Retro”: 1 response.\n“{comment}”")
    params = {"text": slack.reply_text(summary), "blocks": slack.reply_blocks(summary)}
    assert forgeries(params, f"“{comment}”", set()) == []


def test_every_slack_mrkdwn_text_is_verbatim() -> None:
    """verbatim: Slack then links no bare URL and parses no #channel or @here by itself."""
    item = ListItem("abc234", "x", START, END, "scheduled", JOIN, "Mon 16:00")
    note = Private("Your host link.", link=HOST, feedback_meeting_id="abc234")
    payloads = [
        slack.card_blocks(card("x")),
        slack.notice_blocks(Notice(NoticeKind.FEEDBACK, "abc234", "x", "ended")),
        slack.reply_blocks(Reply("a\nb", items=(item,), private=(note,)), offer_form=True),
    ]
    objects = [obj for blocks in payloads for _, obj in text_objects(blocks)]
    mrkdwn = [obj for obj in objects if obj["type"] == "mrkdwn"]
    assert mrkdwn and all(obj.get("verbatim") is True for obj in mrkdwn)


@pytest.mark.parametrize("title", FORGED)
def test_slack_comment_form_labels_the_title_on_one_line_without_links(title: str) -> None:
    view = modal.comment_view(modal.CommentContext("abc234", "CGENERAL"), title)
    texts = [obj["text"].replace(ZWSP, "") for _, obj in text_objects(view)]
    [label] = [text for text in texts if text.startswith("Your comment on")]
    shown = " ".join(title.split())
    assert label.startswith(f"Your comment on “{shown[:20]}")
    assert forgeries({"view": view}, shown[:20], set()) == []


def test_slack_names_that_are_not_ids_are_text() -> None:
    assert slack.mention("UBOSS") == "<@UBOSS>"
    for name in ("channel", "here\nthere", "<!everyone>"):
        params = {"text": slack.mention(name)}
        assert forgeries(params, f"@{name}", set()) == []


def test_slack_clipping_never_leaves_a_marker_or_entity_open() -> None:
    """A long text is cut; the cut must not leave half an `&amp;` or a bare `*` behind."""
    for filler in ("&" * 3000, "*" * 3000, "ab_" * 1000):
        text = slack.mrkdwn_section(slack.escape(filler))["text"]["text"]
        assert len(text) <= 3000
        assert not re.search(r"&[a-z]*…$", text)
        assert text.endswith(f"{ZWSP}…")


# ---- Discord ----------------------------------------------------------------------------

DISCORD_MARKDOWN = set("*_~`|<\\")  # escaped anywhere; `[`, `>`, `#`, `-` where they bind
DISCORD_TOKEN = re.compile(r"(?<!\\)<(?:[@#/:]|t:|a:)[^<>]*>")
DISCORD_URL = re.compile(r"(?<![\w\\])https?://[^\s<>()\]]+")
DISCORD_MASKED = re.compile(r"(?<!\\)\[[^\]]*\]\(")


def discord_problems(text: str, title: str, links: set[str], tokens: set[str]) -> list[str]:
    """What Discord would make of `text` that the title made up; the title must also
    show literally on one line, every markdown character in it escaped."""
    problems = [f"link {url}" for url in DISCORD_URL.findall(text) if url not in links]
    problems += [f"masked link at {m.start()}" for m in DISCORD_MASKED.finditer(text)]
    problems += [f"mention {t}" for t in DISCORD_TOKEN.findall(text) if t not in tokens]
    problems += [f"broadcast {m}" for m in re.findall(r"@(?:everyone|here)\b", text)]
    shown = " ".join(title.split())
    pattern = "".join(rf"{ZWSP}?(\\?){re.escape(c)}" for c in shown)
    found = re.search(pattern, text)
    if found is None:
        return [*problems, f"title {shown!r} not shown literally on one line"]
    problems += [
        f"unescaped {c!r} in the title"
        for c, slash in zip(shown, found.groups(), strict=True)
        if c in DISCORD_MARKDOWN and slash != "\\"
    ]
    return problems


DISCORD_FORGED = [
    *FORGED,
    "[Join now](https://evil.example/login)",
    "[Join](<https://evil.example>) @everyone @here",
    "<@1700000000000000099> <#1700000000000000098> <t:0:F> </meet host:1>",
    "# Big\n-# small\n- list",
    "||spoiler|| **bold**",
]


@pytest.mark.parametrize("title", DISCORD_FORGED)
def test_discord_card_notice_and_list_show_the_title_literally(title: str) -> None:
    embed = discord_render.card_embed(card(title)).to_dict()
    assert discord_problems(embed["title"], title, set(), set()) == []
    notice = Notice(NoticeKind.REMINDER, "abc234", title, "starts soon", JOIN, START)
    text = discord_render.notice_text(notice)
    stamp = f"<t:{int(START.timestamp())}:R>"
    assert discord_problems(text, title, {JOIN}, {stamp}) == []
    item = ListItem("abc234", title, START, END, "scheduled", JOIN, "Mon 16:00")
    line = discord_render.item_line(item)
    stamp = f"<t:{int(START.timestamp())}:F>"
    assert discord_problems(line, title, {JOIN}, {stamp}) == []


@pytest.mark.parametrize("title", DISCORD_FORGED)
def test_discord_prose_that_quotes_a_title_has_no_link_mention_or_markdown(title: str) -> None:
    note = Private(f"How was “{title}”?", feedback_meeting_id="abc234")
    refusal = Reply(f"Only the organizer of “{title}” can end it.", ok=False)
    for text in (discord_render.private_text(note), discord_render.reply_text(refusal)):
        if text.startswith("```"):  # a multi-line answer is preformatted: nothing parses
            assert text.endswith("```") and text.count("```") == 2
            continue
        assert discord_problems(" ".join(text.split()), title, set(), set()) == []


def test_discord_multiline_replies_stay_inside_their_code_block() -> None:
    reply = Reply("Feedback for “Retro”: 1 response.\n“``` **x** https://evil.example ```”")
    text = discord_render.reply_text(reply)
    assert text.startswith("```\n") and text.endswith("\n```") and text.count("```") == 2


def test_discord_host_link_is_the_only_link_in_a_private_note() -> None:
    note = Private("Your host link for “https://evil.example”.", link=HOST)
    text = discord_render.private_text(note)
    assert DISCORD_URL.findall(text) == [HOST]


# ---- console ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "title", [*FORGED, "Sync\n[#general] Meeting cancelled by admin", "x\x1b[2K\r[#general] y"]
)
def test_console_lines_never_break_so_each_keeps_its_label(title: str) -> None:
    """Every printed line starts with its label; a title cannot start a line of its own."""
    lines = [
        *console.card_lines(card(title), ZoneInfo("UTC")),
        *console.card_lines(
            card(title, join_url=None, status="ended"), ZoneInfo("UTC"), updated=True
        ),
        console.notice_line(Notice(NoticeKind.REMINDER, "abc234", title, "starts soon", JOIN)),
        console.private_line(Private(f"How was “{title}”?", feedback_meeting_id="abc234")),
        *console.reply_lines(
            Reply(
                f"“{title}” is set.",
                items=(ListItem("abc234", title, START, END, "scheduled", JOIN, "Mon 16:00"),),
            )
        ),
    ]
    for line in lines:
        assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", line), repr(line)
    shown = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", title).split())
    assert any(shown in line for line in lines)


def test_console_multiline_replies_print_one_labelled_line_each() -> None:
    lines = console.reply_lines(Reply("a  b\nc  d\n[#general] fake"))
    assert lines == ["a  b", "c  d", "[#general] fake"]
