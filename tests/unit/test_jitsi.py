"""Jitsi rooms: unguessable names, signed moderator and guest links, and the
plain-link fallback with its note to the organizer.

Every moment comes from the injected clock (next Monday, seen from today), and
tokens are checked against that clock, not the machine's, so the tests pass on
any date."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import jwt
import pytest

from bot.config import Settings
from bot.ports import Person, RoomSpec
from bot.providers import ProviderPool, build_provider
from bot.providers.jitsi import JitsiProvider, build, room_name, slugify
from tests.moments import next_monday_at

NOW = next_monday_at(9)  # the injected clock's "now"
SECRET = "s3cret-for-tests-only-0123456789abcdef"
SIGNED = Settings(
    jitsi_url="https://video.example.org/", jitsi_app_id="convene", jitsi_app_secret=SECRET
)
PUBLIC = Settings()
SELF_HOSTED = Settings(jitsi_url="https://video.example.org")


def spec(title: str = "Weekly sync", **changes: object) -> RoomSpec:
    values: dict[str, object] = {
        "title": title,
        "start": NOW + timedelta(minutes=30),
        "end": NOW + timedelta(minutes=75),
        "instant": False,
        "organizer_id": "U123",
        "organizer_name": "Ann Lee",
    }
    values.update(changes)
    return RoomSpec(**values)  # type: ignore[arg-type]


def provider(settings: Settings) -> JitsiProvider:
    return JitsiProvider(settings, clock=lambda: NOW)


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["jwt"][0]


def decode(token: str, at: datetime = NOW) -> dict[str, Any]:
    """Verify the token as a Jitsi server would at `at`: signature and audience by
    PyJWT, and nbf/exp against `at` (PyJWT would use the machine's clock)."""
    claims: dict[str, Any] = jwt.decode(
        token,
        SECRET,
        algorithms=["HS256"],
        audience="jitsi",
        options={
            "require": ["iat", "nbf", "exp"],
            "verify_iat": False,
            "verify_nbf": False,
            "verify_exp": False,
        },
    )
    moment = int(at.timestamp())
    if moment < claims["nbf"]:
        raise jwt.ImmatureSignatureError(f"not valid before nbf at {at}")
    if moment >= claims["exp"]:
        raise jwt.ExpiredSignatureError(f"expired at {at}")
    return claims


async def test_signed_host_link_carries_every_moderator_claim() -> None:
    room = await provider(SIGNED).create_room(spec())
    assert room.host_url is not None
    assert room.host_url.startswith(f"https://video.example.org/{room.room_id}?jwt=")
    claims = decode(token_of(room.host_url))
    assert claims["iss"] == "convene"
    assert claims["aud"] == "jitsi"
    assert claims["sub"] == "video.example.org"
    assert claims["room"] == room.room_id
    assert claims["exp"] == int((spec().end + timedelta(hours=1)).timestamp())
    assert claims["iat"] == int(NOW.timestamp())
    assert int(NOW.timestamp()) - 120 <= claims["nbf"] <= int(NOW.timestamp())
    assert claims["context"] == {"user": {"moderator": True, "name": "Ann Lee", "id": "U123"}}
    assert jwt.get_unverified_header(token_of(room.host_url))["alg"] == "HS256"
    assert room.host_note is None


async def test_signed_guest_link_is_not_a_moderator() -> None:
    room = await provider(SIGNED).create_room(spec())
    assert room.join_url.startswith(f"https://video.example.org/{room.room_id}?jwt=")
    guest = decode(token_of(room.join_url))
    host = decode(token_of(room.host_url or ""))
    assert guest["context"] == {"user": {"moderator": False}}
    for claim in ("iss", "aud", "sub", "room", "exp", "nbf", "iat"):
        assert guest[claim] == host[claim]
    assert room.join_url != room.host_url


async def test_tokens_work_from_issue_until_an_hour_after_the_meeting_then_expire() -> None:
    meeting = spec()
    room = await provider(SIGNED).create_room(meeting)
    for url in (room.host_url or "", room.join_url):
        token = token_of(url)
        claims = decode(token)  # valid the moment it is issued
        assert claims["iat"] < claims["exp"]
        for moment in (meeting.start, meeting.end, meeting.end + timedelta(minutes=59)):
            decode(token, at=moment)
        with pytest.raises(jwt.ExpiredSignatureError):
            decode(token, at=meeting.end + timedelta(hours=1))
        with pytest.raises(jwt.ImmatureSignatureError):
            decode(token, at=NOW - timedelta(minutes=2))


async def test_token_for_a_meeting_already_over_never_expires_before_it_is_issued() -> None:
    long_over = spec(start=NOW - timedelta(hours=3), end=NOW - timedelta(hours=2))
    room = await provider(SIGNED).create_room(long_over)
    claims = decode(token_of(room.join_url))
    assert claims["exp"] == int((NOW + timedelta(hours=1)).timestamp())
    with pytest.raises(jwt.ExpiredSignatureError):
        decode(token_of(room.join_url), at=NOW + timedelta(hours=1))


async def test_the_pool_gives_jitsi_the_injected_clock() -> None:
    async with httpx.AsyncClient() as client:
        jitsi = ProviderPool(SIGNED, client, lambda: NOW).get("jitsi")
        claims = decode(token_of((await jitsi.create_room(spec())).join_url))
    assert claims["iat"] == int(NOW.timestamp())


async def test_tokens_are_signed_with_the_app_secret() -> None:
    room = await provider(SIGNED).create_room(spec())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(
            token_of(room.join_url),
            "another-secret-of-a-decent-length-0123456789",
            algorithms=["HS256"],
            audience="jitsi",
        )


async def test_host_without_a_display_name_is_named_by_id() -> None:
    room = await provider(SIGNED).create_room(spec(organizer_name=""))
    user = decode(token_of(room.host_url or ""))["context"]
    assert user == {"user": {"moderator": True, "name": "U123", "id": "U123"}}


async def test_capabilities_follow_the_signing_setup() -> None:
    assert provider(SIGNED).capabilities.host_link
    assert not provider(PUBLIC).capabilities.host_link


async def test_room_names_are_unguessable_and_url_safe() -> None:
    names = {room_name("Weekly sync") for _ in range(2000)}
    assert len(names) == 2000
    for name in list(names)[:50]:
        assert re.fullmatch(r"weekly-sync-[a-z0-9]{18}", name)
    # two rooms with the same title from the provider never share a name either
    jitsi = provider(PUBLIC)
    first, second = await jitsi.create_room(spec()), await jitsi.create_room(spec())
    assert first.room_id != second.room_id


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Weekly sync", "weekly-sync"),
        ("Café / Q&A #3?", "cafe-q-a-3"),
        ("", "meeting"),
        ("🎉🎉", "meeting"),
        ("a" * 80, "a" * 40),
    ],
)
def test_slug_keeps_only_characters_jitsi_accepts(title: str, slug: str) -> None:
    assert slugify(title) == slug


