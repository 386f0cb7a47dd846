"""Invitees, nofeedback and the scheduling form on Discord, through the real discord.py
client and a loopback Discord: who a card lists, who a reminder pings, and that a role
is expanded to people and never pinged itself."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import discord

from adapters.discord import forms
from tests.e2e.discord_harness import Running
from tests.e2e.test_discord_commands import ANA, RAJ, _answer, _content
from tests.emulators.discord import GUILD_ID, DiscordEmulator, Sent
from tests.moments import at

LEE = 1700000000000000003
KIM = 1700000000000000004
DESIGN = 1800000000000000001  # a role


def with_field(card: Sent) -> str:
    [embed] = card.body["embeds"]
    return next((f["value"] for f in embed.get("fields", []) if f["name"] == "With"), "")


def cards(emu: DiscordEmulator) -> list[Sent]:
    return [s for s in emu.sent if s.kind == "channel" and s.body.get("embeds")]


async def design_role(emu: DiscordEmulator, bot: Running) -> None:
    """A role held by Lee and Kim, whom the client has met. The client caches members
    as it would with the privileged members intent granted (convene asks for none)."""
    client = bot.platform.client
    client._connection.member_cache_flags = discord.MemberCacheFlags.all()
    await emu.add_role(DESIGN, "design", (LEE, KIM))
    for _ in range(500):
        guild = client.get_guild(GUILD_ID)
        role = guild.get_role(DESIGN) if guild else None
        if role is not None and len(role.members) == 2:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the client never learned the role's members")


async def reminder(emu: DiscordEmulator, bot: Running) -> Sent:
    """Run time to ten minutes before a meeting booked an hour ahead; its reminder."""
    bot.h.clock.advance(minutes=50)
    await bot.h.lifecycle.sweep()
    return await emu.wait_for(lambda s: s.kind == "channel" and "starts in" in s.text)


async def schedule(emu: DiscordEmulator, options: dict[str, object]) -> tuple[Sent, Sent]:
    """`/meet schedule` by Ana, an hour from now; the card and Ana's private answer."""
    asked = await emu.slash("schedule", {"title": "Sync", "when": "in 1h", **options}, user_id=ANA)
    answer = await _answer(emu, asked)
    assert answer.ephemeral, answer.body
    card = await emu.wait_for(lambda s: s.kind == "channel" and "Sync" in s.text)
    return card, answer


async def refused(emu: DiscordEmulator, sub: str, options: dict[str, object]) -> str:
    """The private answer to a command that must book nothing."""
    asked = await emu.slash(sub, options, user_id=ANA)
    answer = await _answer(emu, asked)
    assert answer.ephemeral, answer.body
    assert answer.body.get("type", 4) == 4, answer.body  # answered at once, never deferred
    assert not cards(emu)
    text = _content(answer)
    assert "\n" not in text and text.startswith("⚠️")
    return text


async def test_with_a_person_lists_them_and_the_reminder_pings_exactly_them(
    emu: DiscordEmulator, bot: Running
) -> None:
    card, _ = await schedule(emu, {"with": f"<@{RAJ}>"})
    assert with_field(card) == f"<@{RAJ}>"
    sent = await reminder(emu, bot)
    mentions = sent.body["allowed_mentions"]
    assert [str(u) for u in mentions["users"]] == [str(RAJ)]
    assert mentions["parse"] == [] and not mentions.get("roles")
    assert sent.body["content"].startswith(f"<@{RAJ}> ")


async def test_a_role_invites_its_members_and_is_never_pinged(
    emu: DiscordEmulator, bot: Running
) -> None:
    await design_role(emu, bot)
    card, _ = await schedule(emu, {"with": f"<@{RAJ}>, <@&{DESIGN}> and <@!{LEE}>"})
    assert with_field(card) == f"<@{RAJ}> <@{LEE}> <@{KIM}>"  # each once, the role as people
    meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
    assert await bot.h.service.invitees(meeting_id) == (str(RAJ), str(LEE), str(KIM))
    sent = await reminder(emu, bot)
    mentions = sent.body["allowed_mentions"]
    assert sorted(str(u) for u in mentions["users"]) == sorted(str(p) for p in (RAJ, LEE, KIM))
    assert not mentions.get("roles") and str(DESIGN) not in sent.text
    assert "<@&" not in sent.body["content"]


async def test_a_role_with_no_known_members_books_nothing(
    emu: DiscordEmulator, bot: Running
) -> None:
    await emu.add_role(DESIGN, "design", (LEE, KIM))  # the client does not cache members
    guild = bot.platform.client.get_guild(GUILD_ID)
    assert guild is not None
    for _ in range(500):
        if guild.get_role(DESIGN) is not None:
            break
        await asyncio.sleep(0.01)
    role = guild.get_role(DESIGN)
    assert role is not None and not role.members
    options: dict[str, object] = {"title": "Sync", "when": "in 1h", "with": f"<@&{DESIGN}>"}
    text = await refused(emu, "schedule", options)
    assert "nothing was booked" in text and "with: @ana @raj" in text


