"""Slack payloads → convene's requests and ids, and the wrapper the listeners share
after their ack; without any network.

The payloads are shaped like Slack's (the emulator's builders), and the context is
the one bolt itself builds from such a body, so these tests also hold convene to
where bolt reads the verified user from.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack import inbound, modal
from adapters.slack.handlers import Work, after_ack
from adapters.slack.inbound import Who
from bot.messages import Reply
from bot.requests import Button, CancelMeeting, CreateMeeting, EndMeeting, RateMeeting
from bot.service import OOPS
from tests.emulators import slack as emu
from tests.moments import BERLIN, at, next_monday_at

NOW = next_monday_at(9)
TUESDAY = NOW.date() + timedelta(days=1)
URL = "https://hooks.slack.test/response/1"


def context_of(body: dict[str, Any]) -> AsyncBoltContext:
    """The context bolt builds for this body (Socket Mode takes a parsed body as it is)."""
    return AsyncBoltRequest(body=body, mode="socket_mode").context


def click(action_id: str, value: str, **kwargs: Any) -> tuple[dict[str, Any], AsyncBoltContext]:
    body = emu.action_payload(action_id, value, response_url=URL, **kwargs)
    return body["actions"][0], context_of(body)


def test_a_command_is_asked_by_its_verified_user_in_its_channel() -> None:
    command = emu.command_payload("/meet Retro with <@URAJ>", response_url=URL, channel="CDEV")
    who = inbound.command_who(command, context_of(command))
    assert who == Who(emu.TEAM, "CDEV", "UANA", "uana")


def test_command_ids_fall_back_to_the_body_and_ignore_non_strings() -> None:
    command: dict[str, Any] = {"team_id": "T1", "channel_id": "C1", "user_id": "U1"}
    assert inbound.command_who(command, {}) == Who("T1", "C1", "U1")
    odd: dict[str, Any] = {"team_id": 7, "channel_id": None, "user_id": {"id": "UBOSS"}}
    assert inbound.command_who(odd, {}) == Who("", "", "")


def test_command_text_is_what_the_user_typed() -> None:
    """Slack escapes &, < and >; mentions arrive as they are and stay mentions."""
    command = emu.command_payload('"Q&A <v2> &lt;" with <@URAJ>', response_url=URL)
    assert inbound.command_text(command) == '"Q&A <v2> &lt;" with <@URAJ>'
    assert inbound.command_text({}) == ""
    assert inbound.command_text({"text": ["not", "text"]}) == ""


def test_the_old_action_ids_still_ask_the_same_things() -> None:
    """Cards posted by earlier versions send these ids; each must still be understood."""
    cases = {
        "meet_end": EndMeeting("abc234"),
        "meet_cancel": CancelMeeting("abc234"),
        **{f"feedback_{n}": RateMeeting("abc234", n) for n in range(1, 6)},
    }
    for action_id, expected in cases.items():
        action, _ = click(action_id, "abc234")
        assert inbound.button_press(action) == expected, action_id
    assert inbound.pressed("feedback_comment") == (Button.COMMENT, None)


def test_unknown_buttons_ask_nothing() -> None:
    for action_id in ("feedback_comment", "feedback_0", "feedback_6", "feedback_٣", "meet_x", ""):
        action, _ = click(action_id, "abc234")
        assert inbound.button_press(action) is None, action_id
    assert inbound.score_of("feedback_3") == 3 and inbound.score_of("feedback_03") is None


def test_a_forged_button_value_cannot_name_another_user() -> None:
    """The value is typed by whoever crafts the payload: it names a meeting, no one else."""
    forged = json.dumps({"user": "UBOSS", "team": "TOTHER", "meeting": "abc234"})
    action, context = click("meet_cancel", forged, user="URAJ", channel="CDEV")
    request = inbound.button_press(action)
    assert isinstance(request, CancelMeeting) and request.meeting_id == forged[:40]
    assert inbound.action_who(context) == Who(emu.TEAM, "CDEV", "URAJ")


def test_a_button_value_names_at_most_an_ids_length() -> None:
    action, _ = click("feedback_4", "x" * 500)
    assert inbound.button_press(action) == RateMeeting("x" * 40, 4)
    assert inbound.meeting_of({"value": 12345}) == ""


def test_a_button_on_a_private_message_still_has_its_channel() -> None:
    """Ratings on the organizer's ephemeral prompt carry no message, still a channel."""
    action, context = click("feedback_2", "abc234", ephemeral=True)
    assert inbound.action_who(context) == Who(emu.TEAM, "CGENERAL", "UANA")
    assert inbound.button_press(action) == RateMeeting("abc234", 2)