async def test_meet_jit_si_without_tokens_gives_a_named_link_and_the_sign_in_note() -> None:
    room = await provider(PUBLIC).create_room(spec())
    assert room.join_url == f"https://meet.jit.si/{room.room_id}"
    assert room.host_url == f"{room.join_url}#userInfo.displayName=%22Ann%20Lee%22"
    assert room.host_note is not None
    for word in ("meet.jit.si", "sign in", "Google", "GitHub", "Facebook", "moderator"):
        assert word in room.host_note


async def test_self_hosted_without_tokens_has_no_sign_in_note() -> None:
    room = await provider(SELF_HOSTED).create_room(spec())
    assert room.join_url == f"https://video.example.org/{room.room_id}"
    assert room.host_url is not None and room.host_url != room.join_url
    assert room.host_note is not None
    assert "sign in" not in room.host_note and "meet.jit.si" not in room.host_note
    assert "first" in room.host_note


async def test_display_name_in_the_hash_is_encoded() -> None:
    room = await provider(PUBLIC).create_room(spec(organizer_name='Zoë "Z" & co#1'))
    assert room.host_url is not None
    fragment = urlsplit(room.host_url).fragment
    key, _, value = fragment.partition("=")
    assert key == "userInfo.displayName"
    assert not set(value) & set(' "&#')
    assert unquote(value) == '"Zo\\u00eb \\"Z\\" & co#1"'


