"""Issue 16 through the whole app: `/meet` on Discord and Slack, as people type it,
with the real discord.py, slack_bolt and slack_sdk against the loopback platforms.

What a member would notice: the Discord event in the server's list, at the
meeting's times, located at the join link, live while the meeting runs; Slack's
own call card with Join, ended with the meeting; an "Add to calendar" file that a
calendar app imports with the right times (Berlin, New York, across a clock
change), updates on a move and cancels on a cancel; a personal feed of exactly
that person's meetings; and never a host link in any of it.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.slack.calls import calls_check
from bot import cli
from bot.config import Settings
from bot.people import tally_of
from tests.e2e.discord_harness import require_spec, validate_sent
from tests.e2e.presence_rig import (
    HOST_MARK,
    PUBLIC_URL,
    DiscordRig,
    ScopedSlack,
    discord_app,
    discord_card_links,
    fetch,
    forged,
    meeting_id_of,
    parsed,
    providers,
    slack_card_links,
)
from tests.e2e.slack_rig import (
    NOW,
    SPEC,
    Rig,
    block_problems,
    needs_spec,
    running,
    spec_problems,
)
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.emulators.discord import (
    ACTIVE,
    CANCELED,
    COMPLETED,
    GUILD_ID,
    MANAGE_GUILD,
    SCHEDULED,
    DiscordEmulator,
    Sent,
)
from tests.moments import BERLIN, NEW_YORK, at, next_clock_change

ANA, RAJ = 1700000000000000001, 1700000000000000002
OWNER = "1500000000000000001"  # the emulated guild's owner
SPEC_PRESENT = SPEC.exists()


# -- Discord: reading answers ------------------------------------------------------------


async def answer(emu: DiscordEmulator, interaction_id: str, timeout: float = 5.0) -> str:
    """The private answer's text: the direct reply, or the followup after a defer."""
    first = await emu.wait_for(
        lambda s: s.kind == "callback" and s.body.get("interaction_id") == interaction_id, timeout
    )
    if first.body["type"] != 5:
        return str(first.body.get("data", {}).get("content") or "")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        followups = [s for s in emu.answers_to(interaction_id) if s.kind == "followup"]
        if followups:
            return str(followups[0].body.get("content") or "")
        await asyncio.sleep(0.01)
    raise AssertionError("no followup after the defer")


async def schedule(rig: DiscordRig, title: str, when: str, duration: str = "45m") -> Sent:
    """`/meet schedule` by Ana; the card it posts."""
    options = {"title": title, "when": when, "duration": duration}
    await answer(rig.emu, await rig.emu.slash("schedule", options, user_id=ANA))
    return await rig.emu.wait_for(lambda s: s.kind == "channel" and title in s.text)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def events_and_public(emu: DiscordEmulator) -> str:
    """Every event body convene sent and everything a channel shows, for leak checks
    (the host link rightly reaches its organizer, privately)."""
    bodies = [r.body.decode() for r in emu.requests if "scheduled-events" in r.path]
    return json.dumps([*bodies, *(s.text for s in emu.public())])


def tuesday(hour: int, minute: int = 0) -> datetime:
    """The day after the suite's Monday, at a UTC wall time (Discord callers have no zone)."""
    return at(NOW.date() + timedelta(days=1), hour, minute)


# -- 1. Discord scheduled events ----------------------------------------------------------


async def test_discord_schedule_move_cancel_keep_one_event_in_step(tmp_path: Path) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        card = await schedule(rig, "Design review", "tomorrow 15:00")
        meeting_id = meeting_id_of(card)
        join = discord_card_links(card)["Join"]

        [event] = rig.emu.events_in(GUILD_ID)
        assert event["entity_type"] == 3 and event["status"] == SCHEDULED
        assert event["entity_metadata"] == {"location": join}
        assert when(event["scheduled_start_time"]) == tuesday(15)
        assert when(event["scheduled_end_time"]) == tuesday(15, 45)
        assert event["name"] == "Design review"

        moved = await rig.emu.slash(
            "move", {"meeting": meeting_id, "when": "tomorrow 17:00"}, user_id=ANA
        )
        await answer(rig.emu, moved)
        [event] = rig.emu.events_in(GUILD_ID)
        assert when(event["scheduled_start_time"]) == tuesday(17)
        assert when(event["scheduled_end_time"]) == tuesday(17, 45)
        meeting = await rig.app.core.get_meeting(meeting_id)
        assert meeting is not None
        assert event["entity_metadata"]["location"] == meeting.join_url  # the fresh room

        cancelled = await rig.emu.slash("cancel", {"meeting": meeting_id}, user_id=ANA)
        assert "Cancelled" in await answer(rig.emu, cancelled)
        [event] = rig.emu.events_in(GUILD_ID)
        assert event["status"] == CANCELED
        assert HOST_MARK not in events_and_public(rig.emu)
        require_spec()
        assert validate_sent(rig.emu) > 0


