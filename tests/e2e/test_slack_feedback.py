"""Feedback after a meeting, through the real slack_bolt and slack_sdk and the emulator:
the prompt's buttons, ratings that can change, a comment through the modal, the
window closing, and command text that Slack escapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.e2e.slack_rig import Rig, block_problems, needs_spec, running, spec_problems
from tests.emulators import slack as emu

RATINGS = [f"feedback_{n}" for n in range(1, 6)]


async def say(rig: Rig, text: str, user: str = "UANA") -> dict[str, Any]:
    """Run `/meet …` and return its private answer."""
    seen = len(rig.slack.responses)
    status, _ = await rig.command(text, user=user)
    assert status == 200
    return (await rig.slack.wait_for_responses(seen + 1))[seen]


async def click(
    rig: Rig, action_id: str, meeting_id: str, user: str = "UANA", ephemeral: bool = False
) -> dict[str, Any]:
    """Click a feedback button and return the private answer to it."""
    seen = len(rig.slack.responses)
    payload = emu.action_payload(
        action_id,
        meeting_id,
        response_url=rig.slack.response_url_for(f"click-{seen}"),
        user=user,
        block_id="feedback",
        ephemeral=ephemeral,
    )
    status, _ = await rig.client.interaction(payload)
    assert status == 200
    return (await rig.slack.wait_for_responses(seen + 1))[seen]


def buttons(blocks: Any) -> list[dict[str, Any]]:
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


async def ended_meeting(rig: Rig, title: str = "Retro") -> str:
    """A meeting started now and ended with /meet end; returns its id."""
    posts = len(rig.slack.calls_to("chat.postMessage"))
    privates = len(rig.slack.calls_to("chat.postEphemeral"))
    await say(rig, f"/meet {title}")
    card = (await rig.slack.wait_for("chat.postMessage", posts + 1))[posts]
    [end] = [b for b in buttons(card.params["blocks"]) if b["action_id"] == "meet_end"]
    meeting_id = str(end["value"])
    ended = await say(rig, f"/meet end {meeting_id}")
    assert "Sorry" not in ended["text"], ended["text"]
    await rig.slack.wait_for("chat.postMessage", posts + 3)  # "has ended", then the prompt
    await rig.slack.wait_for("chat.postEphemeral", privates + 1)  # the organizer's prompt
    return meeting_id


def prompts(rig: Rig) -> list[emu.ApiCall]:
    return [c for c in rig.slack.calls_to("chat.postMessage") if "How was it?" in c.params["text"]]


def first_line(response: dict[str, Any]) -> str:
    return str(response["text"]).splitlines()[0]


async def test_ending_prompts_under_the_card_and_privately_with_five_buttons(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await ended_meeting(rig)
        [prompt] = prompts(rig)
        assert prompt.params["thread_ts"] == rig.slack.posted_ts[0]  # under the card
        public = buttons(prompt.params["blocks"])
        assert [b["action_id"] for b in public] == [*RATINGS, "feedback_comment"]
        assert [b["text"]["text"] for b in public[:5]] == ["1", "2", "3", "4", "5"]
        assert {b["value"] for b in public} == {meeting_id}
        [private] = rig.slack.calls_to("chat.postEphemeral")
        assert private.params["user"] == "UANA" and private.params["channel"] == "CGENERAL"
        assert [b["action_id"] for b in buttons(private.params["blocks"])] == [
            *RATINGS,
            "feedback_comment",
        ]
        assert block_problems(rig.slack.api) == []


@needs_spec
async def test_feedback_payloads_match_the_web_api_spec(tmp_path: Path) -> None:
    """The prompt under the card, the private prompt, the comment form and its answer."""
    async with running(tmp_path) as rig:
        meeting_id = await ended_meeting(rig)
        payload = emu.action_payload(
            "feedback_comment",
            meeting_id,
            response_url=rig.slack.response_url_for("comment"),
            block_id="feedback",
        )
        await rig.client.interaction(payload)
        [opened] = await rig.slack.wait_for("views.open")
        view = opened.params["view"]
        metadata = (json.loads(view) if isinstance(view, str) else view)["private_metadata"]
        values = {"comment": {"value": {"type": "plain_text_input", "value": "Good"}}}
        await rig.client.interaction(
            emu.view_payload(values, metadata, callback_id="feedback_comment")
        )
        await rig.slack.wait_for("chat.postEphemeral", 2)
        assert spec_problems(rig.slack.api) == []


async def test_a_comment_form_slack_refuses_is_answered_with_the_typed_way(
    tmp_path: Path,
) -> None:
    """An expired trigger must not leave the click unanswered: the user learns what to type."""
    async with running(tmp_path) as rig:
        meeting_id = await ended_meeting(rig)
        rig.slack.error_next("views.open", "expired_trigger_id")
        answer = await click(rig, "feedback_comment", meeting_id)
        assert answer["response_type"] == "ephemeral"
        assert f"/meet rate {meeting_id} 4 your comment" in answer["text"]


async def test_clicks_and_a_comment_add_up_in_the_summary(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await ended_meeting(rig)

        thanks = await click(rig, "feedback_4", meeting_id)
        assert thanks["response_type"] == "ephemeral" and thanks["replace_original"] is False
        assert "you rated “Retro” 4/5" in thanks["text"]
        summary = await say(rig, f"/meet feedback {meeting_id}")
        assert "1 response, average 4.0 out of 5." in first_line(summary)

        changed = await click(rig, "feedback_2", meeting_id, ephemeral=True)
        assert "2/5" in changed["text"]
        await click(rig, "feedback_5", meeting_id, user="URAJ")

        # The comment: the button opens the modal, which remembers meeting and channel.
        seen = len(rig.slack.responses)
        payload = emu.action_payload(
            "feedback_comment",
            meeting_id,
            response_url=rig.slack.response_url_for("comment"),
            block_id="feedback",
            trigger_id="trigger-comment",
        )
        await rig.client.interaction(payload)
        [opened] = await rig.slack.wait_for("views.open")
        assert opened.params["trigger_id"] == "trigger-comment"
        view = opened.params["view"]
        view = json.loads(view) if isinstance(view, str) else view
        assert view["callback_id"] == "feedback_comment"
        assert json.loads(view["private_metadata"]) == {
            "meeting": meeting_id,
            "channel": "CGENERAL",
        }
        assert "“Retro”" in json.dumps(view["blocks"], ensure_ascii=False)

        def comment(text: str) -> dict[str, Any]:
            values = {"comment": {"value": {"type": "plain_text_input", "value": text}}}
            return emu.view_payload(
                values, view["private_metadata"], callback_id="feedback_comment"
            )

        status, body = await rig.client.interaction(comment("   "))
        assert status == 200
        refused = json.loads(body)
        assert refused["response_action"] == "errors" and "comment" in refused["errors"]
        assert len(rig.slack.calls_to("chat.postEphemeral")) == 1  # only the prompt so far

        status, body = await rig.client.interaction(comment("Good pace & <clear> notes"))
        assert status == 200 and "errors" not in body
        [_, answer] = await rig.slack.wait_for("chat.postEphemeral", 2)
        assert answer.params["channel"] == "CGENERAL" and answer.params["user"] == "UANA"
        assert "you commented" in answer.params["text"]
        assert len(rig.slack.responses) == seen  # the modal answers in the channel, not here

        summary = await say(rig, f"/meet feedback {meeting_id}")
        lines = summary["text"].splitlines()
        assert "2 responses, average 3.5 out of 5." in lines[0]
        assert "5 ★ █ 1" in lines and "2 ★ █ 1" in lines and "4 ★  0" in lines
        assert "“Good pace &amp; &lt;clear&gt; notes”" in lines  # escaped for mrkdwn
        assert block_problems(rig.slack.api) == []


async def test_a_click_after_the_window_closed_is_refused_politely(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        meeting_id = await ended_meeting(rig)
        await click(rig, "feedback_3", meeting_id)
        rig.clock.advance(hours=25)  # the default window is 24 hours
        late = await click(rig, "feedback_5", meeting_id, user="URAJ")
        assert late["response_type"] == "ephemeral"
        assert "closed on" in late["text"] and "thank you all the same" in late["text"]
        assert late["text"].startswith("Sorry: ")
        summary = await say(rig, f"/meet feedback {meeting_id}")
        assert "1 response, average 3.0 out of 5." in first_line(summary)


async def test_clicks_on_unknown_or_unended_meetings_are_answered_not_recorded(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        await say(rig, "/meet Later in 2h")
        [card] = await rig.slack.wait_for_cards()
        later = next(b["value"] for b in buttons(card.params["blocks"]) if b.get("value"))
        early = await click(rig, "feedback_4", later)
        assert early["response_type"] == "ephemeral"
        assert "opens when it has ended" in early["text"]
        meeting_id = await ended_meeting(rig)
        foreign = await click(rig, "feedback_5", "zzzzzz")
        assert "can't find a meeting" in foreign["text"]
        summary = await say(rig, f"/meet feedback {meeting_id}")
        assert "0 responses." in first_line(summary)


async def test_command_text_is_unescaped_once_and_mentions_stay(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        typed = '/meet "Q&A <v2> &lt;" with <@URAJ> in 10m'
        await say(rig, typed)
        [card] = await rig.slack.wait_for_cards()
        sent = emu.slack_escape(typed)
        assert "Q&amp;A &lt;v2&gt; &amp;lt;" in sent and "<@URAJ>" in sent  # as Slack sends it
        blocks = json.dumps(card.params["blocks"])
        assert "*Q&amp;A &lt;v2&gt; &amp;lt;*" in blocks  # the title is what was typed
        assert "“Q&amp;A &lt;v2&gt; &amp;lt;”" in card.params["text"]
        assert "With <@URAJ>" in blocks
        listing = await say(rig, "/meet list")
        assert "Q&amp;A &lt;v2&gt; &amp;lt;" in json.dumps(listing["blocks"])


async def test_the_comment_form_names_the_title_only_in_the_meetings_own_channel(
    tmp_path: Path,
) -> None:
    """A button's value is user-controlled: an id sent from another channel opens a form
    that says "meeting <id>", so the title is not shown to whoever knows the id."""
    async with running(tmp_path) as rig:
        meeting_id = await ended_meeting(rig, "Secret merger")
        payload = emu.action_payload(
            "feedback_comment",
            meeting_id,
            response_url=rig.slack.response_url_for("elsewhere"),
            channel="COTHER",
            user="URAJ",
            block_id="feedback",
        )
        await rig.client.interaction(payload)
        [opened] = await rig.slack.wait_for("views.open")
        view = opened.params["view"]
        shown = json.dumps(json.loads(view) if isinstance(view, str) else view)
        assert "Secret merger" not in shown and f"meeting {meeting_id}" in shown
