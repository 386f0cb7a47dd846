"""Loopback eyeson API: rooms and permalinks as its reference documents them.

The raw API key in `Authorization` (no "Bearer"); `user[name]` required (400);
403 for a bad key on /rooms, 401 on /permalink (as each endpoint lists);
a shut-down room answers 410 on its access-key URL and 404 to a second DELETE.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web

from tests.emulators.base import Emulator

APP = "https://app.eyeson.test"


def _id() -> str:
    return secrets.token_hex(12)


class EyesonEmulator(Emulator):
    def __init__(self, api_key: str = "ey-test-key") -> None:
        self.api_key = api_key
        self.rooms: dict[str, dict[str, Any]] = {}  # room id -> room
        self.access_keys: dict[str, str] = {}  # access key -> room id
        self.permalinks: dict[str, dict[str, Any]] = {}
        super().__init__()

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_post("/rooms", self.create_room)
        router.add_get("/rooms", self.list_rooms)
        router.add_get("/rooms/{key}", self.get_room)
        router.add_delete("/rooms/{room_id}", self.delete_room)
        router.add_post("/permalink", self.create_permalink)
        router.add_get("/permalink", self.list_permalinks)
        router.add_get("/permalink/{pid}", self.get_permalink)
        router.add_delete("/permalink/{pid}", self.delete_permalink)

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == self.api_key

    async def _body(self, request: web.Request) -> dict[str, Any] | None:
        try:
            body = await request.json()
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def start_meeting(self, room_id: str) -> dict[str, Any]:
        """What a host opening the GUI does: a running room with this id."""
        room = {"id": room_id, "name": "meeting", "ready": True, "shutdown": False}
        self.rooms[room_id] = room
        return room

    async def create_room(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Forbidden"}, status=403)
        body = await self._body(request)
        if not body or not body.get("user[name]"):
            return web.json_response({"error": "user[name] is required"}, status=400)
        room_id = str(body.get("id") or _id())
        room = self.rooms.get(room_id) or {
            "id": room_id,
            "name": body.get("name") or "eyeson room",
            "ready": False,
            "started_at": None,
            "shutdown": False,
            "guest_token": secrets.token_urlsafe(18),
        }
        self.rooms[room_id] = room
        access_key = secrets.token_urlsafe(18)
        self.access_keys[access_key] = room_id
        return web.json_response(
            {
                "access_key": access_key,
                "ready": False,
                "room": room,
                "user": {"id": body.get("user[id]") or _id(), "name": body["user[name]"]},
                "links": {
                    "self": f"{request.url.origin()}/rooms/{access_key}",
                    "gui": f"{APP}/?{access_key}",
                    "guest_join": f"{APP}/?guest={room['guest_token']}",
                },
            },
            status=201,
        )

    async def list_rooms(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Forbidden"}, status=403)
        running = [room for room in self.rooms.values() if not room["shutdown"]]
        return web.json_response(running)

    async def get_room(self, request: web.Request) -> web.StreamResponse:
        room_id = self.access_keys.get(request.match_info["key"])
        if room_id is None:
            return web.json_response({"error": "Not Found"}, status=404)
        room = self.rooms[room_id]
        if room["shutdown"]:
            return web.json_response({"error": "Gone"}, status=410)
        return web.json_response({"room": room})

    async def delete_room(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Forbidden"}, status=403)
        room = self.rooms.get(request.match_info["room_id"])
        if room is None or room["shutdown"]:
            return web.json_response({"error": "Not Found"}, status=404)
        room["shutdown"] = True
        return web.Response(status=204)

    async def create_permalink(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        body = await self._body(request)
        if not body or not body.get("user[name]"):
            return web.json_response({"error": "user[name] is required"}, status=400)
        pid = _id()
        permalink = {
            "id": pid,
            "created_at": "2026-01-01T00:00:00.000Z",
            "user_token": secrets.token_urlsafe(18),
            "guest_token": secrets.token_urlsafe(18),
            "expires_at": body.get("expires_at"),
        }
        self.permalinks[pid] = permalink
        return web.json_response(
            {
                "permalink": permalink,
                "room": {"id": pid, "name": body.get("name") or "Permalink Room"},
                "user": {"id": body.get("user[id]") or _id(), "name": body["user[name]"]},
                "links": {
                    "self": f"{request.url.origin()}/permalink/{pid}",
                    "gui": f"{APP}/permalink?{permalink['user_token']}",
                    "guest_join": f"{APP}/permalink?guest={permalink['guest_token']}",
                },
            },
            status=201,
        )

    async def list_permalinks(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        return web.json_response({"items": list(self.permalinks.values())})

    async def get_permalink(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        permalink = self.permalinks.get(request.match_info["pid"])
        if permalink is None:
            return web.json_response({"error": "Not Found"}, status=404)
        return web.json_response({"permalink": permalink})

    async def delete_permalink(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        if self.permalinks.pop(request.match_info["pid"], None) is None:
            return web.json_response({"error": "Not Found"}, status=404)
        return web.Response(status=204)