async def test_no_api_calls_end_cancel_and_check_are_harmless() -> None:
    async with httpx.AsyncClient() as client:
        jitsi = build_provider("jitsi", PUBLIC, client, lambda: NOW)
        assert jitsi.name == "jitsi" and jitsi.label == "Jitsi"
        await jitsi.end_room("anything")
        await jitsi.end_room("anything")
        await jitsi.cancel_room("anything")
        await jitsi.check()
        assert isinstance(build(SIGNED, client, lambda: NOW), JitsiProvider)


async def test_secret_never_appears_in_links() -> None:
    room = await provider(SIGNED).create_room(spec())
    assert SECRET not in room.join_url and SECRET not in (room.host_url or "")


# --- personal links -------------------------------------------------------------

ADA = Person(key="slack:U777", name="Ada Byron")


async def test_personal_link_is_a_token_naming_the_person_and_never_a_moderator() -> None:
    jitsi = provider(SIGNED)
    room = await jitsi.create_room(spec())
    link = await jitsi.personal_link(room.room_id, ADA, join_url=room.join_url)
    assert link is not None
    assert link.startswith(f"https://video.example.org/{room.room_id}?jwt=")
    claims = decode(token_of(link))
    assert claims["context"] == {"user": {"moderator": False, "name": "Ada Byron", "id": ADA.key}}
    assert link not in (room.join_url, room.host_url)
    assert SECRET not in link


async def test_personal_token_lives_as_long_as_the_shared_one() -> None:
    meeting = spec()
    jitsi = provider(SIGNED)
    room = await jitsi.create_room(meeting)
    link = await jitsi.personal_link(room.room_id, ADA, join_url=room.join_url)
    shared, personal = decode(token_of(room.join_url)), decode(token_of(link or ""))
    for claim in ("iss", "aud", "sub", "room", "exp"):
        assert personal[claim] == shared[claim]
    decode(token_of(link or ""), at=meeting.end + timedelta(minutes=59))
    with pytest.raises(jwt.ExpiredSignatureError):
        decode(token_of(link or ""), at=meeting.end + timedelta(hours=1))


async def test_personal_link_asked_after_the_meeting_still_works_on_arrival() -> None:
    over = spec(start=NOW - timedelta(hours=3), end=NOW - timedelta(hours=2))
    jitsi = provider(SIGNED)
    room = await jitsi.create_room(over)
    link = await jitsi.personal_link(room.room_id, ADA, join_url=room.join_url)
    decode(token_of(link or ""), at=NOW + timedelta(minutes=59))


@pytest.mark.parametrize(
    "join_url",
    [
        "https://video.example.org/other-room",  # no token at all
        "https://video.example.org/r?jwt=not-a-token",
    ],
)
async def test_no_personal_link_without_a_shared_token_of_ours(join_url: str) -> None:
    jitsi = provider(SIGNED)
    assert await jitsi.personal_link("r", ADA, join_url=join_url) is None


async def test_a_token_for_another_room_or_signed_elsewhere_is_not_copied() -> None:
    jitsi = provider(SIGNED)
    room = await jitsi.create_room(spec())
    other = await jitsi.create_room(spec())
    assert await jitsi.personal_link(room.room_id, ADA, join_url=other.join_url) is None
    forged = jwt.encode(
        {**decode(token_of(room.join_url)), "exp": 4_000_000_000},
        "another-secret-of-a-decent-length-0123456789",
        algorithm="HS256",
    )
    url = f"https://video.example.org/{room.room_id}?jwt={forged}"
    assert await jitsi.personal_link(room.room_id, ADA, join_url=url) is None


async def test_without_tokens_the_personal_link_is_the_room_with_their_name() -> None:
    jitsi = provider(PUBLIC)
    room = await jitsi.create_room(spec())
    link = await jitsi.personal_link(room.room_id, ADA, join_url=room.join_url)
    assert link == f"{room.join_url}#userInfo.displayName=%22Ada%20Byron%22"
    assert link != room.host_url and "jwt" not in link
    assert jitsi.capabilities.personal_link and provider(SIGNED).capabilities.personal_link
