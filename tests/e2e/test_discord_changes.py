"""`/meet move` and `/meet rename` (and `/meet schedule`'s ranges) through the real
discord.py client against the loopback Discord: typed options in, the card edited in
place, one private answer out. Dates come from tests/moments, so any day works."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from storage import meetings as meeting_rows
from tests.e2e.discord_harness import Running
from tests.emulators.discord import MANAGE_GUILD, DiscordEmulator, Sent
from tests.moments import BERLIN, at, next_clock_change

ANA = 1700000000000000001
RAJ = 1700000000000000002
DEADLINE = 3.0  # Discord drops interactions not answered or deferred within 3 s


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
        await asyncio.sleep(0.01)
    raise AssertionError("no followup after the defer")


def _callback(emu: DiscordEmulator, interaction_id: str) -> Sent:
    return next(s for s in emu.answers_to(interaction_id) if s.kind == "callback")


def _content(sent: Sent) -> str:
    body = sent.body.get("data", sent.body) if sent.kind == "callback" else sent.body
    return str(body.get("content") or "")


def _start_of(embed: dict[str, object]) -> int:
    """The unix start in a card's "When" field (`<t:…:F> – <t:…:t>`)."""
    fields = embed["fields"]
    assert isinstance(fields, list)
    return int(str(fields[0]["value"]).split("<t:")[1].split(":")[0])


def _end_of(embed: dict[str, object]) -> int:
    fields = embed["fields"]
    assert isinstance(fields, list)
    return int(str(fields[0]["value"]).split("<t:")[2].split(":")[0])


def _edits(emu: DiscordEmulator) -> list[Sent]:
    return [s for s in emu.sent if s.kind == "edit"]


async def _schedule(
    emu: DiscordEmulator, bot: Running, title: str = "Design review", when: str = "tomorrow 15:00"
) -> str:
    """Book a meeting as Ana and return its id, once its card is posted."""
    options = {"title": title, "when": when, "duration": "30m"}
    answer = await _answer(emu, await emu.slash("schedule", options, user_id=ANA))
    assert "⚠️" not in _content(answer), _content(answer)
    card = await emu.wait_for(lambda s: s.kind == "channel" and title in s.text)
    meeting_id = str(card.body["embeds"][0]["footer"]["text"]).split()[-1]
    meeting = await bot.h.core.get_meeting(meeting_id)
    assert meeting is not None and meeting.message_ref is not None
    return meeting_id


def _tomorrow(bot: Running, hour: int, minute: int = 0) -> datetime:
    return at(bot.h.clock().date() + timedelta(days=1), hour, minute)


async def test_move_to_a_time_defers_privately_and_edits_the_card_in_place(
    emu: DiscordEmulator, bot: Running
) -> None:
    meeting_id = await _schedule(emu, bot)
    before = await bot.h.core.get_meeting(meeting_id)
    assert before is not None

    interaction = await emu.slash(
        "move", {"meeting": meeting_id, "when": "tomorrow 16:30"}, user_id=ANA
    )
    answer = await _answer(emu, interaction)
    defer = _callback(emu, interaction)
    assert defer.body["type"] == 5 and defer.ephemeral  # a provider call: deferred privately
    assert defer.at - emu.dispatched[interaction] < DEADLINE
    assert answer.kind == "followup" and answer.ephemeral
    assert "Moved" in _content(answer) and "Design review" in _content(answer)

    moved = await bot.h.core.get_meeting(meeting_id)
    expected = _tomorrow(bot, 16, 30)
    assert moved is not None and moved.start == expected
    assert moved.end - moved.start == before.end - before.start  # the length is kept
    assert moved.join_url != before.join_url  # a fresh room for the new time

    [edit] = _edits(emu)
    assert edit.channel_id is not None and edit.public
    [embed] = edit.body["embeds"]
    assert _start_of(embed) == int(expected.timestamp())
    assert embed["footer"]["text"] == f"Meeting id {meeting_id}"
    buttons = edit.body["components"][0]["components"]
    assert next(b for b in buttons if b.get("label") == "Join")["url"] == moved.join_url
    notice = await emu.wait_for(lambda s: s.kind == "channel" and "moved" in s.text)
    assert notice.public and notice.body["message_reference"]["message_id"] == int(
        before.message_ref or 0
    )
    host = await meeting_rows.host_link(bot.h.core.store, meeting_id, bot.h.core.box)
    assert host and host in _content(answer)  # the new host link, privately
    assert all(host not in s.text for s in emu.public())


