"""Loopback Metered REST API (`/api/v1`), as its create-room page describes it.

`?secretKey=` on every call (401 `{"success": false, ...}` when wrong or
missing); `privacy` required and `public|private` (400 "Invalid request"
otherwise, the documented body); rooms kept in memory, archived on DELETE.

`post_event` sends a join or leave webhook to the URL the room was created with
(`meetingJoinWebhook` / `meetingLeftWebhook`). Metered documents those URLs but
not the bodies, so the body is a plausible one: `{event, roomName,
participantName, externalUserId}`, the external id being the one set on the
participant's access token, when it had one.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
from aiohttp import web

from tests.emulators.base import Emulator

INVALID = {"success": False, "message": "Invalid request"}


class MeteredEmulator(Emulator):
    def __init__(self, secret_key: str) -> None:
        self.secret_key = secret_key
        self.rooms: dict[str, dict[str, Any]] = {}
        self.tokens: dict[str, dict[str, Any]] = {}
        super().__init__()

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/api/v1/room", self.create_room)
        router.add_get("/api/v1/rooms", self.list_rooms)
        router.add_get("/api/v1/room/{name}", self.get_room)
        router.add_delete("/api/v1/room/{name}", self.delete_room)
        router.add_post("/api/v1/token", self.create_token)

    def _authorized(self, request: web.Request) -> bool:
        return request.query.get("secretKey") == self.secret_key

    @staticmethod
    def _unauthorized() -> web.Response:
        return web.json_response({"success": False, "message": "Invalid secretKey"}, status=401)

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def create_room(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        body = await self._body(request)
        if body is None or body.get("privacy") not in ("public", "private"):
            return web.json_response(INVALID, status=400)
        name = body.get("roomName") or secrets.token_urlsafe(8)
        if not isinstance(name, str) or " " in name or name in self.rooms:
            return web.json_response(INVALID, status=400)
        for key in ("expireUnixSec", "notBeforeUnixSec"):
            if key in body and not isinstance(body[key], int):
                return web.json_response(INVALID, status=400)
        room = {
            **body,
            "roomName": name,
            "archived": False,
            "_id": secrets.token_hex(12),
            "app": "61005767f41008463845bac0",
            "created": "2026-01-01T00:00:00.000Z",
            "__v": 0,
        }
        self.rooms[name] = room
        return web.json_response(room)

    async def list_rooms(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        return web.json_response([r for r in self.rooms.values() if not r["archived"]])

    async def get_room(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        room = self.rooms.get(request.match_info["name"])
        if room is None or room["archived"]:
            return web.json_response({"success": False, "message": "Room not found"}, status=404)
        return web.json_response(room)

    async def delete_room(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        room = self.rooms.get(request.match_info["name"])
        if room is None or room["archived"]:
            return web.json_response({"success": False, "message": "Room not found"}, status=404)
        room["archived"] = True
        return web.json_response({"success": True, "message": "Room deleted"})

    async def create_token(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return self._unauthorized()
        body = await self._body(request)
        if body is None:
            return web.json_response(INVALID, status=400)
        name = body.get("roomName")
        if name is not None and name not in self.rooms:
            return web.json_response({"success": False, "message": "Room not found"}, status=400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = {**body, "issued": int(time.time())}
        return web.json_response({"token": token})

    async def post_event(
        self,
        client: httpx.AsyncClient,
        room_name: str,
        *,
        joined: bool,
        name: str,
        token: str | None = None,
    ) -> httpx.Response:
        """`name` joins or leaves; with `token` (a personal link's), as that token's user."""
        room = self.rooms[room_name]
        url = room["meetingJoinWebhook" if joined else "meetingLeftWebhook"]
        payload: dict[str, Any] = {
            "event": "participantJoined" if joined else "participantLeft",
            "roomName": room_name,
            "participantName": name,
        }
        issued = self.tokens.get(token or "", {})
        if issued.get("externalUserId"):
            payload["externalUserId"] = issued["externalUserId"]
        return await client.post(url, json=payload)
