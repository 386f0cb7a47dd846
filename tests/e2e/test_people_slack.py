"""Who is coming and who came, on Slack: the card's answer buttons through the real
slack_bolt and slack_sdk, reminders that mention the people who said Going, a private
reminder by direct message, and join/leave webhooks from Whereby, eyeson and Metered
becoming durations in the organizer's summary."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.slack_rig import SPEC, Rig, block_problems, running, spec_problems
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.emulators.eyeson import EyesonEmulator
from tests.emulators.metered import MeteredEmulator
from tests.emulators.whereby import WherebyEmulator

WB_SECRET = "wb-webhook-secret-e2e"
WB_KEY = "wb-key-e2e"
EY_KEY = "ey-api-key-e2e"
MT_KEY = "mt-secret-key-e2e"
SECRETS = (WB_SECRET, WB_KEY, EY_KEY, MT_KEY, emu.BOT_TOKEN)


async def say(rig: Rig, text: str, user: str = "UANA") -> dict[str, Any]:
    """Run `/meet …` and return its private answer."""
    seen = len(rig.slack.responses)
    status, _ = await rig.command(text, user=user)
    assert status == 200
    return (await rig.slack.wait_for_responses(seen + 1))[seen]


async def press(rig: Rig, action_id: str, meeting_id: str, user: str) -> dict[str, Any]:
    """Press one of the card's buttons as `user`; the private answer to it."""
    seen = len(rig.slack.responses)
    payload = emu.action_payload(
        action_id,
        meeting_id,
        response_url=rig.slack.response_url_for(f"press-{seen}"),
        user=user,
        block_id="meet_rsvp",
    )
    status, _ = await rig.client.interaction(payload)
    assert status == 200
    return (await rig.slack.wait_for_responses(seen + 1))[seen]


def blocks_of(call: emu.ApiCall) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    return found + [b["accessory"] for b in blocks if "accessory" in b]


async def new_card(rig: Rig, text: str) -> tuple[str, emu.ApiCall]:
    """Post a meeting with `/meet …` as Ana; its id and its card."""
    posts = len(rig.slack.calls_to("chat.postMessage"))
    answer = await say(rig, text)
    assert "Sorry" not in answer["text"], answer["text"]
    card = (await rig.slack.wait_for("chat.postMessage", posts + 1))[posts]
    [end] = [b for b in buttons(blocks_of(card)) if b.get("action_id") == "meet_end"]
    return str(end["value"]), card