async def test_discord_event_is_active_at_the_start_and_completed_at_the_end(
    tmp_path: Path,
) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        await schedule(rig, "Planning", "in 30m", duration="30m")
        [event] = rig.emu.events_in(GUILD_ID)
        assert event["status"] == SCHEDULED

        rig.clock.advance(minutes=30)
        await rig.sweep()
        assert rig.emu.events_in(GUILD_ID)[0]["status"] == ACTIVE

        rig.clock.advance(minutes=30)
        await rig.sweep()
        assert rig.emu.events_in(GUILD_ID)[0]["status"] == COMPLETED
        validate_sent(rig.emu)


async def test_people_interested_in_the_event_count_as_going_and_are_reminded(
    tmp_path: Path,
) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        card = await schedule(rig, "Planning", "in 30m", duration="30m")
        [event] = rig.emu.events_in(GUILD_ID)
        rig.emu.add_interested(event["id"], RAJ, "raj")  # pressed Discord's own button

        rig.clock.advance(minutes=21)  # the workspace's 10-minute reminder is due
        await rig.sweep()
        reminder = await rig.emu.wait_for(lambda s: s.kind == "channel" and "starts in" in s.text)
        assert [str(u) for u in reminder.body["allowed_mentions"]["users"]] == [str(RAJ)]
        assert f"<@{RAJ}>" in reminder.text
        meeting_id = meeting_id_of(card)
        tally = await tally_of(rig.app.core, meeting_id)
        assert tally.going == (str(RAJ),)  # on the card and in the summary, too


async def test_without_manage_events_the_owner_hears_once_and_nothing_more_is_tried(
    tmp_path: Path,
) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        rig.emu.manage_events = False
        await schedule(rig, "First", "tomorrow 10:00")
        await schedule(rig, "Second", "tomorrow 11:00")
        await asyncio.sleep(0.05)  # the second card's work settles

        notices = [s for s in rig.emu.sent if s.kind == "dm" and "Manage Events" in s.text]
        assert len(notices) == 1
        assert "/meet config events off" in notices[0].text
        assert len(rig.emu.calls("POST", "scheduled-events")) == 1  # never tried again
        assert rig.emu.events_in(GUILD_ID) == []
        assert len([s for s in rig.emu.sent if s.kind == "channel"]) == 2  # cards went on
        owners = [r for r in rig.emu.requests if r.path.endswith("/users/@me/channels")]
        assert owners and all(str(json.loads(r.body)["recipient_id"]) == OWNER for r in owners)


async def test_config_events_off_means_no_event_for_the_next_meeting(tmp_path: Path) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        change = {"setting": "events", "value": "off"}
        said = await answer(
            rig.emu, await rig.emu.slash("config", change, user_id=ANA, permissions=MANAGE_GUILD)
        )
        assert "events" in said.lower()
        await schedule(rig, "Quiet", "tomorrow 10:00")
        assert rig.emu.events_in(GUILD_ID) == []
        assert rig.emu.calls("POST", "scheduled-events") == []


def offers_setting(emu: DiscordEmulator, setting: str) -> bool:
    """Whether the `/meet config` convene registered lets a member pick `setting`
    (Discord itself refuses a value outside an option's choices)."""
    [meet] = emu.commands[str(GUILD_ID)]
    [config] = [o for o in meet["options"] if o["name"] == "config"]
    [option] = [o for o in config["options"] if o["name"] == "setting"]
    return setting in {choice["value"] for choice in option.get("choices", [])}