async def test_move_to_a_range_sets_the_new_length(emu: DiscordEmulator, bot: Running) -> None:
    meeting_id = await _schedule(emu, bot)
    options = {"meeting": meeting_id, "when": "tomorrow 10:00-11:30"}
    answer = await _answer(emu, await emu.slash("move", options, user_id=ANA))
    assert "Moved" in _content(answer), _content(answer)
    moved = await bot.h.core.get_meeting(meeting_id)
    assert moved is not None
    assert (moved.start, moved.end) == (_tomorrow(bot, 10), _tomorrow(bot, 11, 30))
    [edit] = _edits(emu)
    [embed] = edit.body["embeds"]
    assert _start_of(embed) == int(moved.start.timestamp())
    assert _end_of(embed) == int(moved.end.timestamp())


async def test_move_with_a_duration_option_changes_the_length(
    emu: DiscordEmulator, bot: Running
) -> None:
    meeting_id = await _schedule(emu, bot)
    options = {"meeting": meeting_id, "when": "tomorrow 17:00", "duration": "1h15"}
    assert "Moved" in _content(await _answer(emu, await emu.slash("move", options, user_id=ANA)))
    moved = await bot.h.core.get_meeting(meeting_id)
    assert moved is not None and moved.end - moved.start == timedelta(hours=1, minutes=15)


async def test_a_range_and_a_duration_are_one_sentence_and_change_nothing(
    emu: DiscordEmulator, bot: Running
) -> None:
    meeting_id = await _schedule(emu, bot)
    options = {"meeting": meeting_id, "when": "tomorrow 10:00-11:00", "duration": "45m"}
    interaction = await emu.slash("move", options, user_id=ANA)
    answer = await _answer(emu, interaction)
    assert answer.kind == "callback" and answer.body["type"] == 4 and answer.ephemeral
    text = _content(answer)
    assert "range" in text and "10:00-11:00" in text and "45m" in text
    assert text.count(". ") == 0 and text.startswith("⚠️")
    unparsable = {"meeting": meeting_id, "when": "25:00"}
    refused = await _answer(emu, await emu.slash("move", unparsable, user_id=ANA))
    assert "25:00" in _content(refused) and refused.ephemeral
    assert _edits(emu) == []
    kept = await bot.h.core.get_meeting(meeting_id)
    assert kept is not None and kept.start == _tomorrow(bot, 15)


async def test_a_dst_gap_is_explained_in_the_private_answer(
    emu: DiscordEmulator, bot: Running
) -> None:
    """02:30 on Berlin's spring-forward day does not exist: the move says where it went."""
    await _answer(emu, await emu.slash("tz", {"zone": "Europe/Berlin"}, user_id=ANA))
    meeting_id = await _schedule(emu, bot)
    day = next_clock_change(BERLIN, forward=True, after=bot.h.clock().date())
    options = {"meeting": meeting_id, "when": f"{day:%Y-%m-%d} 02:30"}
    answer = await _answer(emu, await emu.slash("move", options, user_id=ANA))
    assert "Moved" in _content(answer) and "does not exist" in _content(answer)
    moved = await bot.h.core.get_meeting(meeting_id)
    assert moved is not None and moved.start == at(day, 3, 0, BERLIN)


