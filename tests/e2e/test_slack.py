"""/meet through the real slack_bolt and slack_sdk, against the loopback Slack emulator."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from tests.e2e.slack_rig import (
    NOW,
    Rig,
    SlowProvider,
    block_problems,
    needs_spec,
    running,
    spec_problems,
)
from tests.emulators import slack as emu
from tests.fakes import StaticProviders
from tests.moments import BERLIN, at
from tests.slack_reader import forgeries


def host_links(rig: Rig) -> list[str]:
    """Every link that reached the caller privately through response_url."""
    links = []
    for response in rig.slack.responses:
        for block in response.get("blocks", []):
            url = (block.get("accessory") or {}).get("url")
            if url and block["accessory"]["action_id"].startswith("meet_link"):
                links.append(url)
    return links


async def test_meet_posts_card_publicly_and_host_link_privately(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as rig:
        status, _ = await rig.command("/meet Retro at 16:00 for 30m")
        assert status == 200
        [card] = await rig.slack.wait_for_cards()
        [reply] = await rig.slack.wait_for_responses()
        assert card.token == emu.BOT_TOKEN and card.params["channel"] == "CGENERAL"
        blocks = json.dumps(card.params["blocks"])
        start = int(at(NOW.date(), 16, 0, BERLIN).timestamp())  # Ana is in Berlin
        assert f"<!date^{start}^{{date_short_pretty}} {{time}}|" in blocks
        assert "Retro" in blocks and "<@UANA>" in blocks
        [join] = [
            e for b in card.params["blocks"] if b["type"] == "actions" for e in b["elements"]
        ][:1]
        assert join["url"].startswith("https://meet.jit.si/") and "jwt=" in join["url"]
        assert reply["response_type"] == "ephemeral"
        [host] = host_links(rig)
        assert host != join["url"]
        assert host not in rig.slack.public_payloads()
        assert host not in caplog.text
        assert emu.BOT_TOKEN not in caplog.text
        assert rig.slack.calls_to("users.info")[0].params["user"] == "UANA"
        assert block_problems(rig.slack.api) == []


@needs_spec
async def test_payloads_match_the_web_api_spec(tmp_path: Path) -> None:
    """Every method and parameter convene sends, from the card to its update, is in the spec."""
    async with running(tmp_path) as rig:
        await rig.command("/meet Spec check in 10m")
        [card] = await rig.slack.wait_for_cards()
        [meeting_id] = {
            e["value"]
            for b in card.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("value")
        }
        await rig.command(f"/meet cancel {meeting_id}")
        await rig.slack.wait_for("chat.update")
        await rig.slack.wait_for_responses(2)
        assert {c.method for c in rig.slack.api} >= {
            "users.info",
            "chat.postMessage",
            "chat.update",
        }
        assert spec_problems(rig.slack.api) == []


async def test_titles_cannot_ping_the_channel(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        title = "<!channel> @here <!everyone> & <@UBOSS>"
        await rig.command(f'/meet "{title}" in 10m')
        [card] = await rig.slack.wait_for_cards()
        public = rig.slack.public_payloads()
        for raw in ("<!channel>", "<!everyone>", "<@UBOSS>", "@here"):
            assert raw not in public
        assert "&lt;!channel&gt;" in public and "&amp;" in public
        assert "link_names" not in card.params
        [join] = _join_urls(card.params["blocks"])
        calendar = _button_urls(card.params["blocks"], "meet_link_")
        assert len(calendar) == 2  # Google and Outlook; no .ics without a public URL
        assert forgeries(card.params, title, {join, *calendar}) == []


FORGED = [
    "Line one\nLine two: *APPROVED*",
    "Join: https://evil.example/login",
    "<https://evil.example|Join>",
    "*bold*",
    "@channel",
    "<!here>",
]


def _join_urls(blocks: object) -> list[str]:
    return _button_urls(blocks, "meet_join")


def _button_urls(blocks: object, action_prefix: str) -> list[str]:
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert isinstance(blocks, list)
    return [
        e["url"]
        for b in blocks
        if b["type"] in ("actions", "section")
        for e in (b.get("elements") or [b.get("accessory") or {}])
        if str(e.get("action_id", "")).startswith(action_prefix)
    ]


@pytest.mark.parametrize("title", FORGED)
async def test_forged_titles_read_literally_wherever_slack_shows_them(
    tmp_path: Path, title: str
) -> None:
    """The card, its update, the listing and the private answers, as bolt and slack_sdk
    really post them: the title neither formats nor links, and breaks no line in public."""
    async with running(tmp_path) as rig:
        await rig.command(f'/meet "{title}" in 10m')
        [card] = await rig.slack.wait_for_cards()
        [made] = await rig.slack.wait_for_responses()
        [join] = _join_urls(card.params["blocks"])
        [host] = host_links(rig)
        calendar = _button_urls(card.params["blocks"], "meet_link_")
        assert forgeries(card.params, title, {join, *calendar}) == []
        assert forgeries(made, title, {host}, collapse=False) == []  # prose keeps the text

        await rig.command("/meet list")
        [_, listing] = await rig.slack.wait_for_responses(2)
        assert forgeries(listing, title, {join}) == []

        meeting_id = next(
            e["value"]
            for b in card.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("value")
        )
        await rig.command(f"/meet cancel {meeting_id}")
        [update] = await rig.slack.wait_for("chat.update")
        assert forgeries(update.params, title, set()) == []
        [*_, cancelled] = await rig.slack.wait_for_responses(3)
        assert forgeries(cancelled, title, set(), collapse=False) == []
        assert block_problems(rig.slack.api) == []


async def test_bad_signature_and_stale_timestamp_are_refused(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        payload = emu.command_payload("/meet", response_url=rig.slack.response_url_for())
        forged, _ = await rig.client.command(payload, secret="not-the-secret")
        stale, _ = await rig.client.command(payload, timestamp=int(time.time()) - 600)
        assert (forged, stale) == (401, 401)
        assert rig.slack.api == [] and rig.slack.responses == []


async def test_ack_is_fast_even_when_the_provider_is_slow(tmp_path: Path) -> None:
    providers = StaticProviders(jitsi=SlowProvider(delay=5))
    async with running(tmp_path, providers=providers) as rig:
        started = time.monotonic()
        status, _ = await rig.command("/meet Slow one")
        assert status == 200
        assert time.monotonic() - started < 3
        [card] = await rig.slack.wait_for_cards(timeout=15)
        assert "meet.example" in json.dumps(card.params["blocks"])
        await rig.slack.wait_for_responses()


async def test_provider_failure_is_one_private_error_and_nothing_public(tmp_path: Path) -> None:
    providers = StaticProviders(jitsi=SlowProvider(fail=True))
    async with running(tmp_path, providers=providers) as rig:
        await rig.command("/meet Doomed")
        [reply] = await rig.slack.wait_for_responses()
        assert reply["response_type"] == "ephemeral"
        assert "could not create the room" in reply["text"]
        assert rig.slack.calls_to("chat.postMessage") == []


async def test_end_button_by_organizer_closes_and_others_are_refused(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        await rig.command("/meet Standup in 5m")
        [card] = await rig.slack.wait_for_cards()
        end = next(
            e
            for b in card.params["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"] == "meet_end"
        )
        url = rig.slack.response_url_for("raj")
        await rig.client.interaction(
            emu.action_payload("meet_end", end["value"], response_url=url, user="URAJ")
        )
        [_, refusal] = await rig.slack.wait_for_responses(2)
        assert refusal["response_type"] == "ephemeral" and "Only the organizer" in refusal["text"]
        assert rig.slack.calls_to("chat.update") == []
        url = rig.slack.response_url_for("ana")
        await rig.client.interaction(emu.action_payload("meet_end", end["value"], response_url=url))
        [update] = await rig.slack.wait_for("chat.update")
        assert update.params["ts"] == rig.slack.posted_ts[0]
        assert "meet.jit.si" not in json.dumps(update.params["blocks"])
        assert "meet_end" not in json.dumps(update.params["blocks"])
        assert "Ended" in json.dumps(update.params["blocks"])
        await rig.slack.wait_for_responses(3)
        assert block_problems(rig.slack.api) == []


async def test_slack_errors_become_a_private_note_with_the_join_link(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        rig.slack.error_next("chat.postMessage", "not_in_channel")
        await rig.command("/meet Private room in 10m")
        [reply] = await rig.slack.wait_for_responses()
        assert "invite it with /invite @convene" in reply["text"]
        buttons = [(block.get("accessory") or {}) for block in reply.get("blocks", [])]
        join = [b["url"] for b in buttons if b.get("text", {}).get("text") == "Join"]
        assert join and join[0].startswith("https://meet.jit.si/")  # a button, privately


async def test_rate_limited_post_is_retried_after_retry_after(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        rig.slack.fail(
            429,
            headers={"Retry-After": "1"},
            body={"ok": False, "error": "ratelimited"},
            path_contains="chat.postMessage",
        )
        await rig.command("/meet Busy in 10m")
        await rig.slack.wait_for_responses(timeout=15)
        posts = [r for r in rig.slack.requests if r.path.endswith("chat.postMessage")]
        assert len(posts) == 2  # the 429, then the retry
        assert len(rig.slack.calls_to("chat.postMessage")) == 1
        assert "could not be posted" not in rig.slack.responses[0]["text"]
