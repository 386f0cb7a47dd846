"""Pure Discord rendering: embeds, buttons and private text from neutral view models."""

from __future__ import annotations

import re
from datetime import timedelta

from adapters.discord import render
from adapters.discord.views import card_view, feedback_view
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
from bot.rsvp import CARD_NAMES, Tally
from tests.moments import next_monday_at

START = next_monday_at(14)


def _card(**changes: object) -> Card:
    values: dict[str, object] = {
        "meeting_id": "abc234",
        "title": "Design *review*",
        "start": START,
        "end": START + timedelta(minutes=45),
        "organizer_id": "1700000000000000001",
        "provider_label": "Jitsi",
        "join_url": "https://meet.jit.si/design-review-x",
        "status": "scheduled",
    }
    values.update(changes)
    return Card(**values)  # type: ignore[arg-type]


async def test_card_embed_shows_discord_timestamps_organizer_and_provider() -> None:
    embed = render.card_embed(_card(invitees=("1700000000000000002",))).to_dict()
    assert embed["title"] == "Design \\*review\\*"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    unix = int(START.timestamp())
    assert f"<t:{unix}:F>" in fields["When"] and f"<t:{unix}:R>" in fields["When"]
    assert fields["Organizer"] == "<@1700000000000000001>"
    assert fields["Provider"] == "Jitsi" and fields["With"] == "<@1700000000000000002>"
    assert embed["footer"]["text"] == "Meeting id abc234"
    assert fields["Status"] == status_word("scheduled")  # the words Slack shows too


async def test_open_card_has_join_end_cancel_and_closed_card_has_no_buttons() -> None:
    view = card_view(_card())
    assert view is not None
    [row] = view.to_components()
    buttons = row["components"]
    assert [b["label"] for b in buttons] == ["Join", "End", "Cancel"]
    assert buttons[0]["url"] == "https://meet.jit.si/design-review-x"
    assert [b.get("custom_id") for b in buttons[1:]] == [
        "convene:end:abc234",
        "convene:cancel:abc234",
    ]
    assert card_view(_card(join_url=None, status="ended")) is None
    ended = render.card_embed(_card(join_url=None, status="ended")).to_dict()
    assert "Starts" not in ended["fields"][0]["value"]


async def test_feedback_view_carries_scores_and_a_comment_button() -> None:
    ids = [
        b["custom_id"] for row in feedback_view("abc234").to_components() for b in row["components"]
    ]
    assert ids == [f"convene:feedback:abc234:{n}" for n in range(1, 6)] + ["convene:comment:abc234"]


def test_reply_text_never_clips_the_private_link() -> None:
    items = tuple(
        ListItem(f"id{n:04d}", "x" * 80, START, START, "scheduled", None, "Mon 14:00")
        for n in range(60)
    )
    link = "https://meet.example/host?token=" + "t" * 100
    text = render.reply_text(Reply("Meetings:", items=items, private=(Private("Yours.", link),)))
    assert len(text) <= render.CONTENT_LIMIT and text.endswith(f"Host link: <{link}>")


def test_refusals_are_marked_and_help_keeps_its_layout() -> None:
    assert render.reply_text(Reply("Nope.", ok=False)).startswith("⚠️ ")
    assert render.reply_text(Reply("a  b\nc  d")).startswith("```\n")


def test_notice_starts_with_the_people_it_mentions() -> None:
    reminder = Notice(
        NoticeKind.REMINDER, "abc234", "Plan", "starts soon", "https://j", START, mentions=("17",)
    )
    text = render.notice_text(reminder)
    assert text.startswith("<@17> **Plan**: starts soon") and "<https://j>" in text
    ended = Notice(NoticeKind.ENDED, "abc234", "Plan", "has ended")
    assert "<@" not in render.notice_text(ended)


