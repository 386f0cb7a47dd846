"""Slack's native call card: the real slack_sdk AsyncWebClient against the loopback Slack,
driven through convene's SlackCalls surface. What a member would see: Slack's call card
in the meeting's thread with the join link, the people in the call, the card ending
with the meeting; and convene's own card alone when the Calls scopes are missing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.calls import SlackCalls, calls_scopes_missing
from adapters.slack.messenger import TokenSource
from adapters.slack.oauth import SCOPES
from tests.e2e.slack_rig import block_problems, needs_spec, spec_problems
from tests.e2e.surfaces import HOST_SECRET, NOW, MemoryState, meeting, moved
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.fakes import FakeClock

CARD_TS = "1700000001.000100"


@pytest.fixture
async def slack() -> AsyncIterator[emu.SlackEmulator]:
    emulator = emu.SlackEmulator()
    async with serve(emulator.app) as url:
        emulator.base_url = url
        yield emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def calls(slack: emu.SlackEmulator, clock: FakeClock) -> AsyncIterator[SlackCalls]:
    client = AsyncWebClient(base_url=f"{slack.base_url}/api/")
    yield SlackCalls(client, TokenSource(emu.BOT_TOKEN, None), MemoryState(), clock=clock)


def on_slack(meeting_id: str = "abc234", **kwargs: Any) -> Any:
    return meeting(
        meeting_id,
        platform="slack",
        workspace=emu.TEAM,
        channel="CGENERAL",
        organizer="UANA",
        message_ref=CARD_TS,
        **kwargs,
    )


def sent(slack: emu.SlackEmulator) -> str:
    return json.dumps([c.params for c in slack.api])


async def test_a_started_meeting_shows_slacks_call_card_with_the_join_link(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock
) -> None:
    review = on_slack(title="Design review")
    await calls.planned(review)  # a booked meeting: no call before it starts
    assert slack.calls_to("calls.add") == []
    clock.set(review.start)
    await calls.started(review)
    await calls.started(review)  # the sweep after the timer: still one call

    [added] = slack.calls_to("calls.add")
    assert added.params["join_url"] == review.join_url
    assert added.params["external_unique_id"] == "convene-abc234"
    assert added.params["title"] == "Design review"
    assert int(added.params["date_start"]) == int(review.start.timestamp())
    assert added.params["created_by"] == "UANA"
    [call] = slack.slack_calls.values()
    assert slack.call_blocks() == [
        {"type": "call", "call_id": call["id"], "channel": "CGENERAL", "thread_ts": CARD_TS}
    ]
    assert HOST_SECRET not in sent(slack) and (review.host_url or "") not in sent(slack)


async def test_an_instant_meeting_gets_its_call_at_once(
    slack: emu.SlackEmulator, calls: SlackCalls
) -> None:
    now = on_slack(starts_in=timedelta(0), instant=True)
    await calls.planned(now)  # the card is posted: the call comes with it
    assert len(slack.calls_to("calls.add")) == 1 and len(slack.call_blocks()) == 1
    await calls.started(now)  # the lifecycle's start for the same meeting adds nothing
    assert len(slack.calls_to("calls.add")) == 1


async def test_attendance_fills_the_call_and_the_end_stops_offering_join(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock
) -> None:
    review = on_slack()
    clock.set(review.start)
    await calls.started(review)
    [call] = slack.slack_calls.values()
    await calls.joined(review, "URAJ")
    await calls.joined(review, "Guest from the provider")
    assert call["users"][0] == {"slack_id": "URAJ"}
    await calls.left(review, "URAJ")
    assert call["users"] == [
        {"external_id": "Guest from the provider", "display_name": "Guest from the provider"}
    ]

    clock.set(review.start + timedelta(minutes=40))
    await calls.ended(review)
    assert "date_end" in call
    [ended] = slack.calls_to("calls.end")
    assert ended.params == {"id": call["id"], "duration": str(40 * 60)}
    await calls.ended(review)  # the expiry after /meet end
    await calls.cancelled(review)
    await calls.joined(review, "ULATE")
    assert len(slack.calls_to("calls.end")) == 1
    assert slack.calls_to("calls.participants.add")[-1].params["users"].count("ULATE") == 0


async def test_cancelling_ends_a_call_only_when_there_is_one(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock
) -> None:
    booked, running = on_slack("abc234"), on_slack("def567", title="Standup")
    await calls.planned(booked)
    await calls.cancelled(booked)
    assert slack.calls_to("calls.end") == []
    clock.set(running.start)
    await calls.started(running)
    await calls.cancelled(running)
    [call] = slack.slack_calls.values()
    assert "date_end" in call and call["title"] == "Standup"


async def test_renaming_a_running_meeting_renames_its_call(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock
) -> None:
    review = on_slack()
    clock.set(review.start)
    await calls.started(review)
    await calls.changed(moved(review, timedelta(0), title="Review, part two"))
    [call] = slack.slack_calls.values()
    assert call["title"] == "Review, part two"


async def test_without_the_calls_scopes_convenes_card_stands_alone(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    slack.scopes.discard("calls:write")
    first, second = on_slack("abc234"), on_slack("def567")
    clock.set(first.start)
    await calls.started(first)  # refused: no exception, no call block
    await calls.started(second)
    await calls.ended(first)
    assert len(slack.calls_to("calls.add")) == 1  # tried once for the workspace, then left alone
    assert slack.calls_to("chat.postMessage") == [] and slack.slack_calls == {}
    assert sum("calls are off" in r.getMessage() for r in caplog.records) == 1

    slack.scopes.add("calls:write")  # reinstalled with the scopes
    await calls.allow_again(emu.TEAM)
    await calls.started(second)
    assert len(slack.slack_calls) == 1


async def test_slack_failures_never_reach_the_lifecycle(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    review = on_slack()
    clock.set(review.start)
    slack.error_next("calls.add", "internal_error")
    await calls.started(review)
    assert slack.slack_calls == {}
    await calls.started(review)  # the next try works
    assert len(slack.slack_calls) == 1
    assert any("internal_error" in r.getMessage() for r in caplog.records)
    assert emu.BOT_TOKEN not in caplog.text


def test_convene_check_names_the_missing_calls_scopes() -> None:
    assert calls_scopes_missing(SCOPES) == []
    assert calls_scopes_missing(["commands,chat:write,calls:read"]) == ["calls:write"]
    assert calls_scopes_missing(["commands", "chat:write"]) == ["calls:read", "calls:write"]


@needs_spec
async def test_calls_bodies_match_the_slack_web_api_spec(
    slack: emu.SlackEmulator, calls: SlackCalls, clock: FakeClock
) -> None:
    review = on_slack()
    clock.set(review.start)
    await calls.started(review)
    await calls.joined(review, "URAJ")
    await calls.left(review, "URAJ")
    await calls.changed(moved(review, timedelta(0), title="Renamed"))
    await calls.ended(review)
    methods = {c.method for c in slack.api}
    assert {"calls.add", "calls.end", "calls.update", "chat.postMessage"} <= methods
    assert {"calls.participants.add", "calls.participants.remove"} <= methods
    assert spec_problems(slack.api) == []
    assert block_problems(slack.api) == []