async def test_discord_config_offers_the_events_switch(tmp_path: Path) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        assert offers_setting(rig.emu, "events")
        assert offers_setting(rig.emu, "mentions")


# -- 2. Slack's call card ---------------------------------------------------------------


def slack_meeting_id(blocks: object) -> str:
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert isinstance(blocks, list)
    return next(
        str(e["value"])
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("value")
    )


def slack_sent(rig: Rig, *methods: str) -> str:
    return json.dumps([c.params for c in rig.slack.api if c.method in methods])


async def admin_rig(rig: Rig) -> None:
    """Ana administers the workspace; Dan organizes from New York."""
    rig.slack.user("UANA", real_name="Ana", tz="Europe/Berlin", is_admin=True)
    rig.slack.user("UDAN", real_name="Dan", tz="America/New_York")


async def test_an_instant_slack_meeting_shows_slacks_call_card_until_meet_end(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        await rig.command("/meet Standup")
        [card] = await rig.slack.wait_for_cards()
        join = slack_card_links(card.params["blocks"])["Join"]
        [added] = await rig.slack.wait_for("calls.add")
        assert added.params["join_url"] == join
        assert HOST_MARK not in slack_sent(rig, "calls.add", "calls.update")
        [call] = rig.slack.slack_calls.values()
        await rig.slack.wait_for("chat.postMessage", 2)  # the card, then the call block
        [block] = rig.slack.call_blocks()
        assert block["call_id"] == call["id"] and block["channel"] == "CGENERAL"

        await rig.command(f"/meet end {slack_meeting_id(card.params['blocks'])}")
        [ended] = await rig.slack.wait_for("calls.end")
        assert ended.params["id"] == call["id"] and "date_end" in call
        assert block_problems(rig.slack.api) == []
        if SPEC_PRESENT:
            assert spec_problems(rig.slack.api) == []


async def test_a_scheduled_slack_meeting_registers_its_call_at_the_start(tmp_path: Path) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        await rig.command("/meet Review in 30m for 30m")
        [card] = await rig.slack.wait_for_cards()
        await asyncio.sleep(0.05)
        assert rig.slack.calls_to("calls.add") == []  # nobody can join a call yet

        rig.clock.advance(minutes=30)
        await rig.app.lifecycle.sweep()
        [added] = await rig.slack.wait_for("calls.add")
        assert added.params["join_url"] == slack_card_links(card.params["blocks"])["Join"]
        assert len(rig.slack.call_blocks()) == 1

        rig.clock.advance(minutes=30)
        await rig.app.lifecycle.sweep()
        await rig.slack.wait_for("calls.end")
        assert all("date_end" in call for call in rig.slack.slack_calls.values())


async def test_slack_config_calls_off_means_no_call_card(tmp_path: Path) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        await admin_rig(rig)
        await rig.command("/meet config calls off")
        [said] = await rig.slack.wait_for_responses()
        assert "call" in json.dumps(said).lower()
        await rig.command("/meet Standup")
        await rig.slack.wait_for_cards()
        await asyncio.sleep(0.05)
        assert rig.slack.calls_to("calls.add") == [] and rig.slack.call_blocks() == []


@needs_spec
async def test_slack_call_bodies_match_the_web_api_spec(tmp_path: Path) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        await rig.command("/meet Standup")
        [card] = await rig.slack.wait_for_cards()
        await rig.slack.wait_for("calls.add")
        await rig.command(f"/meet end {slack_meeting_id(card.params['blocks'])}")
        await rig.slack.wait_for("calls.end")
        assert {"calls.add", "calls.end"} <= {c.method for c in rig.slack.api}
        assert spec_problems(rig.slack.api) == []


# -- 3. calendar files -----------------------------------------------------------------


def next_change(zone: ZoneInfo) -> datetime:
    """The day after `zone` next changes its clocks, either way, as a date."""
    spring = next_clock_change(zone, forward=True, after=NOW.date())
    autumn = next_clock_change(zone, forward=False, after=NOW.date())
    return datetime.combine(min(spring, autumn) + timedelta(days=1), datetime.min.time())


@pytest.mark.parametrize(
    ("user", "zone"), [("UANA", BERLIN), ("UDAN", NEW_YORK)], ids=["berlin", "new-york"]
)
async def test_a_cards_ics_imports_with_its_times_title_and_join_link(
    tmp_path: Path, user: str, zone: ZoneInfo
) -> None:
    day = next_change(zone).date()
    async with running(tmp_path, providers=providers(), public_url=PUBLIC_URL) as rig:
        await admin_rig(rig)
        await rig.command(f'/meet "Quarterly plan" {day.isoformat()} 10:00 for 45m', user=user)
        [card] = await rig.slack.wait_for_cards()
        links = slack_card_links(card.params["blocks"])
        ics = links["Add to calendar"]
        assert ics.startswith(f"{PUBLIC_URL}/calendar/") and {"Google", "Outlook"} <= set(links)

        status, body = await fetch(rig.session, rig.base, ics)
        assert status == 200
        [event] = parsed(body)
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == at(day, 10, 0, zone) and end == at(day, 10, 45, zone)
        assert start.astimezone(zone).hour == 10  # the wall time after the clock change
        assert str(event["SUMMARY"]) == "Quarterly plan"
        assert str(event["URL"]) == links["Join"] and str(event["LOCATION"]) == links["Join"]
        assert HOST_MARK not in body.decode()
        first_sequence = int(event.decoded("SEQUENCE", 0))

        meeting_id = slack_meeting_id(card.params["blocks"])
        await rig.command(f"/meet move {meeting_id} {day.isoformat()} 11:00", user=user)
        await rig.slack.wait_for("chat.update")
        status, body = await fetch(rig.session, rig.base, ics)
        [event] = parsed(body)
        assert status == 200 and int(event.decoded("SEQUENCE")) > first_sequence
        assert event.decoded("DTSTART") == at(day, 11, 0, zone)
        assert HOST_MARK not in body.decode()

        await rig.command(f"/meet cancel {meeting_id}", user=user)
        await rig.slack.wait_for("chat.update", 2)
        status, body = await fetch(rig.session, rig.base, ics)
        [event] = parsed(body)
        assert status == 200 and str(event["STATUS"]) == "CANCELLED"

        status, _ = await fetch(rig.session, rig.base, forged(ics))
        assert status == 404


async def test_without_a_public_url_the_card_offers_only_google_and_outlook(
    tmp_path: Path,
) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        await rig.command("/meet Retro in 2h")
        [card] = await rig.slack.wait_for_cards()
        links = slack_card_links(card.params["blocks"])
        assert "Add to calendar" not in links and {"Google", "Outlook"} <= set(links)
        assert all(HOST_MARK not in url for url in links.values())


async def test_a_discord_cards_ics_link_serves_the_meeting(tmp_path: Path) -> None:
    async with discord_app(tmp_path, NOW) as rig:
        card = await schedule(rig, "Design review", "tomorrow 15:00")
        links = discord_card_links(card)
        status, body = await fetch(rig.session, rig.base, links["Add to calendar"])
        [event] = parsed(body)
        assert status == 200 and event.decoded("DTSTART") == tuesday(15)
        assert str(event["URL"]) == links["Join"] and HOST_MARK not in body.decode()


# -- 4. the personal feed ----------------------------------------------------------------


def feed_address(response: dict[str, object]) -> str:
    """The Subscribe button's webcal:// address in a private answer."""
    blocks = response.get("blocks")
    assert isinstance(blocks, list)
    [address] = [
        url
        for block in blocks
        if isinstance(url := (block.get("accessory") or {}).get("url"), str)
        and url.startswith("webcal://")
    ]
    return address


async def ask_feed(rig: Rig, text: str = "/meet calendar", user: str = "UANA") -> dict[str, object]:
    before = len(rig.slack.responses)
    await rig.command(text, user=user)
    responses = await rig.slack.wait_for_responses(before + 1)
    return responses[before]


async def new_meeting(rig: Rig, text: str, user: str) -> str:
    before = len(rig.slack.cards())
    await rig.command(text, user=user)
    cards = await rig.slack.wait_for_cards(before + 1)
    return slack_meeting_id(cards[before].params["blocks"])


def summaries(body: bytes) -> set[str]:
    return {str(event["SUMMARY"]) for event in parsed(body)}


async def test_the_feed_lists_exactly_the_persons_meetings_until_reset(tmp_path: Path) -> None:
    async with running(tmp_path, providers=providers(), public_url=PUBLIC_URL) as rig:
        await new_meeting(rig, "/meet Ana's own in 1h", "UANA")
        await new_meeting(rig, "/meet Raj invites in 2h with <@UANA>", "URAJ")
        answered = await new_meeting(rig, "/meet Raj asks the team in 3h", "URAJ")
        await new_meeting(rig, "/meet Raj alone in 4h", "URAJ")
        await rig.command(f"/meet rsvp {answered} yes", user="UANA")
        await rig.slack.wait_for_responses(5)

        reply = await ask_feed(rig)
        assert reply.get("response_type") == "ephemeral"
        address = feed_address(reply)
        assert address.startswith(f"webcal://{PUBLIC_URL.removeprefix('https://')}/calendar/feed/")
        status, body = await fetch(rig.session, rig.base, address)
        assert status == 200
        assert summaries(body) == {"Ana's own", "Raj invites", "Raj asks the team"}
        assert HOST_MARK not in body.decode()

        status, raj_body = await fetch(
            rig.session, rig.base, feed_address(await ask_feed(rig, user="URAJ"))
        )
        assert status == 200 and "Ana's own" not in summaries(raj_body)

        reset = await ask_feed(rig, "/meet calendar reset")
        assert (await fetch(rig.session, rig.base, address))[0] == 404
        status, body = await fetch(rig.session, rig.base, feed_address(reset))
        assert status == 200 and "Ana's own" in summaries(body)
        assert (await fetch(rig.session, rig.base, forged(feed_address(reset))))[0] == 404


async def test_without_a_public_url_meet_calendar_says_what_is_missing(tmp_path: Path) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        reply = await ask_feed(rig)
        text = json.dumps(reply, ensure_ascii=False).replace("\u200b", "")  # as Slack shows it
        assert "CONVENE_PUBLIC_URL" in text and "webcal://" not in text
        assert reply.get("response_type") == "ephemeral"


# -- 5. convene check --------------------------------------------------------------------


@pytest.mark.parametrize("granted", [True, False], ids=["calls-granted", "calls-missing"])
async def test_convene_check_says_whether_slacks_call_card_is_on(
    granted: bool,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """`convene check` as an operator runs it, with the environment naming the Slack app."""
    slack = ScopedSlack()
    if not granted:
        slack.scopes -= {"calls:read", "calls:write"}
    monkeypatch.chdir(tmp_path)  # no .env of the checkout's
    for name in ("SLACK_CLIENT_ID", "SLACK_APP_TOKEN", "CONVENE_PROVIDER"):
        monkeypatch.delenv(name, raising=False)
    async with serve(slack.app) as url:
        monkeypatch.setenv("SLACK_BOT_TOKEN", emu.BOT_TOKEN)
        monkeypatch.setenv("SLACK_API_URL", f"{url}/api/")
        code = await asyncio.to_thread(cli.main, ["check"], checks=(calls_check,))
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if "call card" in line]
    if granted:
        assert line.startswith("Slack call card on")
    else:
        assert line == (
            "Slack call card off: the app lacks calls:read, calls:write; "
            "convene's own card is used."
        )
    assert code == 0 and emu.BOT_TOKEN not in out
    assert [c.method for c in slack.api] == ["auth.test"]


async def test_convene_check_without_a_slack_token_says_nothing_of_calls() -> None:
    assert await calls_check(Settings()) is None


# -- 6. help -----------------------------------------------------------------------------


async def test_meet_help_tells_of_the_calendar_and_the_switches(tmp_path: Path) -> None:
    async with running(tmp_path, providers=providers()) as rig:
        await rig.command("/meet help")
        [said] = await rig.slack.wait_for_responses()
        text = json.dumps(said, ensure_ascii=False)
        assert "/meet calendar [reset]" in text
        assert "mentions|events|calls on|off" in text
