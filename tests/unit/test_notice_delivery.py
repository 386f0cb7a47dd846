"""Reminders and cards as the real platform clients send them, to the loopback emulators.

A reminder must reach the people who said Going and the invitees, and only them:
Slack's thread reply is also broadcast to the channel and starts with their mentions;
Discord's message allows pings for exactly those users. A title that tries to ping
the channel pings nobody, and a card never pings anyone.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.http import Route
from slack_sdk.web.async_client import AsyncWebClient

from adapters.discord.messenger import DiscordMessenger
from adapters.slack.messenger import SlackMessenger, TokenSource
from bot.messages import Card, Notice, NoticeKind, Private
from bot.models import Place
from bot.rsvp import Tally
from tests.emulators.base import serve
from tests.emulators.discord import CHANNEL_ID, GUILD_ID, DiscordEmulator
from tests.emulators.slack import BOT_TOKEN, TEAM, SlackEmulator
from tests.moments import next_monday_at

START = next_monday_at(15)
SLACK_SPEC = Path(__file__).resolve().parents[3] / "shared" / "specs" / "slack-web-openapi-v2.json"
HOSTILE = "<!channel> party @everyone <!here> @here"


def reminder(*mentions: str, kind: NoticeKind = NoticeKind.REMINDER) -> Notice:
    return Notice(
        kind, "abc234", HOSTILE, "starts in 10 minutes", "https://meet.jit.si/x", START, mentions
    )


# ---- Slack -------------------------------------------------------------------------------


@asynccontextmanager
async def slack() -> AsyncIterator[tuple[SlackEmulator, SlackMessenger]]:
    emulator = SlackEmulator()
    async with serve(emulator.app) as url:
        emulator.base_url = url
        client = AsyncWebClient(base_url=f"{url}/api/")
        yield emulator, SlackMessenger(client, TokenSource(BOT_TOKEN, None))


SLACK_PLACE = Place(TEAM, "CGENERAL")


def unknown_params(method: str, params: dict[str, Any]) -> list[str]:
    """Parameters the published Web API description does not know for `method`."""
    if not SLACK_SPEC.exists():
        pytest.skip(f"no Slack Web API spec at {SLACK_SPEC} (a plain clone)")
    path = json.loads(SLACK_SPEC.read_text())["paths"][f"/{method}"]
    known = {p["name"] for op in path.values() for p in op.get("parameters", [])}
    return sorted(set(params) - known - {"token"})


async def test_slack_reminder_in_the_thread_is_broadcast_and_mentions_its_people() -> None:
    async with slack() as (emulator, messenger):
        await messenger.post_notice(
            SLACK_PLACE, reminder("UANA", "URAJ", "Bob", "<!channel>"), "1700000001.000100"
        )
        [call] = emulator.calls_to("chat.postMessage")
    params = call.params
    assert params["thread_ts"] == "1700000001.000100" and params["reply_broadcast"] is True
    assert params["text"].startswith("<@UANA> <@URAJ> ")
    sent = json.dumps(params)
    assert not re.search(r"<!(channel|here|everyone)", sent)
    assert set(re.findall(r"<@(\w+)>", sent)) == {"UANA", "URAJ"}
    assert unknown_params("chat.postMessage", params) == []


async def test_slack_notice_without_a_card_is_a_channel_message() -> None:
    async with slack() as (emulator, messenger):
        await messenger.post_notice(SLACK_PLACE, reminder("UANA", kind=NoticeKind.STARTING), None)
        ended = Notice(NoticeKind.ENDED, "abc234", "Retro", "has ended")
        await messenger.post_notice(SLACK_PLACE, ended, "1700000001.000100")
        starting, closing = emulator.calls_to("chat.postMessage")
    assert "thread_ts" not in starting.params and "reply_broadcast" not in starting.params
    assert starting.params["channel"] == "CGENERAL"
    assert starting.params["text"].startswith("<@UANA> :arrow_forward: ")
    # An ended note stays in the thread: only what must reach people is broadcast.
    assert closing.params["thread_ts"] == "1700000001.000100"
    assert "reply_broadcast" not in closing.params


async def test_slack_private_reminder_is_a_direct_message_to_a_real_user_only() -> None:
    note = Private("“Retro” starts in 10 minutes.", "https://meet.jit.si/x", "Join")
    async with slack() as (emulator, messenger):
        await messenger.send_direct(SLACK_PLACE, "UANA", note)
        await messenger.send_direct(SLACK_PLACE, "Ana Lima", note)
        [call] = emulator.calls_to("chat.postMessage")
    assert call.params["channel"] == "UANA" and "https://meet.jit.si/x" in json.dumps(call.params)


# ---- Discord -----------------------------------------------------------------------------

ANA, RAJ = "1700000000000000011", "1700000000000000012"
DISCORD_PLACE = Place(str(GUILD_ID), str(CHANNEL_ID))


@asynccontextmanager
async def discord_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[tuple[DiscordEmulator, DiscordMessenger]]:
    """A real discord.py client logged in to the loopback Discord over REST (no gateway)."""
    emulator = DiscordEmulator()
    async with serve(emulator.app) as url:
        emulator.base_url = url
        monkeypatch.setattr(Route, "BASE", emulator.api_url)  # discord.py's one endpoint knob
        client = discord.Client(
            intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none()
        )
        await client.login("test-token")
        try:
            yield emulator, DiscordMessenger(client)
        finally:
            await client.close()


def pinged(body: dict[str, Any]) -> list[str]:
    """Whom a message may ping: its users, after checking it allows nothing else."""
    allowed = body["allowed_mentions"]
    assert allowed["parse"] == [] and not allowed.get("replied_user") and not allowed.get("roles")
    return [str(user) for user in allowed.get("users", [])]


async def test_discord_reminder_allows_pings_for_exactly_its_people(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with discord_rest(monkeypatch) as (emulator, messenger):
        notice = reminder(ANA, RAJ, "Bob", "@everyone", ANA)
        await messenger.post_notice(DISCORD_PLACE, notice, "1400000000000000001")
        [sent] = [s for s in emulator.sent if s.kind == "channel"]
    body = sent.body
    assert pinged(body) == [ANA, RAJ]
    assert body["content"].startswith(f"<@{ANA}> <@{RAJ}> **")
    assert str(body["message_reference"]["message_id"]) == "1400000000000000001"
    assert "@everyone" not in body["content"] and "@here" not in body["content"]


async def test_discord_notice_without_mentions_pings_nobody(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with discord_rest(monkeypatch) as (emulator, messenger):
        await messenger.post_notice(DISCORD_PLACE, reminder(), None)
        [sent] = [s for s in emulator.sent if s.kind == "channel"]
    assert pinged(sent.body) == []


async def test_discord_card_names_who_is_going_but_pings_nobody(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    card = Card(
        meeting_id="abc234",
        title=HOSTILE,
        start=START,
        end=START.replace(minute=30),
        organizer_id=ANA,
        provider_label="Jitsi",
        join_url="https://meet.jit.si/x",
        status="scheduled",
        rsvp=Tally(going=(ANA, RAJ)),
    )
    async with discord_rest(monkeypatch) as (emulator, messenger):
        ref = await messenger.post_card(DISCORD_PLACE, card)
        assert ref is not None
        await messenger.update_card(DISCORD_PLACE, ref, card)
        posted, edited = [s for s in emulator.sent if s.kind in ("channel", "edit")]
    for sent in (posted, edited):
        assert pinged(sent.body) == []
        fields = {f["name"]: f["value"] for f in sent.body["embeds"][0]["fields"]}
        assert fields["Answers"].startswith(f"✅ 2 going: <@{ANA}>, <@{RAJ}>")
        ids = [
            c["custom_id"]
            for row in sent.body["components"]
            for c in row["components"]
            if "custom_id" in c
        ]
        assert "convene:going:abc234" in ids and "convene:no:abc234" in ids