async def test_hostile_with_is_refused_with_one_sentence(
    emu: DiscordEmulator, bot: Running
) -> None:
    for typed in ("@everyone", f"<@{RAJ}> Lee", "@here <@&1>"):
        text = await refused(emu, "now", {"title": "Sync", "with": typed})
        assert "with: @ana @raj" in text and text.count(". ") == 0
        assert "@everyone" not in text.replace("@\u200beveryone", "")  # shown, never live
    whole = await refused(emu, "now", {"with": f"<@&{GUILD_ID}>"})  # the @everyone role
    assert "whole server" in whole


async def test_nofeedback_asks_no_feedback_after_the_end(
    emu: DiscordEmulator, bot: Running
) -> None:
    quiet = await emu.slash("now", {"title": "Quiet", "nofeedback": True}, user_id=ANA)
    await _answer(emu, quiet)
    loud = await emu.slash("now", {"title": "Loud"}, user_id=ANA)
    await _answer(emu, loud)
    ids = {
        c.body["embeds"][0]["title"]: c.body["embeds"][0]["footer"]["text"].split()[-1]
        for c in cards(emu)
    }
    for title in ("Quiet", "Loud"):
        ended = await emu.slash("end", {"meeting": ids[title]}, user_id=ANA)
        assert "Ended" in _content(await _answer(emu, ended))
    await emu.wait_for(lambda s: f"convene:feedback:{ids['Loud']}:1" in s.text)
    assert not [s for s in emu.sent if f"convene:feedback:{ids['Quiet']}:" in s.text]


async def test_bare_schedule_opens_the_form_and_its_submit_books(
    emu: DiscordEmulator, bot: Running
) -> None:
    await design_role(emu, bot)
    opened = await emu.slash("schedule", {}, user_id=ANA)
    form = await _answer(emu, opened)
    assert form.body["type"] == 9  # a modal
    assert form.body["data"]["custom_id"] == forms.FORM_ID
    assert not cards(emu)
    fields = {forms.TITLE: "Planning", forms.WHEN: "tomorrow 15:00", forms.DURATION: "45m"}
    submitted = await emu.submit_modal(
        forms.FORM_ID, fields, user_id=ANA, picked={forms.WITH: [RAJ, DESIGN]}
    )
    answer = await _answer(emu, submitted)
    assert answer.ephemeral and "Planning" in _content(answer)
    card = await emu.wait_for(lambda s: s.kind == "channel" and "Planning" in s.text)
    assert with_field(card) == f"<@{RAJ}> <@{LEE}> <@{KIM}>"
    start = at(bot.h.clock().date() + timedelta(days=1), 15)
    when = next(f["value"] for f in card.body["embeds"][0]["fields"] if f["name"] == "When")
    end = start + timedelta(minutes=45)
    assert when.startswith(f"<t:{int(start.timestamp())}:F> – <t:{int(end.timestamp())}:t>")


async def test_a_form_that_cannot_be_read_answers_with_one_sentence(
    emu: DiscordEmulator, bot: Running
) -> None:
    fields = {forms.TITLE: "Planning", forms.WHEN: "tomorrow at 25:99", forms.DURATION: ""}
    submitted = await emu.submit_modal(forms.FORM_ID, fields, user_id=ANA)
    answer = await _answer(emu, submitted)
    assert answer.ephemeral and answer.body["type"] == 4
    text = _content(answer)
    assert text.startswith("⚠️") and "25:99" in text and "\n" not in text
    assert not cards(emu)


async def test_schedule_with_options_but_no_when_says_what_is_missing(
    emu: DiscordEmulator, bot: Running
) -> None:
    text = await refused(emu, "schedule", {"title": "Sync"})
    assert "when" in text and "/meet schedule alone" in text


async def test_the_options_are_synced_optional_and_typed(
    emu: DiscordEmulator, bot: Running
) -> None:
    """`with` is text people type mentions into, `nofeedback` a boolean; a bare
    `/meet schedule` is possible only because nothing in it is required."""
    [put] = [r for r in emu.requests if r.method == "PUT"]
    [meet] = put.json()
    by_name = {o["name"]: {p["name"]: p for p in o.get("options", [])} for o in meet["options"]}
    for sub in ("now", "schedule"):
        assert by_name[sub]["with"]["type"] == 3 and by_name[sub]["nofeedback"]["type"] == 5
        assert not any(p.get("required") for p in by_name[sub].values()), sub
