"""`GET /r/<meeting id>` over a real socket: the short address a Discord event shows
when a join link is too long forwards to the join link, and to nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.http import make_http_app
from bot.redirect_route import add_redirect_route, redirect_url
from tests.emulators.base import serve

JOIN = "https://meet.example/convene-abc234?jwt=" + "g" * 110


class Meetings:
    """convene's lookup seam: open meetings' join links by id, and who was asked."""

    def __init__(self) -> None:
        self.links = {"abc234": JOIN}
        self.asked: list[str] = []

    async def __call__(self, meeting_id: str) -> str | None:
        self.asked.append(meeting_id)
        return self.links.get(meeting_id)


@pytest.fixture
def meetings() -> Meetings:
    return Meetings()


@pytest.fixture
async def base(meetings: Meetings) -> AsyncIterator[str]:
    app = make_http_app()
    add_redirect_route(app, meetings)
    async with serve(app) as url:
        yield url


async def get(url: str, method: str = "GET") -> tuple[int, dict[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, allow_redirects=False) as response,
    ):
        return response.status, dict(response.headers)


async def test_the_short_address_forwards_to_the_join_link(base: str) -> None:
    status, headers = await get(redirect_url(base, "abc234"))
    assert status == 302 and headers["Location"] == JOIN
    assert headers["Cache-Control"] == "no-store"  # a closed meeting stops forwarding at once
    assert (await get(redirect_url(base + "/", "abc234"), "HEAD"))[0] == 302


async def test_unknown_closed_and_malformed_ids_get_404(base: str, meetings: Meetings) -> None:
    assert (await get(f"{base}/r/zzz999"))[0] == 404
    meetings.links.clear()  # the meeting ended
    status, headers = await get(f"{base}/r/abc234")
    assert status == 404 and "Location" not in headers
    for odd in ("ABC234", "abc23", "abc2345", "abc%2F34", "abc10o"):
        assert (await get(f"{base}/r/{odd}"))[0] == 404
    assert meetings.asked == ["zzz999", "abc234"]  # malformed ids never reach storage
