"""Slack served by two real `convene run` replicas on one PostgreSQL.

Behind a load balancer any replica may get any request: a command, the retry of a
command another replica already took, a button on a card another replica posted,
the two halves of an OAuth install. In Socket Mode each replica holds its own
connection and Slack spreads envelopes over them. Outcomes are counted where a
user sees them: the cards, updates and reminders that reached Slack.

Each replica calls Slack with its own bot token, so the loopback Slack can tell
which one posted what. Waits are bounded only so a broken build fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from tests.e2e.processes import (
    Replica,
    SlowSlack,
    prepare_burst,
    real_now,
    replicas,
    wait_for,
    wait_until,
)
from tests.emulators import slack as emu
from tests.emulators.base import serve
from tests.stores import postgres_store

SETTLE = 1.0  # after the expected outcome: room for a late duplicate to show
SECOND_TEAM = ("T0SECOND", "Second Team")


@contextlib.asynccontextmanager
async def two_replicas(
    pg_url: str, workdir: Path, *, drop: tuple[str, ...] = (), **extra: str
) -> AsyncIterator[tuple[SlowSlack, aiohttp.ClientSession, list[Replica]]]:
    """Two ready replicas on `pg_url` (migrated first), without the `drop` settings."""
    async with postgres_store(pg_url):
        pass
    slack = SlowSlack()
    async with serve(slack.app) as url, aiohttp.ClientSession() as session:
        slack.base_url = url
        procs = replicas(2, pg_url, slack, workdir, **extra)
        try:
            for replica in procs:
                for name in drop:
                    replica.env.pop(name, None)
                replica.start()
            for replica in procs:
                await replica.wait_ready(session)
            yield slack, session, procs
        finally:
            for replica in procs:
                replica.stop_now()
            for replica in procs:
                assert "Traceback" not in replica.log_text(), replica.log_tail()


def client(replica: Replica, session: aiohttp.ClientSession) -> emu.SlackClient:
    return emu.SlackClient(session, f"{replica.base}/slack/events")


def blocks_of(call: emu.ApiCall) -> list[dict[str, Any]]:
    blocks = call.params.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def cards_titled(slack: SlowSlack, title: str) -> list[emu.ApiCall]:
    """Meeting cards (messages with the card's buttons) posted for `title`."""
    return [
        call
        for call in slack.cards()
        if any(block.get("block_id") == "meet_card" for block in blocks_of(call))
        and f"“{title}”" in str(call.params.get("text"))
    ]


def posts_saying(slack: SlowSlack, words: str) -> list[emu.ApiCall]:
    return [c for c in slack.calls_to("chat.postMessage") if words in str(c.params.get("text"))]


def end_button(card: emu.ApiCall) -> str:
    """The meeting id the card's End button carries."""
    for block in blocks_of(card):
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == "meet_end":
                return str(element["value"])
    raise AssertionError("the card has no End button")


def ended_updates(slack: SlowSlack) -> list[emu.ApiCall]:
    return [c for c in slack.calls_to("chat.update") if "Ended" in json.dumps(c.params)]


# ---- 1. HTTP mode behind any load balancer -----------------------------------------------


async def test_any_replica_answers_commands_retries_and_buttons(
    pg_url: str, tmp_path: Path
) -> None:
    async with two_replicas(pg_url, tmp_path) as (slack, session, (a, b)):
        titles = [f"Balanced {n}" for n in range(6)]
        for n, title in enumerate(titles):  # alternately to A and to B
            replica = (a, b)[n % 2]
            payload = emu.command_payload(
                f'"{title}" in 2h for 30m', response_url=slack.response_url_for(n)
            )
            status, _ = await client(replica, session).command(payload)
            assert status == 200
        assert await wait_for(lambda: all(cards_titled(slack, t) for t in titles), 20)

        # A load balancer retries a request A took on B: same body, same signature.
        body = urlencode(
            emu.command_payload('"Retried" in 2h', response_url=slack.response_url_for("r"))
        )
        stamp = int(real_now().timestamp())
        status, _ = await client(a, session).post(body, timestamp=stamp)
        assert status == 200
        retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
        status, _ = await client(b, session).post(body, timestamp=stamp, headers=retry)
        assert status == 200
        assert await wait_for(lambda: bool(cards_titled(slack, "Retried")), 20)

        # A card A posted, its End button pressed through B.
        [card] = cards_titled(slack, "Balanced 0")
        assert card.token == a.token
        press = emu.action_payload(
            "meet_end", end_button(card), response_url=slack.response_url_for("end")
        )
        status, _ = await client(b, session).interaction(press)
        assert status == 200
        assert await wait_for(lambda: bool(ended_updates(slack)), 20), b.log_tail()

        await asyncio.sleep(SETTLE)
        assert all(len(cards_titled(slack, t)) == 1 for t in titles), slack.cards()
        assert {card.token for t in titles for card in cards_titled(slack, t)} == {
            a.token,
            b.token,
        }
        assert len(cards_titled(slack, "Retried")) == 1
        [ended] = ended_updates(slack)  # the card, updated once
        assert "Balanced 0" in json.dumps(ended.params)
        notices = posts_saying(slack, "“Balanced 0” has ended.")
        prompts = posts_saying(slack, "How was it?")  # the feedback prompt says so too
        assert (len(notices), len(prompts)) == (2, 1)  # the ended notice once, the prompt once


# ---- 2. an OAuth install begun on one replica, finished on the other ---------------------


# slack_sdk's oauth.v2.access still builds aiohttp.BasicAuth, deprecated in aiohttp 3.14.
@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")
async def test_an_install_started_on_one_replica_completes_on_the_other(
    pg_url: str, tmp_path: Path
) -> None:
    oauth = {"SLACK_CLIENT_ID": emu.CLIENT_ID, "SLACK_CLIENT_SECRET": emu.CLIENT_SECRET}
    async with two_replicas(pg_url, tmp_path, drop=("SLACK_BOT_TOKEN",), **oauth) as (
        slack,
        session,
        (a, b),
    ):
        async with session.get(f"{a.base}/slack/install", allow_redirects=False) as r:
            assert r.status == 302
            state = parse_qs(urlsplit(r.headers["Location"]).query)["state"][0]
            cookie = r.headers["Set-Cookie"].split(";")[0]
        slack.oauth_codes["code-1"] = SECOND_TEAM
        redirect = f"{b.base}/slack/oauth_redirect?code=code-1&state={state}"
        async with session.get(redirect, headers={"Cookie": cookie}) as r:
            assert r.status == 200, f"{await r.text()}\n{b.log_tail()}"

        payload = emu.command_payload(
            '"Installed team" in 1h', response_url=slack.response_url_for(1), team=SECOND_TEAM[0]
        )
        status, _ = await client(a, session).command(payload)
        assert status == 200
        assert await wait_for(lambda: bool(cards_titled(slack, "Installed team")), 20), a.log_tail()
        [card] = cards_titled(slack, "Installed team")
        assert card.token == f"xoxb-installed-{SECOND_TEAM[0].lower()}"
        assert len(slack.calls_to("oauth.v2.access")) == 1  # the code, redeemed once, by B


# ---- 3. Socket Mode: one connection per replica -------------------------------------------


async def test_socket_mode_spreads_over_both_connections_and_reminds_once(
    pg_url: str, tmp_path: Path
) -> None:
    due = real_now() + timedelta(seconds=9)
    await prepare_burst(pg_url, 1, due)  # "Burst 000", reminded at `due`
    socket = {"SLACK_APP_TOKEN": emu.APP_TOKEN}
    async with two_replicas(pg_url, tmp_path, drop=("SLACK_SIGNING_SECRET",), **socket) as (
        slack,
        session,
        procs,
    ):
        assert len(slack.calls_to("apps.connections.open")) == 2
        live = slack.live_sockets()
        assert len(live) == 2
        titles = [f"Socket {n}" for n in range(6)]
        sent: list[tuple[str, Any]] = []
        for n, title in enumerate(titles):
            payload = emu.command_payload(
                f'"{title}" in 2h', response_url=slack.response_url_for(f"s{n}")
            )
            envelope = await slack.send_envelope("slash_commands", payload, to=n % 2)
            sent.append((envelope, live[n % 2]))
        for envelope, ws in sent:
            await slack.wait_for_ack(envelope)
            assert slack.acked_on[envelope] is ws  # acked on the connection it came over
        assert await wait_for(lambda: all(cards_titled(slack, t) for t in titles), 20)
        tokens = {card.token for t in titles for card in cards_titled(slack, t)}
        assert tokens == {replica.token for replica in procs}  # both replicas served

        await wait_until(due)
        assert await wait_for(lambda: bool(slack.reminders()), 20), procs[0].log_tail()
        await asyncio.sleep(SETTLE)
        assert slack.reminders() == {"Burst 000": 1}
        assert all(len(cards_titled(slack, t)) == 1 for t in titles)
