"""Buttons across a restart, forms, delivery failures, rate limits and command sync,
through the real discord.py client and a loopback Discord."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.messages import Notice, NoticeKind, Private
from bot.models import Caller, MeetingStatus, Place
from bot.ports import DeliveryError
from bot.requests import CreateMeeting
from tests.e2e.discord_harness import (
    require_spec,
    running,
    validate_sent,
)
from tests.e2e.test_discord_commands import ANA, RAJ, _answer, _content, _now
from tests.emulators.discord import (
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    DiscordEmulator,
    Sent,
    rate_limit,
)

PLACE = Place(str(GUILD_ID), str(CHANNEL_ID))


def _button(card: Sent, label: str) -> str:
    buttons = card.body["components"][0]["components"]
    return str(next(b["custom_id"] for b in buttons if b.get("label") == label))


async def test_end_button_still_works_after_a_restart(emu: DiscordEmulator, db_file: str) -> None:
    async with running(emu, db_file):
        card = await _now(emu, "Retro")
    meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
    async with running(emu, db_file) as again:
        clicked = await emu.click(_button(card, "End"), emu.card_message(card), user_id=ANA)
        answer = await _answer(emu, clicked)
        assert answer.ephemeral and "Ended" in _content(answer)
        edit = await emu.wait_for(lambda s: s.kind == "edit")
        assert edit.body["components"] == []
        meeting = await again.h.core.get_meeting(meeting_id)
        assert meeting is not None and meeting.status is MeetingStatus.ENDED
    assert emu.identifies == 2


async def test_someone_elses_end_button_is_refused_privately(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        card = await _now(emu, "Retro")
        for label in ("End", "Cancel"):
            clicked = await emu.click(_button(card, label), emu.card_message(card), user_id=RAJ)
            answer = await _answer(emu, clicked)
            assert answer.ephemeral and "Only the organizer" in _content(answer)
        meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
        meeting = await bot.h.core.get_meeting(meeting_id)
        assert meeting is not None and meeting.status is MeetingStatus.ACTIVE
        assert not [s for s in emu.sent if s.kind == "edit"]


async def test_a_forged_button_id_names_no_meeting(emu: DiscordEmulator, db_file: str) -> None:
    async with running(emu, db_file):
        forged = emu.prompt_message("convene:end:zzzzzz")
        clicked = await emu.click("convene:end:zzzzzz", forged, user_id=ANA)
        assert "zzzzzz" in _content(await _answer(emu, clicked))


async def test_feedback_buttons_and_comment_form_for_an_unknown_meeting_answer_privately(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        message = emu.prompt_message("convene:feedback:abc234:4", "convene:comment:abc234")
        score = await emu.click("convene:feedback:abc234:4", message, user_id=RAJ)
        answer = await _answer(emu, score)
        assert answer.ephemeral and "abc234" in _content(answer)
        opened = await emu.click("convene:comment:abc234", message, user_id=RAJ)
        modal = await _answer(emu, opened)
        assert modal.body["type"] == 9
        assert modal.body["data"]["custom_id"] == "convene:comment-modal:abc234"
        submitted = await emu.submit_modal(
            "convene:comment-modal:abc234", {"convene:comment-text": "Great"}, user_id=RAJ
        )
        answer = await _answer(emu, submitted)
        assert answer.ephemeral and "abc234" in _content(answer)
        in_dm = await emu.submit_modal(
            "convene:comment-modal:abc234", {"convene:comment-text": "Great"}, user_id=RAJ, dm=True
        )
        answer = await _answer(emu, in_dm)
        assert answer.ephemeral and "no longer knows" in _content(answer)
        await asyncio.sleep(0.1)
        assert len(emu.answers_to(submitted)) == 1  # answered once, not twice
        assert await bot.h.core.store.value("SELECT COUNT(*) FROM feedback") == 0


async def test_forbidden_channel_tells_the_organizer_privately_and_keeps_running(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file):
        emu.fail(
            403,
            path_contains="/messages",
            body={"message": "Missing Permissions", "code": 50013},
        )
        asked = await emu.slash("now", {"title": "Hidden"}, user_id=ANA)
        answer = await _answer(emu, asked)
        text = _content(answer)
        assert answer.ephemeral and "not allowed" in text and "Send Messages" in text
        assert "https://meet.jit.si/" in text  # the join link still reaches the organizer
        assert not [s for s in emu.sent if s.kind == "channel"]
        await _now(emu, "Visible")  # the client is still serving


async def test_a_rate_limited_post_is_retried(emu: DiscordEmulator, db_file: str) -> None:
    async with running(emu, db_file):
        emu.fail(429, path_contains="/messages", **rate_limit(0.05))
        card = await _now(emu, "Busy")
        assert card.body["embeds"][0]["title"] == "Busy"
        posts = [r for r in emu.calls("POST", "/messages") if "/channels/" in r.path]
        assert len(posts) == 2


async def test_messenger_notices_reply_to_the_card_and_mention_only_invitees(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        caller = Caller("discord", str(GUILD_ID), str(CHANNEL_ID), str(ANA), "Ana")
        request = CreateMeeting("Plan", bot.h.clock() + timedelta(minutes=30), invitees=(str(RAJ),))
        reply = await bot.h.service.handle(caller, request)
        assert reply.ok, reply.text
        card = await emu.wait_for(lambda s: s.kind == "channel")
        assert f"<@{RAJ}>" in str(card.body["embeds"])
        meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
        meeting = await bot.h.core.get_meeting(meeting_id)
        assert meeting is not None and meeting.message_ref
        notice = Notice(
            NoticeKind.REMINDER,
            meeting_id,
            "Plan",
            "starts soon",
            meeting.join_url,
            mentions=meeting.invitees,
        )
        await bot.platform.messenger.post_notice(PLACE, notice, meeting.message_ref)
        posted = [s for s in emu.sent if s.kind == "channel"][-1]
        assert str(posted.body["message_reference"]["message_id"]) == meeting.message_ref
        mentions = posted.body["allowed_mentions"]
        assert mentions["parse"] == [] and [str(u) for u in mentions["users"]] == [str(RAJ)]
        assert posted.body["content"].startswith(f"<@{RAJ}>")
        await bot.platform.messenger.send_private(
            PLACE, str(ANA), Private("Just you", "https://x/h")
        )
        dm = await emu.wait_for(lambda s: s.kind == "dm")
        assert dm.channel_id == str(DM_CHANNEL_ID) and "https://x/h" in dm.body["content"]
        emu.fail(404, path_contains="/messages", body={"message": "Unknown Channel", "code": 10003})
        with pytest.raises(DeliveryError) as gone:
            await bot.platform.messenger.post_notice(PLACE, notice, None)
        assert gone.value.permanent and "no longer exists" in str(gone.value)
        emu.fail(
            400, path_contains="/messages", body={"message": "Invalid Form Body", "code": 50035}
        )
        with pytest.raises(DeliveryError) as odd:
            await bot.platform.messenger.post_notice(PLACE, notice, None)
        assert not odd.value.permanent


async def test_global_commands_are_synced_only_when_they_change(
    emu: DiscordEmulator, tmp_path: Path
) -> None:
    db_file = str(tmp_path / "global.db")
    for _ in range(2):
        async with running(emu, db_file, guild_ids=()):
            pass
    puts = [r for r in emu.requests if r.method == "PUT"]
    assert [r.path for r in puts] == ["/api/v10/applications/1100000000000000001/commands"]


async def test_sent_bodies_match_discords_openapi_description(
    emu: DiscordEmulator, db_file: str
) -> None:
    require_spec()
    async with running(emu, db_file):
        card = await _now(emu, "Checked")
        clicked = await emu.click(
            "convene:end:" + card.body["embeds"][0]["footer"]["text"][-6:],
            emu.card_message(card),
            user_id=ANA,
        )
        await _answer(emu, clicked)
        await emu.wait_for(lambda s: s.kind == "edit")
        asked = await emu.slash("tz", {"zone": "berl"}, user_id=ANA, focused="zone")
        await _answer(emu, asked)
    kinds = {(r.method, r.path.split("/")[3]) for r in emu.requests if r.body}
    assert {("PUT", "applications"), ("POST", "channels"), ("PATCH", "channels")} <= kinds
    assert {("POST", "interactions"), ("POST", "webhooks")} <= kinds
    assert validate_sent(emu) >= 6


async def test_feedback_prompts_carry_rating_buttons_and_closed_dms_are_permanent(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        prompt = Notice(NoticeKind("feedback"), "abc234", "Plan", "How was it?")
        await bot.platform.messenger.post_notice(PLACE, prompt, None)
        posted = await emu.wait_for(lambda s: s.kind == "channel")
        ids = [b["custom_id"] for row in posted.body["components"] for b in row["components"]]
        assert ids[0] == "convene:feedback:abc234:1" and ids[-1] == "convene:comment:abc234"
        emu.fail(403, path_contains="/messages", body={"message": "Cannot send", "code": 50007})
        with pytest.raises(DeliveryError) as closed:
            await bot.platform.messenger.send_private(PLACE, str(RAJ), Private("Hi"))
        assert closed.value.permanent and "direct message" in str(closed.value)
