"""Feedback after a meeting on Discord: the prompt under the card and in direct
messages, ratings and comments from its buttons and form, the closed window, and
a restart, through the real discord.py client and a loopback Discord."""

from __future__ import annotations

from dataclasses import dataclass

from bot.providers.webhooks import ProviderEvent
from tests.e2e.discord_harness import running
from tests.e2e.test_discord_commands import ANA, RAJ, _answer, _content, _now
from tests.emulators.discord import GUILD_ID, DiscordEmulator, Sent
from tests.fakes import host_link_of


@dataclass
class Prompted:
    meeting_id: str
    card: Sent
    public: Sent  # the reply under the card
    dm: Sent  # the organizer's direct message


def _ids(sent: Sent) -> list[str]:
    rows = sent.body.get("components") or []
    return [b["custom_id"] for row in rows for b in row["components"] if "custom_id" in b]


def _is_prompt(sent: Sent) -> bool:
    return any(i.startswith("convene:feedback:") for i in _ids(sent))


def _prompts(emu: DiscordEmulator, kind: str) -> list[Sent]:
    return [s for s in emu.sent if s.kind == kind and _is_prompt(s)]


async def _ended(emu: DiscordEmulator, title: str = "Retro") -> Prompted:
    """A meeting started and ended with `/meet end` by its organizer, Ana."""
    card = await _now(emu, title)
    meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
    ended = await emu.slash("end", {"meeting": meeting_id}, user_id=ANA)
    assert "Ended" in _content(await _answer(emu, ended))
    public = await emu.wait_for(lambda s: s.kind == "channel" and _is_prompt(s))
    dm = await emu.wait_for(lambda s: s.kind == "dm" and _is_prompt(s))
    return Prompted(meeting_id, card, public, dm)


async def _click(emu: DiscordEmulator, prompt: Sent, custom_id: str, *, user_id: int = ANA) -> str:
    """Click a button of a prompt where it was posted; return the private answer."""
    in_dm = prompt.kind == "dm"
    message = emu.dm_message(prompt) if in_dm else emu.card_message(prompt)
    clicked = await emu.click(custom_id, message, user_id=user_id, dm=in_dm)
    answer = await _answer(emu, clicked)
    assert answer.ephemeral, answer.body
    return _content(answer)


async def _comment(
    emu: DiscordEmulator, prompt: Sent, meeting_id: str, text: str, *, user_id: int = ANA
) -> str:
    """Open the comment form from a prompt and submit it; return the private answer."""
    in_dm = prompt.kind == "dm"
    message = emu.dm_message(prompt) if in_dm else emu.card_message(prompt)
    opened = await emu.click(f"convene:comment:{meeting_id}", message, user_id=user_id, dm=in_dm)
    form = await _answer(emu, opened)
    assert form.body["type"] == 9  # a modal
    assert form.body["data"]["custom_id"] == f"convene:comment-modal:{meeting_id}"
    fields = {"convene:comment-text": text}
    submitted = await emu.submit_modal(
        form.body["data"]["custom_id"], fields, user_id=user_id, dm=in_dm
    )
    answer = await _answer(emu, submitted)
    assert answer.ephemeral, answer.body
    return _content(answer)


async def _summary(emu: DiscordEmulator, meeting_id: str) -> str:
    asked = await emu.slash("feedback", {"meeting": meeting_id}, user_id=ANA)
    answer = await _answer(emu, asked)
    assert answer.ephemeral
    return _content(answer)


