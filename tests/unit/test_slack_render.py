"""Block Kit rendering, the form's validation and the manifest, without any network."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import Block

from adapters.slack import inbound, modal, render
from adapters.slack.oauth import SCOPES, authorize_url
from bot.messages import (
    STATUS_WORDS,
    CalendarLinks,
    Card,
    ListItem,
    Notice,
    NoticeKind,
    Private,
    Reply,
)
from bot.requests import (
    ANSWER_BUTTONS,
    Button,
    CreateMeeting,
    CreateSeries,
    PersonalLink,
    RemindMe,
    Rsvp,
)
from bot.rsvp import CARD_NAMES, Tally
from tests.moments import at, next_monday_at
from tests.slack_reader import forgeries

NOW = next_monday_at(9)
START = NOW + timedelta(hours=6)
END = START + timedelta(minutes=30)
TUESDAY = NOW.date() + timedelta(days=1)


def card(**changes: object) -> Card:
    fields: dict[str, object] = {
        "meeting_id": "abc234",
        "title": "Retro <!here> & co",
        "start": START,
        "end": END,
        "organizer_id": "UANA",
        "provider_label": "Jitsi",
        "join_url": "https://meet.jit.si/retro",
        "status": "scheduled",
    }
    fields.update(changes)
    return Card(**fields)  # type: ignore[arg-type]


def valid(blocks: list[dict[str, object]]) -> None:
    for raw in blocks:
        parsed = Block.parse(raw)
        assert parsed is not None, raw
        parsed.validate_json()


def test_card_shows_local_time_tokens_and_escaped_title() -> None:
    blocks = render.card_blocks(card())
    valid(blocks)
    text = json.dumps(blocks)
    assert (
        f"<!date^{int(START.timestamp())}^{{date_short_pretty}} {{time}}|"
        f"{START:%Y-%m-%d} 15:00 UTC>" in text
    )
    assert f"<!date^{int(END.timestamp())}^{{time}}|15:30 UTC>" in text
    assert "Retro &lt;!here&gt; &amp; co" in text and "<!here>" not in text
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["meet_join", "meet_end", "meet_edit", "meet_cancel"]


def test_closed_card_has_no_buttons_and_says_so() -> None:
    blocks = render.card_blocks(card(join_url=None, status="ended"))
    valid(blocks)
    assert all(b["type"] != "actions" for b in blocks)
    assert "Ended" in json.dumps(blocks) and "meet.jit.si" not in json.dumps(blocks)


def test_only_real_slack_ids_become_mentions() -> None:
    assert render.mention("U012ABC") == "<@U012ABC>"
    assert render.mention("<!channel>") == "@&lt;!channel&gt;"


def test_reply_lists_items_and_private_links() -> None:
    item = ListItem("abc234", "A <b>", START, END, "scheduled", "https://j/x", "Mon 16:00")
    reply = Reply(
        "Meetings (1):",
        items=(item,),
        private=(Private("Your host link.", "https://j/x#host"),),
    )
    blocks = render.reply_blocks(reply)
    valid(blocks)
    text = json.dumps(blocks)
    assert "A &lt;b&gt;" in text and "https://j/x#host" in text
    assert "https://j/x#host" not in render.reply_text(reply)


def test_notice_carries_the_join_link() -> None:
    notice = Notice(NoticeKind.REMINDER, "abc234", "Retro", "starts soon", "https://j/x", START)
    blocks = render.notice_blocks(notice)
    valid(blocks)
    assert "https://j/x" in render.notice_text(notice)


def test_feedback_prompts_carry_five_ratings_and_a_comment_button() -> None:
    notice = Notice(NoticeKind.FEEDBACK, "abc234", "Retro", "has ended. How was it?")
    note = Private("How was “Retro”?", feedback_meeting_id="abc234")
    for blocks in (render.notice_blocks(notice), render.private_blocks(note)):
        valid(blocks)
        actions = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
        assert [e["action_id"] for e in actions] == [
            *(f"feedback_{n}" for n in range(1, 6)),
            "feedback_comment",
        ]
        assert {e["value"] for e in actions} == {"abc234"}
    plain_note = render.private_blocks(Private("Your host link.", "https://j/x#host"))
    assert all(b["type"] != "actions" for b in plain_note)


def test_action_ids_of_cards_already_posted_stay_the_same() -> None:
    """Cards from earlier versions still send these ids; renaming one would break them."""
    assert render.action_id(Button.END) == "meet_end"
    assert render.action_id(Button.CANCEL) == "meet_cancel"
    assert render.action_id(Button.COMMENT) == "feedback_comment"
    assert [render.action_id(Button.RATE, n) for n in render.SCORES] == [
        f"feedback_{n}" for n in range(1, 6)
    ]


def test_statuses_use_the_words_every_platform_shares() -> None:
    """Slack says what Discord says; an unknown status is shown escaped, never as mrkdwn."""
    ended = json.dumps(render.card_blocks(card(join_url=None, status="ended")))
    assert STATUS_WORDS["ended"] in ended
    item = ListItem("abc234", "Sync", START, END, "active", None, "Mon 16:00")
    assert STATUS_WORDS["active"] in json.dumps(render.item_block(item, 0))
    odd = render.card_blocks(card(join_url=None, status="<!here>"))
    assert "<!here>" not in json.dumps(odd) and "&lt;!here&gt;" in json.dumps(odd)


def test_unescape_undoes_exactly_what_slack_escapes() -> None:
    assert render.unescape("Q&amp;A &lt;v2&gt;") == "Q&A <v2>"
    assert render.unescape("&amp;lt; stays one level") == "&lt; stays one level"
    assert render.unescape("<@U123|ana> &quot; &#39;") == "<@U123|ana> &quot; &#39;"
    for text in ("a & b", "<!channel>", "&amp;&lt;"):
        assert render.unescape(render.escape(text)) == text


def test_comment_form_carries_meeting_and_channel_and_refuses_blank() -> None:
    context = modal.CommentContext("abc234", "CGENERAL")
    view = modal.comment_view(context, "Retro")
    assert view["callback_id"] == "feedback_comment"
    assert modal.CommentContext.load(view["private_metadata"]) == context
    assert modal.CommentContext.load("not json") == modal.CommentContext("", "")
    valid(view["blocks"])
    blank = {"comment": {"value": {"value": "  \n "}}}
    refused = modal.read_comment(blank)
    assert isinstance(refused, dict) and list(refused) == ["comment"]
    assert modal.read_comment({}) == refused
    assert modal.read_comment({"comment": {"value": {"value": " Good pace "}}}) == "Good pace"


def values(**fields: str) -> dict[str, dict[str, dict[str, str | dict[str, str]]]]:
    base = {"title": "Sync", "date": TUESDAY.isoformat(), "time": "10:00", "duration": "45m"}
    base.update(fields)
    out: dict[str, dict[str, dict[str, str | dict[str, str]]]] = {
        "title": {"value": {"value": base["title"]}},
        "date": {"value": {"selected_date": base["date"]}},
        "time": {"value": {"selected_time": base["time"]}},
        "duration": {"value": {"value": base["duration"]}},
    }
    for key in ("repeat", "remind"):
        if key in base:
            out[key] = {"value": {"selected_option": {"value": base[key]}}}
    return out


def test_form_submission_builds_requests_in_the_users_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    made = modal.read_submission(values(), now=NOW, tz=berlin)
    assert isinstance(made, CreateMeeting)
    assert made.start == at(TUESDAY, 10, 0, berlin)
    assert made.duration is not None and made.duration.total_seconds() == 45 * 60
    series = modal.read_submission(values(repeat="weekly"), now=NOW, tz=berlin)
    assert isinstance(series, CreateSeries) and series.rule.days == frozenset({1})
    assert modal.read_submission(values(time="25:00"), now=NOW, tz=berlin).keys() == {"time"}  # type: ignore[union-attr]
    past = modal.read_submission(
        values(date=(NOW.date() - timedelta(days=22)).isoformat()), now=NOW, tz=berlin
    )
    assert isinstance(past, dict) and "past" in past["time"]


def test_form_view_is_valid_block_kit() -> None:
    from slack_sdk.models.views import View

    view = modal.schedule_view(modal.FormContext("C1", "Europe/Berlin"), NOW)
    View(**view).validate_json()
    assert modal.FormContext.load(view["private_metadata"]).channel_id == "C1"


def test_manifest_asks_for_exactly_the_scopes_convene_uses() -> None:
    manifest = (Path(__file__).resolve().parents[2] / "manifest.yml").read_text()
    section = manifest.split("    bot:\n", 1)[1].split("settings:", 1)[0]
    assert set(re.findall(r"^\s+- ([a-z:.]+)\s*$", section, re.MULTILINE)) == set(SCOPES)
    assert "command: /meet" in manifest and "should_escape: false" in manifest


def test_authorize_page_follows_the_api_url() -> None:
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"
    assert authorize_url("https://slack-gov.com/api") == "https://slack-gov.com/oauth/v2/authorize"


# ---- RSVP, calendar links and notices that reach people ------------------------------------


def tally(going: int = 0, maybe: int = 0, no: int = 0) -> Tally:
    return Tally(
        going=tuple(f"UGO{n:03d}" for n in range(going)),
        maybe=tuple(f"UMAYBE{n:03d}" for n in range(maybe)),
        no=tuple(f"UNO{n:03d}" for n in range(no)),
    )


def context_texts(blocks: list[dict[str, object]]) -> list[str]:
    return [
        str(element["text"])  # type: ignore[index]
        for b in blocks
        if b["type"] == "context"
        for element in b["elements"]  # type: ignore[attr-defined]
    ]


def elements(blocks: list[dict[str, object]], block_id: str) -> list[dict[str, object]]:
    found = [b for b in blocks if b.get("block_id") == block_id]
    return list(found[0]["elements"]) if found else []  # type: ignore[call-overload]


def test_two_people_going_are_both_on_the_card_with_answer_buttons() -> None:
    blocks = render.card_blocks(card(rsvp=Tally(going=("UANA", "URAJ"), maybe=("ULEE",))))
    valid(blocks)
    assert "✅ 2 going: <@UANA>, <@URAJ> · 🤔 1 maybe · ❌ 0" in context_texts(blocks)
    answers = elements(blocks, "meet_rsvp")
    assert [(e["text"]["text"], e["action_id"]) for e in answers] == [  # type: ignore[index]
        ("Going", "meet_going"),
        ("Maybe", "meet_maybe"),
        ("Can't", "meet_no"),
        ("Remind me privately", "meet_remind_me"),
    ]
    assert {e["value"] for e in answers} == {"abc234"}


def test_a_long_going_list_names_five_then_counts_the_rest() -> None:
    blocks = render.card_blocks(card(rsvp=tally(going=12, no=3)))
    valid(blocks)
    [line] = [t for t in context_texts(blocks) if t.startswith("✅")]
    assert line.count("<@UGO") == CARD_NAMES
    assert line.startswith("✅ 12 going: <@UGO000>, ") and "+7 more · 🤔 0 maybe · ❌ 3" in line


def test_answer_ids_read_back_as_rsvp_requests() -> None:
    """What the card sends back is what the inbound side understands."""
    for button, answer in ANSWER_BUTTONS.items():
        press = inbound.button_press({"action_id": render.action_id(button), "value": "abc234"})
        assert press == Rsvp("abc234", answer.value, toggle=True)
    remind = {"action_id": render.action_id(Button.REMIND_ME), "value": "abc234"}
    assert inbound.button_press(remind) == RemindMe("abc234")
    link = {"action_id": render.action_id(Button.MY_LINK), "value": "abc234"}
    assert inbound.button_press(link) == PersonalLink("abc234")


def test_series_card_offers_going_to_all_and_personal_links_offer_my_link() -> None:
    blocks = render.card_blocks(
        card(rsvp=Tally(), series_id="ser234", status="active", personal_links=True)
    )
    valid(blocks)
    labels = [e["text"]["text"] for e in elements(blocks, "meet_rsvp")]  # type: ignore[index]
    assert labels == ["Going", "Maybe", "Can't", "Going to all", "Get my link"]
    assert "✅ 0 going · 🤔 0 maybe · ❌ 0" in context_texts(blocks)


def test_closed_or_answerless_card_has_no_answer_buttons() -> None:
    assert elements(render.card_blocks(card()), "meet_rsvp") == []
    closed = render.card_blocks(card(join_url=None, status="ended", rsvp=tally(going=2)))
    valid(closed)
    assert elements(closed, "meet_rsvp") == []


def test_calendar_links_are_link_buttons() -> None:
    links = CalendarLinks(
        "https://convene.example/calendar/tok.ics",
        "https://calendar.google.com/calendar/render?action=TEMPLATE",
        "https://outlook.live.com/calendar/0/action/compose",
    )
    blocks = render.card_blocks(card(calendar=links, rsvp=Tally()))
    valid(blocks)
    buttons = elements(blocks, "meet_calendar")
    assert [(b["text"]["text"], b["url"]) for b in buttons] == [  # type: ignore[index]
        ("Add to calendar", links.ics_url),
        ("Google", links.google),
        ("Outlook", links.outlook),
    ]
    # Link clicks are acknowledged by the listener that takes every meet_link… id.
    assert all(str(b["action_id"]).startswith(render.LINK_ACTION) for b in buttons)
    no_file = render.card_blocks(card(calendar=CalendarLinks(None, links.google, links.outlook)))
    assert [b["text"]["text"] for b in elements(no_file, "meet_calendar")] == [  # type: ignore[index]
        "Google",
        "Outlook",
    ]


def test_reminder_mentions_exactly_its_people_and_a_title_pings_nobody() -> None:
    title = "<!channel> party @everyone <!here|here> @here"
    notice = Notice(
        NoticeKind.REMINDER,
        "abc234",
        title,
        "starts in 10 minutes",
        "https://meet.jit.si/retro",
        START,
        mentions=("UANA", "URAJ", "UANA", "Bob Smith", "<!channel>", "@here"),
    )
    text = render.notice_text(notice)
    assert text.startswith("<@UANA> <@URAJ> :alarm_clock: Reminder: ")
    params = {"text": text, "blocks": render.notice_blocks(notice)}
    valid(render.notice_blocks(notice))
    assert forgeries(params, title, {"https://meet.jit.si/retro"}) == []
    for broadcast in ("<!channel>", "<!here", "<!everyone>"):
        assert broadcast not in json.dumps(params)
    assert re.findall(r"<@([A-Z0-9]+)>", json.dumps(params)) == ["UANA", "URAJ"] * 2


def test_notice_without_mentions_starts_with_its_words() -> None:
    notice = Notice(NoticeKind.STARTING, "abc234", "Retro", "is starting now", "https://j/x")
    assert render.notice_text(notice).startswith(":arrow_forward: “Retro”")
