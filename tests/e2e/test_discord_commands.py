"""Every `/meet` subcommand through the real discord.py client and a loopback Discord."""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime, timedelta

import pytest

from tests.e2e.discord_harness import Running
from tests.emulators.discord import (
    CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    DiscordEmulator,
    Sent,
)
from tests.fakes import host_link_of
from tests.moments import at

ANA = 1700000000000000001
RAJ = 1700000000000000002
DEADLINE = 3.0  # Discord drops interactions not answered or deferred within 3 s


def _callback(emu: DiscordEmulator, interaction_id: str) -> Sent:
    return next(s for s in emu.answers_to(interaction_id) if s.kind == "callback")


async def _answer(emu: DiscordEmulator, interaction_id: str, timeout: float = 5.0) -> Sent:
    """The final private answer: the direct reply, or the followup after a defer."""
    first = await emu.wait_for(
        lambda s: s.kind == "callback" and s.body.get("interaction_id") == interaction_id, timeout
    )
    if first.body["type"] != 5:
        return first
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        followups = [s for s in emu.answers_to(interaction_id) if s.kind == "followup"]
        if followups:
            return followups[0]
        await _tick()
    raise AssertionError("no followup after the defer")


async def _tick() -> None:
    await asyncio.sleep(0.01)


def _content(sent: Sent) -> str:
    body = sent.body.get("data", sent.body) if sent.kind == "callback" else sent.body
    return str(body.get("content") or "")


def _private(sent: Sent) -> bool:
    return sent.ephemeral


async def _now(emu: DiscordEmulator, title: str = "Standup", user_id: int = ANA) -> Sent:
    await emu.slash("now", {"title": title}, user_id=user_id)
    return await emu.wait_for(lambda s: s.kind == "channel" and title in s.text)


async def test_meet_now_posts_join_link_publicly_and_host_link_ephemerally(
    emu: DiscordEmulator, bot: Running
) -> None:
    interaction = await emu.slash("now", {"title": "Standup"}, user_id=ANA)
    defer = await emu.wait_for(lambda s: s.kind == "callback")
    assert defer.body["type"] == 5 and defer.ephemeral  # deferred privately, "thinking"
    assert defer.at - emu.dispatched[interaction] < DEADLINE

    card = await emu.wait_for(lambda s: s.kind == "channel")
    assert card.channel_id == str(CHANNEL_ID) and card.public
    [embed] = card.body["embeds"]
    assert embed["title"] == "Standup"
    assert "<t:" in json_text(embed) and f"<@{ANA}>" in json_text(embed)
    buttons = card.body["components"][0]["components"]
    join = next(b for b in buttons if b.get("label") == "Join")
    assert join["style"] == 5 and join["url"].startswith("https://meet.jit.si/")
    meeting_id = embed["footer"]["text"].split()[-1]
    ids = {b.get("custom_id") for b in buttons}
    assert {f"convene:end:{meeting_id}", f"convene:cancel:{meeting_id}"} <= ids
    assert card.body["allowed_mentions"]["parse"] == []

    answer = await _answer(emu, interaction)
    assert answer.kind == "followup" and _private(answer)
    # The private answer comes once the card is posted and its message remembered.
    meeting = await bot.h.core.get_meeting(meeting_id)
    assert meeting is not None and meeting.message_ref is not None
    host_url = await host_link_of(bot.h.core, meeting_id)
    assert host_url in _content(answer)
    assert all(host_url not in s.text for s in emu.public())
    assert "test-token" not in "".join(s.text for s in emu.sent)


def json_text(value: object) -> str:
    return json.dumps(value)


async def test_schedule_posts_a_card_with_discord_timestamps(
    emu: DiscordEmulator, bot: Running
) -> None:
    interaction = await emu.slash(
        "schedule",
        {"title": "Design review", "when": "tomorrow 15:00", "duration": "45m", "remind": "15m"},
        user_id=ANA,
    )
    answer = await _answer(emu, interaction)
    assert _private(answer) and "Design review" in _content(answer)
    card = await emu.wait_for(lambda s: s.kind == "channel")
    when = card.body["embeds"][0]["fields"][0]["value"]
    start = int(when.split("<t:")[1].split(":")[0])
    assert ":F>" in when and ":R>" in when
    expected = at(bot.h.clock().date() + timedelta(days=1), 15)
    [meeting] = [
        tuple(row.values())
        for row in await bot.h.core.store.all("SELECT id, remind_s, start_at FROM meetings")
    ]
    assert meeting[1] == 15 * 60 and meeting[2] == f"{expected:%Y-%m-%dT%H:%M:%SZ}"
    assert start == int(expected.timestamp())


