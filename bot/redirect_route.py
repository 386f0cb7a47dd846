"""`GET /r/<meeting id>`: a short address that forwards to a meeting's join link.

Discord's event location holds 100 characters; a provider's join link (a Jitsi
guest token, say) can be longer, so the event shows this address instead. Only
the public join link is ever looked up here; a host link has no route. A
malformed id, an unknown or closed meeting all get the same 404, and the answer
is never cached, so a link that is no longer valid stops forwarding at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.models import ID_ALPHABET, ID_LENGTH

ROUTE = "/r/{meeting_id}"
Lookup = Callable[[str], Awaitable[str | None]]
_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def redirect_url(public_url: str, meeting_id: str) -> str:
    """The short address of a meeting under CONVENE_PUBLIC_URL."""
    return f"{public_url.rstrip('/')}/r/{meeting_id}"


def is_meeting_id(text: str) -> bool:
    return len(text) == ID_LENGTH and all(c in ID_ALPHABET for c in text)


def add_redirect_route(app: web.Application, lookup: Lookup) -> None:
    """`lookup(meeting_id)` gives the open meeting's join link, or None."""

    async def forward(request: web.Request) -> web.StreamResponse:
        meeting_id = request.match_info["meeting_id"]
        target = await lookup(meeting_id) if is_meeting_id(meeting_id) else None
        if not target or not target.startswith(("https://", "http://")):
            return web.Response(status=404, text="no such meeting", headers=_HEADERS)
        raise web.HTTPFound(target, headers=_HEADERS)

    app.router.add_get(ROUTE, forward)
