"""Who is coming, on Discord: the card's answer buttons through the real discord.py
client and a loopback Discord, the card edited in place, reminders that may ping exactly
the people who said Going and the invitees, and a private reminder by direct message."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.models import Caller
from bot.requests import CreateMeeting
from tests.e2e.discord_harness import Running
from tests.e2e.test_discord_commands import ANA, RAJ, _answer, _content
from tests.emulators.discord import CHANNEL_ID, GUILD_ID, DiscordEmulator, Sent

LEE = 1700000000000000003
KIM = 1700000000000000004


def answers_field(sent: Sent) -> str:
    [embed] = sent.body["embeds"]
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == "Answers"), "")


async def book(emu: DiscordEmulator, bot: Running, invitees: tuple[str, ...] = ()) -> Sent:
    """A meeting in an hour, organized by Ana (with invitees, as Slack's `with` gives them)."""
    caller = Caller("discord", str(GUILD_ID), str(CHANNEL_ID), str(ANA), user_name="Ana")
    start = bot.h.clock() + timedelta(hours=1)
    reply = await bot.h.service.handle(
        caller, CreateMeeting(title="Sync", start=start, invitees=invitees)
    )
    assert reply.ok, reply.text
    return await emu.wait_for(lambda s: s.kind == "channel" and "Sync" in s.text)


def meeting_of(card: Sent) -> str:
    return str(card.body["embeds"][0]["footer"]["text"].split()[-1])


async def press(emu: DiscordEmulator, card: Sent, word: str, user_id: int) -> str:
    """Click one of the card's buttons as `user_id`; the private answer."""
    custom_id = f"convene:{word}:{meeting_of(card)}"
    clicked = await emu.click(custom_id, emu.card_message(card), user_id=user_id)
    answer = await _answer(emu, clicked)
    assert answer.ephemeral, answer.body
    return _content(answer)


async def test_two_people_press_going_and_the_card_shows_both(
    emu: DiscordEmulator, bot: Running
) -> None:
    card = await book(emu, bot)
    assert "going" in await press(emu, card, "going", ANA)
    assert "going" in await press(emu, card, "going", RAJ)
    edit = await emu.wait_for(
        lambda s: s.kind == "edit" and f"<@{ANA}>" in answers_field(s) and str(RAJ) in s.text
    )
    assert f"<@{ANA}>, <@{RAJ}>" in answers_field(edit)
    assert edit.body["allowed_mentions"]["parse"] == []  # the tally names, never pings
    assert not edit.body["allowed_mentions"].get("users")
    taken_back = await press(emu, card, "going", RAJ)
    assert "taken back" in taken_back


async def test_a_burst_of_fifty_presses_makes_only_a_few_edits(
    emu: DiscordEmulator, bot: Running
) -> None:
    card = await book(emu, bot)
    for n in range(50):
        await press(emu, card, "going", 1700000000000001000 + n)
    await emu.wait_for(lambda s: s.kind == "edit" and "50 going" in answers_field(s), 10.0)
    assert len([s for s in emu.sent if s.kind == "edit"]) <= 6


async def test_the_reminder_pings_exactly_who_is_coming_and_dms_who_asked(
    emu: DiscordEmulator, bot: Running
) -> None:
    card = await book(emu, bot, invitees=(str(LEE), "Raj Kumar", "everyone"))
    await press(emu, card, "going", ANA)
    await press(emu, card, "going", LEE)  # also invited: once
    asked = await press(emu, card, "remind-me", KIM)
    assert "privately" in asked
    bot.h.clock.advance(minutes=50)
    await bot.h.lifecycle.sweep()
    reminder = await emu.wait_for(lambda s: s.kind == "channel" and "starts in" in s.text)
    mentions = reminder.body["allowed_mentions"]
    assert mentions["parse"] == [] and not mentions.get("roles")
    assert [str(u) for u in mentions["users"]] == [str(ANA), str(LEE)]
    assert reminder.body["content"].startswith(f"<@{ANA}> <@{LEE}>")
    assert "@everyone" not in reminder.body["content"] and "Raj Kumar" not in json.dumps(mentions)
    assert str(reminder.body["message_reference"]["message_id"]) != ""  # under the card
    dm = await emu.wait_for(lambda s: s.kind == "dm" and "Reminder" in s.text)
    assert "Sync" in dm.body["content"]
    opened = [json.loads(r.body) for r in emu.calls("POST", "/users/@me/channels")]
    assert [str(o["recipient_id"]) for o in opened] == [str(KIM)]
    bot.h.clock.advance(minutes=10)
    await bot.h.lifecycle.sweep()
    starting = await emu.wait_for(
        lambda s: s.kind == "channel" and "starting now" in s.text and "message_reference" in s.body
    )
    assert [str(u) for u in starting.body["allowed_mentions"]["users"]] == [str(ANA), str(LEE)]


async def test_a_typed_rsvp_moves_the_card_as_a_press_does(
    emu: DiscordEmulator, bot: Running
) -> None:
    """The same answer typed (`/meet rsvp <id> maybe`) moves the card as a press does."""
    card = await book(emu, bot)
    caller = Caller("discord", str(GUILD_ID), str(CHANNEL_ID), str(RAJ), user_name="Raj")
    reply = await bot.h.service.run_text(caller, f"rsvp {meeting_of(card)} maybe")
    assert reply.ok and "maybe" in reply.text
    await emu.wait_for(lambda s: s.kind == "edit" and "1 maybe" in answers_field(s))