async def until(check: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def tally_of(call: emu.ApiCall) -> str:
    """The card's tally line (a context block under the answer buttons)."""
    texts = [
        element.get("text", "")
        for block in blocks_of(call)
        if block["type"] == "context"
        for element in block["elements"]
    ]
    return next((t for t in texts if "going" in t), "")


async def test_two_people_press_going_and_the_card_shows_both(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        meeting_id, card = await new_card(rig, "/meet Sync in 1h for 30m")
        ids = [b.get("action_id") for b in buttons(blocks_of(card))]
        assert {"meet_going", "meet_maybe", "meet_no", "meet_remind_me"} <= set(ids)
        first = await press(rig, "meet_going", meeting_id, "UANA")
        second = await press(rig, "meet_going", meeting_id, "URAJ")
        assert first["response_type"] == second["response_type"] == "ephemeral"
        assert "going to “Sync”" in second["text"]

        def shows_both() -> bool:
            updates = rig.slack.calls_to("chat.update")
            return bool(updates) and "<@UANA>, <@URAJ>" in tally_of(updates[-1])

        await until(shows_both, "the card showing both answers")
        [update] = rig.slack.calls_to("chat.update")[-1:]
        assert update.params["ts"] == rig.slack.posted_ts[0]
        assert "✅ 2 going" in tally_of(update)
        assert not block_problems(rig.slack.calls_to("chat.update"))


async def test_a_burst_of_fifty_presses_makes_only_a_few_card_updates(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        meeting_id, _ = await new_card(rig, "/meet Town hall in 1h")
        people = [f"U{n:03d}X" for n in range(50)]
        for person in people:
            rig.slack.user(person, real_name=f"Person {person}")
        for person in people:
            await press(rig, "meet_going", meeting_id, person)

        def all_shown() -> bool:
            updates = rig.slack.calls_to("chat.update")
            return bool(updates) and "✅ 50 going" in tally_of(updates[-1])

        await until(all_shown, "the card counting all fifty")
        assert len(rig.slack.calls_to("chat.update")) <= 6


async def test_the_reminder_mentions_who_is_coming_and_dms_who_asked(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        rig.slack.user("ULEE", real_name="Lee")
        meeting_id, _ = await new_card(rig, "/meet Sync in 1h for 30m with <@URAJ>")
        await press(rig, "meet_going", meeting_id, "UANA")
        await press(rig, "meet_going", meeting_id, "URAJ")  # also invited: mentioned once
        asked = await press(rig, "meet_remind_me", meeting_id, "ULEE")
        assert "privately" in asked["text"]
        typed = await say(rig, f"/meet remind me {meeting_id}", user="URAJ")
        assert "privately" in typed["text"]
        posts = len(rig.slack.calls_to("chat.postMessage"))
        rig.clock.advance(minutes=50)  # 09:50, the reminder's time
        await rig.app.lifecycle.sweep()
        sent = (await rig.slack.wait_for("chat.postMessage", posts + 3))[posts:]
        [reminder] = [c for c in sent if c.params["channel"] == "CGENERAL"]
        assert reminder.params["thread_ts"] == rig.slack.posted_ts[0]
        assert reminder.params["reply_broadcast"] is True  # the channel sees it too
        assert reminder.params["text"].startswith("<@UANA> <@URAJ> ")
        assert "<!channel>" not in reminder.params["text"]
        assert "<!here>" not in reminder.params["text"]
        dms = sorted(c.params["channel"] for c in sent if c.params["channel"] != "CGENERAL")
        assert dms == ["ULEE", "URAJ"]
        posts = len(rig.slack.calls_to("chat.postMessage"))
        rig.clock.advance(minutes=10)
        await rig.app.lifecycle.sweep()
        await rig.slack.wait_for("chat.postMessage", posts + 1)
        [starting] = [
            c
            for c in rig.slack.calls_to("chat.postMessage")[posts:]
            if "starting now" in c.params["text"]
        ]
        assert starting.params["text"].startswith("<@UANA> <@URAJ> ")
        assert starting.params["reply_broadcast"] is True
        if SPEC.exists():  # a plain clone has no spec; the payloads are then not checked
            assert not spec_problems(rig.slack.api)
            assert not block_problems(rig.slack.api)


async def test_mentions_off_reminds_the_channel_without_naming_anyone(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        rig.slack.user("UANA", real_name="Ana", tz="Europe/Berlin", is_admin=True)
        set_off = await say(rig, "/meet config mentions off")
        assert "Sorry" not in set_off["text"], set_off["text"]
        meeting_id, _ = await new_card(rig, "/meet Sync in 1h with <@URAJ>")
        await press(rig, "meet_going", meeting_id, "UANA")
        posts = len(rig.slack.calls_to("chat.postMessage"))
        rig.clock.advance(minutes=50)
        await rig.app.lifecycle.sweep()
        [reminder] = (await rig.slack.wait_for("chat.postMessage", posts + 1))[posts:]
        assert "<@" not in reminder.params["text"] and reminder.params["reply_broadcast"]


# ---- attendance from the providers' webhooks -------------------------------------------


def free_port() -> int:
    """A port to run convene on, so the providers can be told its public address first."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Side:
    """One provider as the test drives it: its emulator, convene's settings for it, what
    the room reports for a personal link's person, and its signed join/leave webhook."""

    emulator: WherebyEmulator | EyesonEmulator | MeteredEmulator

    def settings(self, base: str) -> dict[str, Any]:
        raise NotImplementedError

    def person(self, link: str) -> dict[str, Any]:
        raise NotImplementedError

    def guest(self) -> dict[str, Any]:
        raise NotImplementedError

    async def send(
        self, client: httpx.AsyncClient, rig: Rig, room: str, who: dict[str, Any], joined: bool
    ) -> None:
        raise NotImplementedError


class WherebySide(Side):
    def __init__(self) -> None:
        self.emulator = self.whereby = WherebyEmulator(api_key=WB_KEY, webhook_secret=WB_SECRET)

    def settings(self, base: str) -> dict[str, Any]:
        return {
            "whereby_api_key": WB_KEY,
            "whereby_api_url": f"{base}/v1",
            "whereby_webhook_secret": WB_SECRET,
        }

    def person(self, link: str) -> dict[str, Any]:
        return {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}

    def guest(self) -> dict[str, Any]:
        return {"displayName": "Walk In", "participantId": "p-walk-in"}

    async def send(
        self, client: httpx.AsyncClient, rig: Rig, room: str, who: dict[str, Any], joined: bool
    ) -> None:
        kind = "room.client.joined" if joined else "room.client.left"
        url = f"{rig.base}/webhooks/whereby"
        sent = await self.whereby.post_event(client, url, kind, room, rig.clock(), **who)
        assert sent.status_code == 200


class EyesonSide(Side):
    def __init__(self) -> None:
        self.emulator = self.eyeson = EyesonEmulator(api_key=EY_KEY)

    def settings(self, base: str) -> dict[str, Any]:
        return {"eyeson_api_key": EY_KEY, "eyeson_api_url": base}

    def person(self, link: str) -> dict[str, Any]:
        guest = self.eyeson.guests[link.rsplit("?", 1)[1]]
        return {"id": guest["id"], "name": guest["name"], "guest": True}

    def guest(self) -> dict[str, Any]:
        return {"id": "guest-walk-in", "name": "Walk In", "guest": True}

    async def send(
        self, client: httpx.AsyncClient, rig: Rig, room: str, who: dict[str, Any], joined: bool
    ) -> None:
        [sent] = await self.eyeson.post_participant(client, room, who, online=joined)
        assert sent.status_code == 200


class MeteredSide(Side):
    def __init__(self) -> None:
        self.emulator = self.metered = MeteredEmulator(secret_key=MT_KEY)

    def settings(self, base: str) -> dict[str, Any]:
        return {"metered_secret_key": MT_KEY, "metered_api_url": f"{base}/api/v1"}

    def person(self, link: str) -> dict[str, Any]:
        return {"name": "Raj", "token": parse_qs(urlsplit(link).query)["token"][0]}

    def guest(self) -> dict[str, Any]:
        return {"name": "Walk In"}

    async def send(
        self, client: httpx.AsyncClient, rig: Rig, room: str, who: dict[str, Any], joined: bool
    ) -> None:
        sent = await self.metered.post_event(
            client, room, joined=joined, name=who["name"], token=who.get("token")
        )
        assert sent.status_code == 200


SIDES: dict[str, Callable[[], Side]] = {
    "whereby": WherebySide,
    "eyeson": EyesonSide,
    "metered": MeteredSide,
}


@asynccontextmanager
async def provider_rig(tmp_path: Path, name: str) -> AsyncIterator[tuple[Rig, Side]]:
    """convene on Slack with `name` as the provider, on a port chosen first so that its
    public address (webhook registration, Metered's per-room webhooks) is known."""
    side = SIDES[name]()
    port = free_port()
    async with (
        serve(side.emulator.app) as base,
        running(
            tmp_path,
            provider=name,
            http_port=port,
            public_url=f"http://127.0.0.1:{port}",
            **side.settings(base),
        ) as rig,
    ):
        await until_serving(rig)
        if isinstance(side, EyesonSide):  # registered through eyeson's API at start
            await until(lambda: bool(side.eyeson.webhooks), "eyeson's webhook registered")
        yield rig, side


async def until_serving(rig: Rig) -> None:
    """The rig returns once the port is known; a port given in advance is known at once."""
    for _ in range(500):
        try:
            async with rig.session.get(f"{rig.base}/healthz") as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.01)
    raise AssertionError("convene never started serving")


def my_link(answer: dict[str, Any]) -> str:
    """The link in a private answer's button."""
    urls = [b["url"] for b in buttons(answer["blocks"]) if "url" in b]
    assert len(urls) == 1, answer
    return str(urls[0])


@pytest.mark.parametrize("name", ["whereby", "eyeson", "metered"])
async def test_join_and_leave_webhooks_become_durations_in_the_summary(
    tmp_path: Path, name: str
) -> None:
    async with provider_rig(tmp_path, name) as (rig, side), httpx.AsyncClient() as client:
        meeting_id, _ = await new_card(rig, "/meet Retro for 45m")
        meeting = await rig.app.core.get_meeting(meeting_id)
        assert meeting is not None
        await press(rig, "meet_going", meeting_id, "URAJ")
        raj = side.person(my_link(await press(rig, "meet_my_link", meeting_id, "URAJ")))
        guest = side.guest()
        await side.send(client, rig, meeting.room_id, raj, True)
        rig.clock.advance(minutes=5)
        await side.send(client, rig, meeting.room_id, guest, True)
        rig.clock.advance(minutes=10)
        await side.send(client, rig, meeting.room_id, guest, False)
        rig.clock.advance(minutes=5)
        await side.send(client, rig, meeting.room_id, raj, False)  # Raj 20 min, the guest 10
        rig.clock.advance(minutes=1)
        privates = len(rig.slack.calls_to("chat.postEphemeral"))
        ended = await say(rig, f"/meet end {meeting_id}")
        assert "Ended" in ended["text"], ended["text"]
        await rig.slack.wait_for("chat.postEphemeral", privates + 2)
        prompted = [c.params["user"] for c in rig.slack.calls_to("chat.postEphemeral")[privates:]]
        assert sorted(prompted) == ["UANA", "URAJ"]  # organizer, Going and matched: once
        privates = len(rig.slack.calls_to("chat.postEphemeral"))
        rig.clock.advance(hours=25)
        await rig.app.lifecycle.sweep()
        [summary] = (await rig.slack.wait_for("chat.postEphemeral", privates + 1))[privates:]
        assert summary.params["user"] == "UANA"
        text = summary.params["text"]
        assert "1 of 1 who said Going came" in text
        assert "Raj 20 min" in text and "1 guest" in text
        addressed = {c.params.get("user") or c.params.get("channel") for c in rig.slack.api}
        assert not {"Walk In", "Raj"} & addressed  # never a display name
        public = rig.slack.public_payloads()
        assert not [secret for secret in SECRETS if secret in public]