async def test_bad_time_is_one_private_sentence_and_posts_nothing(
    emu: DiscordEmulator, bot: Running
) -> None:
    interaction = await emu.slash("schedule", {"title": "Retro", "when": "25:00"}, user_id=ANA)
    answer = await _answer(emu, interaction)
    assert answer.kind == "callback" and answer.body["type"] == 4 and _private(answer)
    assert "25:00" in _content(answer)
    assert not [s for s in emu.sent if s.kind == "channel"]


@pytest.mark.parametrize(
    ("sub", "options", "expected"),
    [
        ("list", {}, "No upcoming meetings"),
        ("help", {}, "/meet list"),
        ("tz", {"zone": "Europe/Berlin"}, "Europe/Berlin"),
        ("tz", {"zone": "Mars/Olympus"}, "not a time zone"),
        ("config", {}, "Jitsi"),
        # Series and feedback are completed by their own issues: today "not available",
        # later "can't find": either way one private sentence naming no link.
        ("feedback", {"meeting": "abc234"}, "abc234|not available"),
        ("skip", {"series": "standup"}, "standup|not available"),
        ("skip", {"series": "standup", "date": "yesterday-ish"}, "yesterday-ish"),
        ("pause", {"series": "standup"}, "standup|not available"),
        ("resume", {"series": "standup"}, "standup|not available"),
    ],
)
async def test_quick_commands_answer_directly_and_privately(
    emu: DiscordEmulator, bot: Running, sub: str, options: dict[str, str], expected: str
) -> None:
    interaction = await emu.slash(sub, options, user_id=ANA)
    answer = await _answer(emu, interaction)
    assert answer.kind == "callback" and answer.body["type"] == 4, answer
    assert _private(answer) and re.search(expected, _content(answer)), _content(answer)


async def test_every_defers_and_answers_privately(emu: DiscordEmulator, bot: Running) -> None:
    interaction = await emu.slash(
        "every", {"title": "Standup", "rule": "weekday at 9:30", "duration": "15m"}, user_id=ANA
    )
    answer = await _answer(emu, interaction)
    assert _callback(emu, interaction).body["type"] == 5
    assert _private(answer) and "Standup" in _content(answer)
    bad = await emu.slash("every", {"title": "Standup", "rule": "whenever"}, user_id=ANA)
    assert "whenever" in _content(await _answer(emu, bad))


async def test_list_shows_a_series_by_its_rule_and_next_dates(
    emu: DiscordEmulator, bot: Running
) -> None:
    """A series has no single start: the listing must name its rule and coming dates,
    not a timestamp of the moment the list was asked for."""
    rule = {"title": "Standup", "rule": "weekday at 9:30", "duration": "15m"}
    created = await _answer(emu, await emu.slash("every", rule, user_id=ANA))
    series_id = re.findall(r"\(id ([a-z0-9]+)\)", _content(created))[-1]
    listed = _content(await _answer(emu, await emu.slash("list", user_id=ANA)))
    [line] = [line for line in listed.splitlines() if series_id in line]
    assert "every weekday at 09:30 UTC" in line and "(series)" in line, listed
    assert f"Next: {', '.join(_weekdays_at(bot.h.clock(), 9, 30, 3))}" in listed, listed
    assert f"<t:{int(bot.h.clock().timestamp())}" not in listed, listed


def _weekdays_at(now: datetime, hour: int, minute: int, count: int) -> list[str]:
    """The next `count` weekday times after `now` (UTC), as convene names dates."""
    found: list[str] = []
    day = now.date()
    while len(found) < count:
        moment = at(day, hour, minute)
        if day.weekday() < 5 and moment > now:
            found.append(f"{moment:%a} {moment.day} {moment:%b %H:%M}")
        day += timedelta(days=1)
    return found


