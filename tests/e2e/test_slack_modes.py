"""The scheduling form, OAuth installs, uninstalls and Socket Mode, end to end."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from storage.slack_installs import StoreInstallationStore
from tests.e2e.slack_rig import NOW, Rig, block_problems, running
from tests.emulators import slack as emu


def form_values(
    title: str = "Planning",
    day: str = f"{NOW + timedelta(days=1):%Y-%m-%d}",  # the rig's tomorrow
    clock: str = "10:00",
    duration: str = "45m",
    repeat: str = "none",
    remind: str = "default",
) -> dict[str, Any]:
    def select(value: str) -> dict[str, Any]:
        return {"type": "static_select", "selected_option": {"value": value}}

    return {
        "title": {"value": {"type": "plain_text_input", "value": title}},
        "date": {"value": {"type": "datepicker", "selected_date": day}},
        "time": {"value": {"type": "timepicker", "selected_time": clock}},
        "duration": {"value": {"type": "plain_text_input", "value": duration}},
        "repeat": {"value": select(repeat)},
        "remind": {"value": select(remind)},
    }


async def open_form(rig: Rig) -> dict[str, Any]:
    await rig.command("/meet schedule")
    [opened] = await rig.slack.wait_for("views.open")
    assert opened.params["trigger_id"] == "trigger-1"
    view = opened.params["view"]
    return json.loads(view) if isinstance(view, str) else view


async def test_schedule_opens_the_form_and_a_valid_submission_creates_the_meeting(
    tmp_path: Path,
) -> None:
    async with running(tmp_path) as rig:
        view = await open_form(rig)
        assert view["callback_id"] == "meet_schedule"
        assert block_problems(rig.slack.calls_to("views.open")) == []
        payload = emu.view_payload(form_values(), view["private_metadata"])
        status, body = await rig.client.interaction(payload)
        assert status == 200 and "errors" not in body
        [card] = await rig.slack.wait_for_cards()
        assert "Planning" in json.dumps(card.params["blocks"])
        [private] = await rig.slack.wait_for("chat.postEphemeral")
        assert private.params["channel"] == "CGENERAL" and private.params["user"] == "UANA"
        assert "Planning" in private.params["text"]


async def test_form_errors_come_back_under_the_field(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        view = await open_form(rig)
        bad_time = emu.view_payload(form_values(clock="25:00"), view["private_metadata"])
        status, body = await rig.client.interaction(bad_time)
        answer = json.loads(body)
        assert status == 200 and answer["response_action"] == "errors"
        assert "25:00" in answer["errors"]["time"]
        bad_length = emu.view_payload(form_values(duration="forever"), view["private_metadata"])
        answer = json.loads((await rig.client.interaction(bad_length))[1])
        assert set(answer["errors"]) == {"duration"}
        assert rig.slack.calls_to("chat.postMessage") == []


async def test_help_offers_the_form_as_a_button(tmp_path: Path) -> None:
    async with running(tmp_path) as rig:
        await rig.command("/meet help")
        [reply] = await rig.slack.wait_for_responses()
        buttons = [e for b in reply["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [b["action_id"] for b in buttons] == ["meet_open_schedule"]
        url = rig.slack.response_url_for("form")
        await rig.client.interaction(emu.action_payload("meet_open_schedule", "", response_url=url))
        [opened] = await rig.slack.wait_for("views.open")
        assert opened.params["trigger_id"] == "trigger-2"


async def installed_teams(rig: Rig, teams: tuple[str, ...] = ("T0SECOND",)) -> list[str]:
    """The teams whose bot token convene holds, read as bolt reads them."""
    installs = StoreInstallationStore(rig.app.store, rig.app.service.now)
    found = [await installs.async_find_bot(enterprise_id=None, team_id=team) for team in teams]
    return [bot.team_id for bot in found if bot is not None and bot.bot_token and bot.team_id]


# slack_sdk's oauth.v2.access still builds aiohttp.BasicAuth, deprecated in aiohttp 3.14.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_oauth_install_then_commands_use_the_stored_token_until_uninstalled(
    tmp_path: Path,
) -> None:
    oauth = {
        "slack_bot_token": None,
        "slack_client_id": emu.CLIENT_ID,
        "slack_client_secret": emu.CLIENT_SECRET,
    }
    async with running(tmp_path, **oauth) as rig:
        async with rig.session.get(f"{rig.base}/slack/install", allow_redirects=False) as r:
            assert r.status == 302
            location = r.headers["Location"]
            cookie = r.headers["Set-Cookie"].split(";")[0]
        assert location.startswith(f"{rig.slack.base_url}/oauth/v2/authorize?")
        query = parse_qs(urlsplit(location).query)
        assert query["client_id"] == [emu.CLIENT_ID]
        assert set(query["scope"][0].split(",")) == {
            "commands",
            "chat:write",
            "chat:write.public",
            "users:read",
            "calls:read",
            "calls:write",
        }
        rig.slack.oauth_codes["code-1"] = ("T0SECOND", "Second Team")
        redirect = f"{rig.base}/slack/oauth_redirect?code=code-1&state={query['state'][0]}"
        async with rig.session.get(redirect, headers={"Cookie": cookie}) as r:
            assert r.status == 200, await r.text()
        assert await installed_teams(rig) == ["T0SECOND"]

        await rig.command("/meet Cross team in 10m", team="T0SECOND")
        [card] = await rig.slack.wait_for_cards()
        assert card.token == "xoxb-installed-t0second"

        status, _ = await rig.client.event("T0SECOND", {"type": "app_uninstalled"})
        assert status == 200
        for _ in range(100):
            if not await installed_teams(rig):
                break
            await rig.session.get(f"{rig.base}/healthz")
        assert await installed_teams(rig) == []


async def test_oauth_redirect_without_the_state_cookie_is_refused(tmp_path: Path) -> None:
    oauth = {
        "slack_bot_token": None,
        "slack_client_id": emu.CLIENT_ID,
        "slack_client_secret": emu.CLIENT_SECRET,
    }
    async with running(tmp_path, **oauth) as rig:
        rig.slack.oauth_codes["code-2"] = ("T0EVIL", "Evil")
        async with rig.session.get(f"{rig.base}/slack/oauth_redirect?code=code-2&state=x") as r:
            assert r.status == 400
        assert rig.slack.calls_to("oauth.v2.access") == []


async def test_socket_mode_round_trip(tmp_path: Path) -> None:
    socket = {"slack_app_token": emu.APP_TOKEN, "slack_signing_secret": None}
    async with running(tmp_path, **socket) as rig:
        for _ in range(500):
            if rig.slack.sockets:
                break
            await rig.session.get(f"{rig.base}/healthz")
        [connect] = rig.slack.calls_to("apps.connections.open")
        assert connect.token == emu.APP_TOKEN
        payload = emu.command_payload(
            "Socket standup in 10m", response_url=rig.slack.response_url_for("socket")
        )
        envelope = await rig.slack.send_envelope("slash_commands", payload)
        ack = await rig.slack.wait_for_ack(envelope)
        assert ack["envelope_id"] == envelope
        [card] = await rig.slack.wait_for_cards()
        assert card.token == emu.BOT_TOKEN
        assert "Socket standup" in json.dumps(card.params["blocks"])
        async with rig.session.post(f"{rig.base}/slack/events", data="x") as r:
            assert r.status == 404  # no signing secret, so no HTTP endpoint to forge
