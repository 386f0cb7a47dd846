"""Loopback Whereby REST API (`/v1/meetings`), as its OpenAPI describes it.

Keeps meetings in memory, enforces `Authorization: Bearer <key>`, answers 400
for a body without endDate or with a bad roomNamePrefix/roomMode, and records
every JSON answer in `responses` so tests can check them against the spec.

`post_event` sends a room webhook as Whereby's dashboard-configured webhooks
do: `{id, apiVersion, createdAt, type, data{meetingId, roomName, ...}}`, signed
`Whereby-Signature: t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">` with
`webhook_secret`, the moment given by the test (its clock, not the machine's).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from aiohttp import web

from tests.emulators.base import Emulator

PREFIX_RE = re.compile(r"[a-z0-9]{0,39}")


@dataclass
class Answer:
    method: str
    path: str
    status: int
    body: Any


class WherebyEmulator(Emulator):
    def __init__(
        self, api_key: str = "wb-test-key", page_size: int = 2, webhook_secret: str = ""
    ) -> None:
        self.api_key = api_key
        self.webhook_secret = webhook_secret  # set it to sign webhooks (post_event)
        self.page_size = page_size
        self.meetings: dict[str, dict[str, Any]] = {}
        self.deleted: set[str] = set()
        self.responses: list[Answer] = []
        self.host = "https://convene-test.whereby.com"
        self.slow_create = 0.0  # create the meeting, then wait this long before answering
        super().__init__()

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/v1/meetings", self.create)
        router.add_get("/v1/meetings", self.list)
        router.add_get("/v1/meetings/{meeting_id}", self.get)
        router.add_delete("/v1/meetings/{meeting_id}", self.delete)

    def _answer(self, request: web.Request, status: int, body: Any = None) -> web.Response:
        self.responses.append(Answer(request.method, request.path, status, body))
        if body is None:
            return web.Response(status=status)
        return web.json_response(body, status=status)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    def _meeting(self, stored: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        shown = {k: v for k, v in stored.items() if k not in ("hostRoomUrl", "viewerRoomUrl")}
        for name in fields:
            if name in stored:
                shown[name] = stored[name]
        return shown

    async def create(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._answer(request, 401, {"error": "Access token is missing or invalid"})
        try:
            body = await request.json()
        except ValueError:
            return self._answer(request, 400, {"error": "Body must be JSON"})
        if not isinstance(body, dict) or not isinstance(body.get("endDate"), str):
            return self._answer(request, 400, {"error": '"endDate" is required'})
        prefix = body.get("roomNamePrefix", "")
        if not isinstance(prefix, str) or not PREFIX_RE.fullmatch(prefix):
            return self._answer(request, 400, {"error": '"roomNamePrefix" is invalid'})
        if body.get("roomMode", "normal") not in ("normal", "group"):
            return self._answer(request, 400, {"error": '"roomMode" is invalid'})
        stored = self.add_meeting(prefix, body["endDate"])
        if self.slow_create:
            await asyncio.sleep(self.slow_create)
        return self._answer(request, 201, self._meeting(stored, body.get("fields") or []))

    def add_meeting(self, prefix: str, end_date: str) -> dict[str, Any]:
        """Store a meeting as a create would (also for filling the account with others)."""
        meeting_id = str(len(self.meetings) + len(self.deleted) + 1000)
        room_name = f"/{prefix}-{uuid.uuid4()}" if prefix else f"/{uuid.uuid4()}"
        stored = {
            "meetingId": meeting_id,
            "roomName": room_name,
            "roomUrl": f"{self.host}{room_name}",
            "startDate": "2026-01-01T00:00:00Z",
            "endDate": end_date,
            "hostRoomUrl": f"{self.host}{room_name}?roomKey=host-{uuid.uuid4().hex}",
        }
        self.meetings[meeting_id] = stored
        return stored

    async def list(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._answer(request, 401, {"error": "Access token is missing or invalid"})
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        limit = min(int(request.query.get("limit", self.page_size)), self.page_size)
        start = int(request.query.get("cursor", "0") or 0)
        items = list(self.meetings.values())
        page = [self._meeting(m, fields) for m in items[start : start + limit]]
        more = start + limit < len(items)
        return self._answer(
            request, 200, {"results": page, "cursor": str(start + limit) if more else None}
        )

    async def get(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._answer(request, 401, {"error": "Access token is missing or invalid"})
        stored = self.meetings.get(request.match_info["meeting_id"])
        if stored is None:
            return self._answer(request, 404, {"error": "Meeting not found"})
        fields = [f for f in request.query.get("fields", "").split(",") if f]
        return self._answer(request, 200, self._meeting(stored, fields))

    async def delete(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._answer(request, 401, {"error": "Access token is missing or invalid"})
        meeting_id = request.match_info["meeting_id"]
        if self.meetings.pop(meeting_id, None) is not None:
            self.deleted.add(meeting_id)
        return self._answer(request, 204)  # idempotent, as documented

    def signed_event(
        self, kind: str, meeting_id: str, at: datetime, **data: Any
    ) -> tuple[bytes, dict[str, str]]:
        """A webhook body for `kind` (e.g. "room.client.joined") and its signature header."""
        stored = self.meetings.get(meeting_id, {})
        payload = {
            "id": f"evt-{uuid.uuid4()}",
            "apiVersion": "1.0",
            "createdAt": at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "type": kind,
            "data": {"meetingId": meeting_id, "roomName": stored.get("roomName", ""), **data},
        }
        body = json.dumps(payload).encode()
        t = int(at.timestamp())
        key = self.webhook_secret.encode()
        digest = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return body, {"Whereby-Signature": f"t={t},v1={digest}", "Content-Type": "application/json"}

    async def post_event(
        self,
        client: httpx.AsyncClient,
        url: str,
        kind: str,
        meeting_id: str,
        at: datetime,
        **data: Any,
    ) -> httpx.Response:
        body, headers = self.signed_event(kind, meeting_id, at, **data)
        return await client.post(url, content=body, headers=headers)