async def test_list_host_end_and_cancel_by_command(emu: DiscordEmulator, bot: Running) -> None:
    card = await _now(emu)
    meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
    listed = await _answer(emu, await emu.slash("list", user_id=ANA))
    assert meeting_id in _content(listed) and _private(listed)
    host = await _answer(emu, await emu.slash("host", {"meeting": meeting_id}, user_id=ANA))
    host_url = await host_link_of(bot.h.core, meeting_id)
    assert host_url in _content(host)
    assert _private(host)
    refused = await _answer(emu, await emu.slash("end", {"meeting": meeting_id}, user_id=RAJ))
    assert "Only the organizer" in _content(refused) and _private(refused)
    ended = await _answer(emu, await emu.slash("end", {"meeting": meeting_id}, user_id=ANA))
    assert "Ended" in _content(ended)
    edit = await emu.wait_for(lambda s: s.kind == "edit")
    assert edit.body["components"] == [] and "Ended" in json_text(edit.body["embeds"])
    await _now(emu, "Second")
    second = [s for s in emu.sent if s.kind == "channel"][-1]
    second_id = second.body["embeds"][0]["footer"]["text"].split()[-1]
    cancelled = await _answer(emu, await emu.slash("cancel", {"meeting": second_id}, user_id=ANA))
    assert "Cancelled" in _content(cancelled)
    assert all(host_url not in s.text for s in emu.public())


async def test_config_changes_need_manage_server(emu: DiscordEmulator, bot: Running) -> None:
    change = {"setting": "length", "value": "45m"}
    refused = await _answer(emu, await emu.slash("config", change, user_id=RAJ))
    assert "Manage Server" in _content(refused) and _private(refused)
    settings = await bot.h.core.settings_for("discord", str(GUILD_ID))
    assert settings.default_length.total_seconds() == 30 * 60
    allowed = await emu.slash("config", change, user_id=ANA, permissions=MANAGE_GUILD)
    assert "45 minutes" in _content(await _answer(emu, allowed))


async def test_autocomplete_offers_my_meetings_and_time_zones(
    emu: DiscordEmulator, bot: Running
) -> None:
    card = await _now(emu, "Planning")
    meeting_id = card.body["embeds"][0]["footer"]["text"].split()[-1]
    asked = await emu.slash("end", {"meeting": "plan"}, user_id=ANA, focused="meeting")
    answer = await _answer(emu, asked)
    assert answer.body["type"] == 8
    assert answer.body["data"]["choices"] == [
        {"name": f"Planning ({meeting_id})", "value": meeting_id}
    ]
    others = await emu.slash("end", {"meeting": ""}, user_id=RAJ, focused="meeting")
    assert (await _answer(emu, others)).body["data"]["choices"] == []
    zones = await emu.slash("tz", {"zone": "berl"}, user_id=ANA, focused="zone")
    choices = (await _answer(emu, zones)).body["data"]["choices"]
    assert {"name": "Europe/Berlin", "value": "Europe/Berlin"} in choices
    every = await emu.slash("tz", {"zone": ""}, user_id=ANA, focused="zone")
    assert len((await _answer(emu, every)).body["data"]["choices"]) == 25


async def test_commands_are_synced_to_the_configured_guild(
    emu: DiscordEmulator, bot: Running
) -> None:
    [put] = [r for r in emu.requests if r.method == "PUT"]
    assert put.path == f"/api/v10/applications/1100000000000000001/guilds/{GUILD_ID}/commands"
    [meet] = put.json()
    subcommands = {o["name"]: [p["name"] for p in o.get("options", [])] for o in meet["options"]}
    assert subcommands == {
        "now": ["title", "with", "nofeedback"],
        "schedule": ["title", "when", "duration", "remind", "with", "nofeedback"],
        "every": ["title", "rule", "duration"],
        "list": [],
        "end": ["meeting"],
        "cancel": ["meeting"],
        "move": ["meeting", "when", "duration"],
        "rename": ["meeting", "title"],
        "host": ["meeting"],
        "feedback": ["meeting"],
        "calendar": ["reset"],
        "skip": ["series", "date"],
        "pause": ["series"],
        "resume": ["series"],
        "tz": ["zone"],
        "config": ["setting", "value"],
        "help": [],
    }
    assert all(o["description"] for o in meet["options"])
    by_name = {o["name"]: o for o in meet["options"]}
    for sub in ("end", "cancel", "move", "rename"):
        [meeting] = [p for p in by_name[sub]["options"] if p["name"] == "meeting"]
        assert meeting["autocomplete"] is True and meeting["required"] is True, sub
