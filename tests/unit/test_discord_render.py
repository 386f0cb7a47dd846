"""Pure Discord rendering: embeds, buttons and private text from neutral view models."""

from __future__ import annotations

from datetime import timedelta

from adapters.discord import render
from adapters.discord.views import card_view, feedback_view
from bot.messages import Card, ListItem, Notice, NoticeKind, Private, Reply, status_word
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


def test_notice_mentions_invitees_only_on_reminders() -> None:
    reminder = Notice(NoticeKind.REMINDER, "abc234", "Plan", "starts soon", "https://j", START)
    text = render.notice_text(reminder, ("17",))
    assert text.startswith("<@17> **Plan**: starts soon") and "<https://j>" in text
    ended = Notice(NoticeKind.ENDED, "abc234", "Plan", "has ended")
    assert "<@17>" not in render.notice_text(ended, ("17",))


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