async def test_ending_a_meeting_prompts_under_the_card_and_the_organizer_privately(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        got = await _ended(emu)
        meeting = await bot.h.core.get_meeting(got.meeting_id)
        assert meeting is not None and meeting.message_ref
        reference = got.public.body["message_reference"]
        assert str(reference["message_id"]) == meeting.message_ref
        assert "Retro" in got.public.body["content"] and "Rate it from 1 to 5" in got.public.text
        expected = [f"convene:feedback:{got.meeting_id}:{n}" for n in range(1, 6)]
        expected.append(f"convene:comment:{got.meeting_id}")
        assert _ids(got.public) == expected and _ids(got.dm) == expected
        labels = [b["label"] for row in got.dm.body["components"] for b in row["components"]]
        assert labels == ["1", "2", "3", "4", "5", "Add a comment"]
        assert "How was" in got.dm.body["content"]
        assert got.public.body["allowed_mentions"]["parse"] == []
        host_url = await host_link_of(bot.h.core, meeting.id)
        assert all(host_url not in s.text for s in emu.public())


async def test_ratings_change_and_comments_reach_the_summary(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file):
        got = await _ended(emu)
        mid = got.meeting_id
        first = await _click(emu, got.dm, f"convene:feedback:{mid}:4")
        assert "4/5" in first and "⚠️" not in first
        assert "1 response, average 4.0 out of 5." in await _summary(emu, mid)

        changed = await _click(emu, got.public, f"convene:feedback:{mid}:2")
        assert "2/5" in changed
        assert "1 response, average 2.0 out of 5." in await _summary(emu, mid)

        said = await _comment(emu, got.dm, mid, "Good pace, too long")
        assert "commented" in said
        summary = await _summary(emu, mid)
        assert "1 response, average 2.0 out of 5." in summary  # a comment keeps the score
        assert "Good pace, too long" in summary

        assert "5/5" in await _click(emu, got.public, f"convene:feedback:{mid}:5", user_id=RAJ)
        assert "commented" in await _comment(emu, got.public, mid, "Nice", user_id=RAJ)
        summary = await _summary(emu, mid)
        assert "2 responses, average 3.5 out of 5." in summary and "Nice" in summary


async def test_answers_after_the_window_closes_are_refused_politely(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        got = await _ended(emu)
        # The window was fixed when the prompt went out: only time passing closes it.
        window = (await bot.h.core.settings_for("discord", str(GUILD_ID))).feedback_window
        bot.h.clock.advance(seconds=window.total_seconds() + 1)
        late = await _click(emu, got.dm, f"convene:feedback:{got.meeting_id}:4")
        assert "closed" in late and "thank you all the same" in late
        late_comment = await _comment(emu, got.public, got.meeting_id, "Too late?")
        assert "closed" in late_comment
        summary = await _summary(emu, got.meeting_id)
        assert "0 responses." in summary and "Too late" not in summary


async def test_nobody_is_prompted_twice_across_a_restart_and_old_prompts_still_work(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file):
        got = await _ended(emu)
    assert (len(_prompts(emu, "channel")), len(_prompts(emu, "dm"))) == (1, 1)
    async with running(emu, db_file) as again:
        meeting = await again.h.core.get_meeting(got.meeting_id)
        assert meeting is not None
        await again.h.lifecycle.sweep()
        await again.h.service.feedback.prompt(meeting)  # a second end path, after the restart
        rated = await _click(emu, got.dm, f"convene:feedback:{got.meeting_id}:3")
        assert "3/5" in rated
        form = f"convene:comment-modal:{got.meeting_id}"  # a form opened before the restart
        fields = {"convene:comment-text": "Worth it"}
        submitted = await emu.submit_modal(form, fields, user_id=ANA, dm=True)
        assert "commented" in _content(await _answer(emu, submitted))
        summary = await _summary(emu, got.meeting_id)
        assert "1 response, average 3.0 out of 5." in summary and "Worth it" in summary
    assert (len(_prompts(emu, "channel")), len(_prompts(emu, "dm"))) == (1, 1)
    assert emu.identifies == 2


async def test_attendees_known_only_by_a_provider_name_are_not_messaged(
    emu: DiscordEmulator, db_file: str
) -> None:
    async with running(emu, db_file) as bot:
        card = await _now(emu, "Sync")
        meeting = await bot.h.core.get_meeting(card.body["embeds"][0]["footer"]["text"].split()[-1])
        assert meeting is not None
        joined = ProviderEvent("jitsi", "joined", meeting.room_id, "Lee (guest)", "j1")
        await bot.h.service.on_provider_event(joined)
        ended = ProviderEvent("jitsi", "ended", meeting.room_id, None, "e1")
        await bot.h.service.on_provider_event(ended)
        await emu.wait_for(lambda s: s.kind == "channel" and _is_prompt(s))
        assert len(_prompts(emu, "dm")) == 1  # the organizer; the guest has no Discord id
        assert len(emu.calls("POST", "/users/@me/channels")) == 1
