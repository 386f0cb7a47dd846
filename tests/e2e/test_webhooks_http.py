"""Provider webhooks through convene's real HTTP server, against a Whereby emulator:
a verified "session ended" closes the meeting; forgeries and replays change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import ConveneApp
from bot.config import Settings
from bot.models import Meeting, MeetingStatus
from bot.requests import CreateMeeting
from tests.emulators.base import serve
from tests.emulators.whereby import WherebyEmulator
from tests.fakes import FakePlatform

SECRET = "whsec-e2e-secret"
KEY = "wb-test-key"


def signed(
    event_type: str, meeting_id: str, event_id: str, t: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": event_id,
            "type": event_type,
            "data": {"meetingId": meeting_id, "displayName": "Raj"},
        }
    ).encode()
    stamp = int(time.time()) if t is None else t
    digest = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, {"Whereby-Signature": f"t={stamp},v1={digest}", "Content-Type": "application/json"}


class Running:
    def __init__(self, app: ConveneApp, platform: FakePlatform, base: str) -> None:
        self.app, self.platform, self.base = app, platform, base

    async def meeting(self) -> Meeting:
        reply = await self.app.service.handle(self.platform.caller(), CreateMeeting(title="Sync"))
        assert reply.ok, reply.text
        found = await self.app.core.get_meeting(self.platform.cards[-1][1].meeting_id)
        assert found is not None
        return found


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    emulator = WherebyEmulator(api_key=KEY)
    async with serve(emulator.app) as whereby_url:
        settings = Settings(
            db_path=str(tmp_path / "convene.db"),
            provider="whereby",
            http_port=0,
            whereby_api_key=KEY,
            whereby_api_url=whereby_url + "/v1",
            whereby_webhook_secret=SECRET,
        )
        app = ConveneApp(settings)
        platform = FakePlatform(app.service)
        app.core.messengers[platform.name] = platform
        await app.http.start()
        try:
            yield Running(app, platform, f"http://127.0.0.1:{app.http.port}")
        finally:
            await app.close()


async def test_health_answers(running: Running) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{running.base}/healthz")
    assert response.status_code == 200


async def test_session_ended_webhook_closes_the_meeting_once(running: Running) -> None:
    meeting = await running.meeting()
    body, headers = signed("room.session.ended", meeting.room_id, "evt-1")
    async with httpx.AsyncClient() as client:
        first = await client.post(f"{running.base}/webhooks/whereby", content=body, headers=headers)
        replay = await client.post(
            f"{running.base}/webhooks/whereby", content=body, headers=headers
        )
    assert (first.status_code, replay.status_code) == (200, 200)
    closed = await running.app.core.get_meeting(meeting.id)
    assert closed is not None and closed.status is MeetingStatus.ENDED
    assert len(running.platform.updates) == 1
    assert running.platform.updates[0][2].join_url is None


async def test_forged_or_stale_webhooks_are_refused_and_change_nothing(running: Running) -> None:
    meeting = await running.meeting()
    body, headers = signed("room.session.ended", meeting.room_id, "evt-2")
    forged = dict(headers, **{"Whereby-Signature": headers["Whereby-Signature"][:-4] + "beef"})
    _, stale_headers = signed(
        "room.session.ended", meeting.room_id, "evt-3", t=int(time.time()) - 600
    )
    async with httpx.AsyncClient() as client:
        bad = await client.post(f"{running.base}/webhooks/whereby", content=body, headers=forged)
        old = await client.post(
            f"{running.base}/webhooks/whereby", content=body, headers=stale_headers
        )
    assert (bad.status_code, old.status_code) == (401, 401)
    assert SECRET not in bad.text and "beef" not in bad.text
    still = await running.app.core.get_meeting(meeting.id)
    assert still is not None and still.status is MeetingStatus.ACTIVE


async def test_joined_webhook_records_attendance(running: Running) -> None:
    from storage.people import sessions

    meeting = await running.meeting()
    body, headers = signed("room.client.joined", meeting.room_id, "evt-4")
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{running.base}/webhooks/whereby", content=body, headers=headers
        )
    assert response.status_code == 200
    assert [s["name"] for s in await sessions(running.app.store, meeting.id)] == ["Raj"]