def test_a_series_is_listed_by_its_rule_and_next_dates_not_a_moment() -> None:
    """`start` of a series item is only when the list was made; showing it would lie."""
    nexts = ("Mon 7 Dec 09:30", "Tue 8 Dec 09:30")
    series = ListItem(
        "ser234",
        "Stand_up",
        START,
        START,
        "paused",
        None,
        "every weekday at 09:30 UTC",
        is_series=True,
        next_occurrences=nexts,
    )
    line = render.item_line(series)
    assert line.startswith("`ser234` **Stand\\_up**: every weekday at 09:30 UTC (paused series)")
    assert line.endswith("Next: Mon 7 Dec 09:30, Tue 8 Dec 09:30") and "<t:" not in line
    meeting = ListItem("abc234", "Plan", START, START, "active", "https://j", "Mon 14:00")
    assert render.item_line(meeting) == (
        f"`abc234` **Plan**: <t:{int(START.timestamp())}:F> (happening now) <https://j>"
    )


# ---- RSVP and notices that reach people --------------------------------------------------

ANA, RAJ = "1700000000000000011", "1700000000000000012"


async def test_card_shows_who_is_going_as_mentions_in_the_embed() -> None:
    going = (ANA, RAJ, *(f"17000000000000001{n:02d}" for n in range(20, 26)))
    embed = render.card_embed(_card(rsvp=Tally(going=going, maybe=(RAJ,)))).to_dict()
    answers = {f["name"]: f["value"] for f in embed["fields"]}["Answers"]
    assert answers.startswith(f"✅ 8 going: <@{ANA}>, <@{RAJ}>, ")
    assert answers.count("<@") == CARD_NAMES
    assert answers.endswith("+3 more · 🤔 1 maybe · ❌ 0")
    plain = render.card_embed(_card()).to_dict()
    assert "Answers" not in {f["name"] for f in plain["fields"]}


async def test_answer_buttons_follow_the_custom_id_scheme() -> None:
    links = CalendarLinks("https://c.example/x.ics", "https://g.example/add", "https://o.example")
    view = card_view(_card(rsvp=Tally(), series_id="ser234", personal_links=True, calendar=links))
    assert view is not None
    rows = [
        [(b["label"], b.get("custom_id") or b["url"]) for b in row["components"]]
        for row in view.to_components()
    ]
    assert rows == [
        [
            ("Join", "https://meet.jit.si/design-review-x"),
            ("End", "convene:end:abc234"),
            ("Cancel", "convene:cancel:abc234"),
        ],
        [
            ("Going", "convene:going:abc234"),
            ("Maybe", "convene:maybe:abc234"),
            ("Can't", "convene:no:abc234"),
            ("Going to all", "convene:going-all:abc234"),
        ],
        [
            ("Remind me privately", "convene:remind-me:abc234"),
            ("Get my link", "convene:my-link:abc234"),
        ],
        [("Add to calendar", links.ics_url), ("Google", links.google), ("Outlook", links.outlook)],
    ]


async def test_a_pressed_answer_button_is_found_again_after_a_restart() -> None:
    """The registered template reads every answer id back to its button and meeting."""
    from adapters.discord.views import AnswerAction

    for slug in ("going", "maybe", "no", "going-all", "remind-me", "my-link"):
        match = AnswerAction.__discord_ui_compiled_template__.fullmatch(f"convene:{slug}:abc234")
        assert match is not None and match["meeting"] == "abc234"
        item = await AnswerAction.from_custom_id(None, None, match)  # type: ignore[arg-type]
        assert item.custom_id == f"convene:{slug}:abc234"


def test_a_title_cannot_ping_and_non_ids_are_never_mentioned() -> None:
    notice = Notice(
        NoticeKind.STARTING,
        "abc234",
        "<@&123> party @everyone @here <@999>",
        "is starting now",
        mentions=(ANA, "Bob", "@everyone", "１２３", RAJ, ANA, "99999999999999999999999"),
    )
    assert render.mentioned(notice.mentions) == (ANA, RAJ)
    text = render.notice_text(notice)
    assert text.startswith(f"<@{ANA}> <@{RAJ}> **")
    # An escaped mention (a backslash before "<@999>") shows as typed: it is no mention.
    assert set(re.findall(r"(?<!\\)<@!?&?(\d+)>", text)) == {ANA, RAJ}
    assert "@everyone" not in text.replace("@\u200beveryone", "")