async def test_rename_edits_the_card_title(emu: DiscordEmulator, bot: Running) -> None:
    meeting_id = await _schedule(emu, bot)
    options = {"meeting": meeting_id, "title": "Sprint *retro*"}
    interaction = await emu.slash("rename", options, user_id=ANA)
    answer = await _answer(emu, interaction)
    assert answer.ephemeral and "Renamed" in _content(answer)
    assert "Sprint \\*retro\\*" in _content(answer)  # markdown shown as typed
    [edit] = _edits(emu)
    assert edit.body["embeds"][0]["title"] == "Sprint \\*retro\\*"
    renamed = await bot.h.core.get_meeting(meeting_id)
    assert renamed is not None and renamed.title == "Sprint *retro*"
    assert renamed.start == _tomorrow(bot, 15)  # the time is untouched


async def test_only_the_organizer_or_a_manager_may_move_or_rename(
    emu: DiscordEmulator, bot: Running
) -> None:
    meeting_id = await _schedule(emu, bot)
    move = {"meeting": meeting_id, "when": "tomorrow 16:00"}
    rename = {"meeting": meeting_id, "title": "Hijacked"}
    for sub, options in (("move", move), ("rename", rename)):
        refused = await _answer(emu, await emu.slash(sub, options, user_id=RAJ))
        assert refused.ephemeral and "Only the organizer" in _content(refused), _content(refused)
    assert _edits(emu) == []
    kept = await bot.h.core.get_meeting(meeting_id)
    assert kept is not None and kept.title == "Design review" and kept.start == _tomorrow(bot, 15)

    admin = await emu.slash("rename", rename, user_id=RAJ, permissions=MANAGE_GUILD)
    assert "Renamed" in _content(await _answer(emu, admin))
    assert len(_edits(emu)) == 1


async def test_move_autocompletes_my_meetings(emu: DiscordEmulator, bot: Running) -> None:
    meeting_id = await _schedule(emu, bot, title="Planning")
    for sub in ("move", "rename"):
        asked = await emu.slash(sub, {"meeting": "plan"}, user_id=ANA, focused="meeting")
        answer = await _answer(emu, asked)
        assert answer.body["type"] == 8
        assert answer.body["data"]["choices"] == [
            {"name": f"Planning ({meeting_id})", "value": meeting_id}
        ]


async def test_schedule_reads_a_range_and_refuses_a_range_with_a_duration(
    emu: DiscordEmulator, bot: Running
) -> None:
    options = {"title": "Workshop", "when": "tomorrow 13:00-15:30"}
    answer = await _answer(emu, await emu.slash("schedule", options, user_id=ANA))
    assert "Workshop" in _content(answer) and "⚠️" not in _content(answer)
    [(start, end)] = [
        tuple(row.values())
        for row in await bot.h.core.store.all("SELECT start_at, end_at FROM meetings")
    ]
    assert (start, end) == (
        f"{_tomorrow(bot, 13):%Y-%m-%dT%H:%M:%SZ}",
        f"{_tomorrow(bot, 15, 30):%Y-%m-%dT%H:%M:%SZ}",
    )
    both = {"title": "Workshop", "when": "tomorrow 13:00-15:30", "duration": "1h"}
    refused = await _answer(emu, await emu.slash("schedule", both, user_id=ANA))
    assert refused.kind == "callback" and refused.body["type"] == 4
    assert "range" in _content(refused) and "1h" in _content(refused)
    assert len([s for s in emu.sent if s.kind == "channel"]) == 1


async def test_schedule_says_how_a_dst_gap_was_read(emu: DiscordEmulator, bot: Running) -> None:
    await _answer(emu, await emu.slash("tz", {"zone": "Europe/Berlin"}, user_id=ANA))
    day = next_clock_change(BERLIN, forward=True, after=bot.h.clock().date())
    options = {"title": "Night shift", "when": f"{day:%Y-%m-%d} 02:30", "duration": "30m"}
    answer = await _answer(emu, await emu.slash("schedule", options, user_id=ANA))
    assert "does not exist" in _content(answer) and "03:00" in _content(answer)
    card = await emu.wait_for(lambda s: s.kind == "channel" and "Night shift" in s.text)
    assert _start_of(card.body["embeds"][0]) == int(at(day, 3, 0, BERLIN).timestamp())