def form_values(day: str = TUESDAY.isoformat(), clock: str = "10:00") -> dict[str, Any]:
    return {
        "title": {"value": {"type": "plain_text_input", "value": "Planning"}},
        "date": {"value": {"type": "datepicker", "selected_date": day}},
        "time": {"value": {"type": "timepicker", "selected_time": clock}},
        "duration": {"value": {"type": "plain_text_input", "value": "45m"}},
    }


def test_the_scheduling_form_is_read_in_the_zone_it_was_opened_in() -> None:
    metadata = modal.FormContext("CDEV", "Europe/Berlin").dump()
    body = emu.view_payload(form_values(), metadata)
    form, request = inbound.schedule_submission(body["view"], now=NOW)
    assert form.channel_id == "CDEV"
    assert isinstance(request, CreateMeeting) and request.title == "Planning"
    assert request.start == at(TUESDAY, 10, 0, BERLIN)
    assert inbound.form_who(context_of(body), form.channel_id) == Who(emu.TEAM, "CDEV", "UANA")


def test_a_form_answers_its_verified_user_whatever_the_metadata_says() -> None:
    metadata = json.dumps({"channel": "CDEV", "tz": "UTC", "user": "UBOSS"})
    body = emu.view_payload(form_values(), metadata, user="URAJ")
    form, _ = inbound.schedule_submission(body["view"], now=NOW)
    assert inbound.form_who(context_of(body), form.channel_id).user_id == "URAJ"


def test_a_malformed_form_is_errors_under_its_fields_not_a_crash() -> None:
    odd_values = {"date": TUESDAY.isoformat(), "time": {"value": 3}, "repeat": {"value": []}}
    views: tuple[dict[str, Any], ...] = (
        {},
        {"state": None},
        {"state": {"values": []}},
        {"state": {"values": odd_values}},
    )
    for view in (*views, {"private_metadata": 42}):
        form, result = inbound.schedule_submission(view, now=NOW)
        assert form == modal.FormContext("", "UTC")
        assert isinstance(result, dict) and {"date", "time"} <= result.keys()
    past = emu.view_payload(
        form_values(day=(NOW.date() - timedelta(days=22)).isoformat()),
        modal.FormContext("C", "UTC").dump(),
    )
    _, result = inbound.schedule_submission(past["view"], now=NOW)
    assert isinstance(result, dict) and "past" in result["time"]


def test_a_comment_is_a_rating_without_a_score_for_the_meeting_it_was_opened_for() -> None:
    metadata = modal.CommentContext("abc234", "CDEV").dump()
    values = {"comment": {"value": {"type": "plain_text_input", "value": "  Good pace  "}}}
    body = emu.view_payload(values, metadata, callback_id=modal.COMMENT_CALLBACK_ID)
    form, request = inbound.comment_submission(body["view"])
    assert form.channel_id == "CDEV"
    assert request == RateMeeting("abc234", None, "Good pace")
    blank = emu.view_payload({}, metadata, callback_id=modal.COMMENT_CALLBACK_ID)
    _, refused = inbound.comment_submission(blank["view"])
    assert isinstance(refused, dict) and list(refused) == [modal.COMMENT_BLOCK]


# ---- the one wrapper every listener runs its work in, after the ack ---------------------------


async def answers_of(work: Work, failed: Reply | None = None) -> list[Reply]:
    answered: list[Reply] = []

    async def answer(reply: Reply) -> None:
        answered.append(reply)

    await after_ack("the test listener", work, answer, failed)
    return answered


async def test_a_failure_after_the_ack_is_logged_and_answered_in_one_private_sentence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken() -> Reply | None:
        raise RuntimeError("secret-host-key in a provider's answer")

    assert await answers_of(broken) == [Reply(OOPS, ok=False)]
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "the test listener failed" in record.getMessage() and record.exc_info
    fallback = Reply("Type it instead.", ok=False)
    assert await answers_of(broken, fallback) == [fallback]


async def test_work_that_answers_elsewhere_sends_nothing_more() -> None:
    async def opened_a_form() -> Reply | None:
        return None

    async def done() -> Reply | None:
        return Reply("Done.")

    assert await answers_of(opened_a_form) == []
    assert await answers_of(done) == [Reply("Done.")]
