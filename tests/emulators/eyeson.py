"""Loopback eyeson API: rooms and permalinks as its reference documents them.

The raw API key in `Authorization` (no "Bearer"); `user[name]` required (400);
403 for a bad key on /rooms, 401 on /permalink (as each endpoint lists);
a shut-down room answers 410 on its access-key URL and 404 to a second DELETE.

Guests register with a room's (or permalink's) guest token (`POST /guests/<token>`,
`name` required, no API key) and get a `links.gui` of their own, marked
`guest: true`. Webhooks: `POST/GET /webhooks`, `DELETE /webhooks/<id>`, kept in
`webhooks` (several, so a duplicate registration shows); `single_webhook` makes
GET answer one object, the shape eyeson's Go client reads. `post_participant`
sends a signed participant_update to every registered URL, as eyeson does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

import httpx
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
        self.guests: dict[str, dict[str, Any]] = {}  # access key -> guest user
        self.webhooks: dict[str, dict[str, Any]] = {}  # webhook id -> {id, url, types}
        self.single_webhook = False
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
        router.add_post("/guests/{token}", self.register_guest)
        router.add_post("/webhooks", self.register_webhook)
        router.add_get("/webhooks", self.list_webhooks)
        router.add_delete("/webhooks/{wid}", self.delete_webhook)

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

    # --- guests ------------------------------------------------------------------

    def _guest_room(self, token: str) -> str | None:
        for room_id, room in self.rooms.items():
            if room.get("guest_token") == token and not room["shutdown"]:
                return room_id
        for pid, permalink in self.permalinks.items():
            if permalink["guest_token"] == token:
                return pid
        return None

    async def register_guest(self, request: web.Request) -> web.StreamResponse:
        room_id = self._guest_room(request.match_info["token"])
        if room_id is None:
            return web.json_response({"error": "Not Found"}, status=404)
        body = await self._body(request)
        if not body or not body.get("name"):
            return web.json_response({"error": "name is required"}, status=400)
        access_key = secrets.token_urlsafe(18)
        user = {"id": str(body.get("id") or _id()), "name": body["name"], "guest": True}
        self.guests[access_key] = {**user, "room_id": room_id}
        return web.json_response(
            {
                "access_key": access_key,
                "room": {"id": room_id},
                "user": user,
                "links": {
                    "self": f"{request.url.origin()}/rooms/{access_key}",
                    "gui": f"{APP}/?{access_key}",
                },
            },
            status=201,
        )

    # --- webhooks ----------------------------------------------------------------

    async def register_webhook(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        body = await self._body(request)
        if not body or not isinstance(body.get("url"), str) or not body.get("types"):
            return web.json_response({"error": "url and types are required"}, status=400)
        wid = _id()
        self.webhooks[wid] = {"id": wid, "url": body["url"], "types": str(body["types"])}
        return web.Response(status=201)

    async def list_webhooks(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        hooks = list(self.webhooks.values())
        if self.single_webhook:
            return web.json_response(hooks[-1]) if hooks else web.Response(status=404)
        return web.json_response(hooks)

    async def delete_webhook(self, request: web.Request) -> web.StreamResponse:
        if not self._authorized(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        if self.webhooks.pop(request.match_info["wid"], None) is None:
            return web.json_response({"error": "Not Found"}, status=404)
        return web.Response(status=204)

    def signed(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        """A webhook body and its X-Eyeson-Signature (HMAC-SHA256 keyed by the API key)."""
        body = json.dumps(payload).encode()
        digest = hmac.new(self.api_key.encode(), body, hashlib.sha256).hexdigest()
        return body, {"X-Eyeson-Signature": digest, "Content-Type": "application/json"}

    async def post_participant(
        self,
        client: httpx.AsyncClient,
        room_id: str,
        user: dict[str, Any],
        *,
        online: bool,
    ) -> list[httpx.Response]:
        """What eyeson sends when a user goes on- or offline: a participant_update."""
        payload = {
            "type": "participant_update",
            "participant": {**user, "room_id": room_id, "online": online},
        }
        body, headers = self.signed(payload)
        hooks = [h for h in self.webhooks.values() if "participant_update" in h["types"]]
        return [await client.post(h["url"], content=body, headers=headers) for h in hooks]
