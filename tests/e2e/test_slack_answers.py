"""Private answers that never vanish, through the real bolt and slack_sdk: a command
without a response_url, a response_url that fails, and chat.postEphemeral failing too.

Whatever happens, the host link reaches only its owner, or the owner is told how to
get it again; the log says what failed once, and never holds the link.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.slack_rig import Rig, block_problems, running
from tests.emulators import slack as emu

HANDLERS = "adapters.slack.handlers"


def blocks_of(call: emu.ApiCall) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def host_link_in(call: emu.ApiCall) -> str | None:
    """The host-link button's URL in an ephemeral message, if it carries one."""
    for block in blocks_of(call):
        accessory = block.get("accessory") or {}
        if str(accessory.get("action_id", "")).startswith("meet_link"):
            return str(accessory["url"])
    return None


def warnings_from_handlers(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == HANDLERS and r.levelno >= logging.WARNING
    ]


async def handler_warnings(caplog: pytest.LogCaptureFixture, want: int = 1) -> list[str]:
    """The handlers' warnings, once `want` have been logged: a warning about a delivery
    is written just after that delivery reaches the emulator."""
    for _ in range(200):
        found = warnings_from_handlers(caplog)
        if len(found) >= want:
            return found
        await asyncio.sleep(0.01)
    return warnings_from_handlers(caplog)


def assert_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "Traceback" not in caplog.text


async def command(rig: Rig, text: str, response_url: str | None) -> None:
    payload = emu.command_payload(text, response_url=response_url or "")
    if response_url is None:
        del payload["response_url"]  # signed, from a client that omits it
    status, _ = await rig.client.command(payload)
    assert status == 200


async def test_a_command_without_response_url_is_answered_by_ephemeral(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as rig:
        await command(rig, "/meet Retro in 10m", response_url=None)
        [card] = await rig.slack.wait_for_cards()
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        assert (private.params["channel"], private.params["user"]) == ("CGENERAL", "UANA")
        assert "Retro" in private.params["text"] and private.token == emu.BOT_TOKEN
        host = host_link_in(private)
        assert host and host not in rig.slack.public_payloads() and host not in caplog.text
        assert rig.slack.responses == []
        assert "Retro" in json.dumps(card.params["blocks"])
        assert_no_traceback(caplog)
        assert warnings_from_handlers(caplog) == []  # the expected path, nothing failed
        assert block_problems(rig.slack.api) == []


@pytest.mark.parametrize("failure", ["500", "404"])
async def test_a_failing_response_url_falls_back_to_ephemeral_with_the_host_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as rig:
        if failure == "500":
            rig.slack.fail(500, path_contains="/response/")
            url = rig.slack.response_url_for("fails")
        else:
            url = f"{rig.slack.base_url}/expired/response/1"  # no such route: 404
        await command(rig, "/meet Retro in 10m", response_url=url)
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        assert rig.slack.calls(path_contains="/response/")  # it was tried first
        assert rig.slack.responses == []
        host = host_link_in(private)
        assert host and host not in rig.slack.public_payloads() and host not in caplog.text
        [warning] = await handler_warnings(caplog)
        assert f"HTTP {failure}" in warning and url not in warning
        assert_no_traceback(caplog)


async def test_a_button_whose_response_url_fails_is_still_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(tmp_path) as rig:
        await command(rig, "/meet Standup in 5m", response_url=rig.slack.response_url_for(1))
        [card] = await rig.slack.wait_for_cards()
        meeting_id = next(
            e["value"]
            for b in blocks_of(card)
            if b["type"] == "actions"
            for e in b["elements"]
            if e.get("value")
        )
        gone = f"{rig.slack.base_url}/expired/response/2"
        await rig.client.interaction(
            emu.action_payload("meet_end", meeting_id, response_url=gone, user="URAJ")
        )
        [refusal] = await rig.slack.wait_for("chat.postEphemeral")
        assert refusal.params["user"] == "URAJ" and "Only the organizer" in refusal.params["text"]
        assert rig.slack.calls_to("chat.update") == []


async def test_when_the_ephemeral_fails_too_the_user_learns_how_to_get_the_host_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as rig:
        rig.slack.fail(500, path_contains="/response/")
        rig.slack.error_next("chat.postEphemeral", "invalid_blocks")
        await command(rig, "/meet Retro in 10m", response_url=rig.slack.response_url_for(1))
        [full, short] = await rig.slack.wait_for("chat.postEphemeral", 2)
        host = host_link_in(full)
        assert host and "blocks" not in short.params
        assert short.params["user"] == "UANA" and host not in json.dumps(short.params)
        assert "use /meet host &lt;id&gt; to get your host link" in short.params["text"]
        assert re.search(r"“Retro” is set for .* \(id \w+\)\.", short.params["text"])
        [warning] = await handler_warnings(caplog)
        assert "sent as text only" in warning and "invalid_blocks" in warning
        assert host not in caplog.text
        assert_no_traceback(caplog)


async def test_when_nothing_reaches_the_user_one_warning_says_so_without_the_link(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(tmp_path) as rig:
        rig.slack.fail(500, path_contains="/response/")
        rig.slack.error_next("chat.postEphemeral", "channel_not_found")
        rig.slack.error_next("chat.postEphemeral", "channel_not_found")
        await command(rig, "/meet Retro in 10m", response_url=rig.slack.response_url_for(1))
        [full, _] = await rig.slack.wait_for("chat.postEphemeral", 2)
        host = host_link_in(full)
        assert host
        [warning] = await handler_warnings(caplog)
        assert "lost" in warning and "channel_not_found" in warning and "HTTP 500" in warning
        assert host not in caplog.text and host not in rig.slack.public_payloads()
        assert_no_traceback(caplog)
