"""Webhook verification for Whereby, eyeson and Metered: good, bad, stale, malformed.

"Now" is always injected (next Monday, seen from today), never the machine's
time, so the replay window is tested the same on any date."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiohttp import web

from bot.config import Settings
from bot.providers.webhooks import (
    ProviderEvent,
    WebhookMalformed,
    WebhookRejected,
    metered_webhook_token,
    person_key,
    verify_eyeson,
    verify_metered,
    verify_whereby,
)
from bot.webhook_routes import add_webhook_routes
from tests.emulators.base import serve
from tests.moments import next_monday_at

NOW = next_monday_at(8)
T = int(NOW.timestamp())
WB_SECRET = "whsec-test"
EY_KEY = "ey-api-key"
MT_SECRET = "mt-secret"


def whereby_event(kind: str, **data: Any) -> bytes:
    payload = {
        "id": "evt-1",
        "apiVersion": "1.0",
        "createdAt": (NOW - timedelta(seconds=2)).isoformat(timespec="milliseconds"),
        "type": kind,
        "data": {"meetingId": "m-42", "roomName": "/standup-abc", **data},
    }
    return json.dumps(payload).encode()


def whereby_headers(body: bytes, t: int = T, secret: str = WB_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return {"whereby-signature": f"t={t},v1={digest}"}


# --- Whereby -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("room.client.joined", "joined"),
        ("room.client.left", "left"),
        ("room.session.started", "started"),
        ("room.session.ended", "ended"),
    ],
)
def test_whereby_maps_room_events(kind: str, expected: str) -> None:
    body = whereby_event(kind, displayName="Ada", participantId="p-1")
    event = verify_whereby(whereby_headers(body), body, WB_SECRET, NOW)
    assert event is not None
    assert (event.provider, event.kind, event.room_id, event.event_id) == (
        "whereby",
        expected,
        "m-42",
        "evt-1",
    )
    assert event.participant == ("Ada" if expected in ("joined", "left") else None)


@pytest.mark.parametrize("kind", ["room.client.joined", "room.client.left"])
def test_whereby_join_and_leave_carry_the_links_identity_and_event_time(kind: str) -> None:
    body = whereby_event(kind, displayName="Ada", participantId="p-1", externalId="slack:U1")
    event = verify_whereby(whereby_headers(body), body, WB_SECRET, NOW)
    assert event is not None
    assert (event.participant, event.participant_key) == ("Ada", "slack:U1")
    assert event.at == NOW - timedelta(seconds=2)


@pytest.mark.parametrize("external", [None, "", "crm-7731", "slack:", "Slack:U1", "a:b c", 42])
def test_whereby_identity_is_only_a_key_convene_could_have_put_there(external: object) -> None:
    """Whereby's own participant ids and other systems' externalIds are never user ids."""
    body = whereby_event("room.client.joined", displayName="Ada", externalId=external)
    event = verify_whereby(whereby_headers(body), body, WB_SECRET, NOW)
    assert event is not None and event.participant == "Ada"
    assert event.participant_key is None


def test_whereby_without_a_display_name_reports_no_name_not_its_participant_id() -> None:
    body = whereby_event("room.client.left", participantId="/4b3bd908")
    event = verify_whereby(whereby_headers(body), body, WB_SECRET, NOW)
    assert event is not None and event.kind == "left"
    assert (event.participant, event.participant_key) == (None, None)


@pytest.mark.parametrize("stamp", ["yesterday", "2027-01-15T08:00:00", 1_700_000_000, None])
def test_whereby_event_time_needs_an_offset(stamp: object) -> None:
    """A time without a zone (or not a time) is no time: the receiver's clock decides."""
    payload = json.loads(whereby_event("room.client.joined", displayName="Ada"))
    payload["createdAt"] = stamp
    body = json.dumps(payload).encode()
    event = verify_whereby(whereby_headers(body), body, WB_SECRET, NOW)
    assert event is not None and event.at is None


def test_person_keys_have_a_platform_and_an_id() -> None:
    assert person_key("discord:81234567890123456") == "discord:81234567890123456"
    assert person_key("slack:U0ABC") == "slack:U0ABC"
    for other in ("U0ABC", ":U0ABC", "slack:", "slack: U1", "s" * 40 + ":x", 7, None):
        assert person_key(other) is None


def test_whereby_ignores_other_events_but_still_checks_them() -> None:
    body = whereby_event("recording.finished")
    assert verify_whereby(whereby_headers(body), body, WB_SECRET, NOW) is None
    with pytest.raises(WebhookRejected):
        verify_whereby(whereby_headers(body, secret="wrong"), body, WB_SECRET, NOW)


def test_whereby_accepts_within_tolerance_and_any_matching_v1() -> None:
    body = whereby_event("room.session.ended")
    headers = whereby_headers(body, t=T - 299)
    headers["whereby-signature"] = headers["whereby-signature"].replace("v1=", "v1=00ff,v1=")
    assert verify_whereby(headers, body, WB_SECRET, NOW) is not None


@pytest.mark.parametrize("skew", [-301, 301, -86_400])
def test_whereby_rejects_stale_or_future_timestamps(skew: int) -> None:
    body = whereby_event("room.session.ended")
    with pytest.raises(WebhookRejected, match="tolerance"):
        verify_whereby(whereby_headers(body, t=T + skew), body, WB_SECRET, NOW)


def test_whereby_rejects_a_tampered_body() -> None:
    body = whereby_event("room.session.ended")
    headers = whereby_headers(body)
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_whereby(headers, body.replace(b"m-42", b"m-43"), WB_SECRET, NOW)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "t=abc,v1=00",
        f"t={T}",
        "v1=00",
        f"t={T},v1",
        f"t={T},v1=\u00e9",
    ],
)
def test_whereby_rejects_missing_or_malformed_headers(header: str | None) -> None:
    body = whereby_event("room.session.ended")
    headers = {} if header is None else {"Whereby-Signature": header}
    with pytest.raises(WebhookRejected):
        verify_whereby(headers, body, WB_SECRET, NOW)


def test_whereby_rejects_a_signed_body_that_is_not_json() -> None:
    body = b"not json"
    with pytest.raises(WebhookRejected, match="JSON"):
        verify_whereby(whereby_headers(body), body, WB_SECRET, NOW)


@pytest.mark.parametrize("stamp", [f" {T}", f"{T}.5", "\u0661\u0662\u0663", f"+{T}", "1_000"])
def test_whereby_timestamps_are_plain_ascii_digits(stamp: str) -> None:
    """int() would take " 12", "+12", "1_000" and other scripts' digits."""
    body = whereby_event("room.session.ended")
    digest = hmac.new(WB_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    headers = {"Whereby-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    with pytest.raises(WebhookRejected, match="not a number"):
        verify_whereby(headers, body, WB_SECRET, NOW)


def test_signed_but_deeply_nested_bodies_are_malformed_not_a_crash() -> None:
    """Signed Whereby/eyeson bodies of 50,000 `[` raised RecursionError."""
    nested = b"[" * 50_000
    with pytest.raises(WebhookMalformed):
        verify_whereby(whereby_headers(nested), nested, WB_SECRET, NOW)
    digest = hmac.new(EY_KEY.encode(), nested, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookMalformed):
        verify_eyeson({"X-Eyeson-Signature": digest}, nested, EY_KEY)


def test_rejection_messages_never_echo_secret_or_signature() -> None:
    body = whereby_event("room.session.ended")
    headers = whereby_headers(body, secret="other")
    with pytest.raises(WebhookRejected) as caught:
        verify_whereby(headers, body, WB_SECRET, NOW)
    text = str(caught.value)
    assert WB_SECRET not in text and headers["whereby-signature"][-20:] not in text


async def test_the_route_judges_freshness_by_the_injected_clock(
    client: httpx.AsyncClient,
) -> None:
    """A webhook signed at the service's "now" is fresh even when the machine's
    clock says otherwise, and one signed at the machine's time is not."""
    received: list[ProviderEvent] = []

    async def sink(event: ProviderEvent) -> None:
        received.append(event)

    app = web.Application()
    later = NOW + timedelta(days=400)  # far from the machine's clock either way
    add_webhook_routes(app, Settings(whereby_webhook_secret=WB_SECRET), sink, lambda: later)
    body = whereby_event("room.session.ended")
    async with serve(app) as base:
        url = f"{base}/webhooks/whereby"
        fresh = whereby_headers(body, t=int(later.timestamp()))
        assert (await client.post(url, content=body, headers=fresh)).status_code == 200
        machine = whereby_headers(body, t=int(datetime.now(UTC).timestamp()))
        assert (await client.post(url, content=body, headers=machine)).status_code == 401
    assert [event.kind for event in received] == ["ended"]


# --- eyeson ------------------------------------------------------------------


def eyeson_signed(payload: dict[str, Any], key: str = EY_KEY) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    return {"X-Eyeson-Signature": hmac.new(key.encode(), body, hashlib.sha256).hexdigest()}, body


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"type": "room_update", "room": {"id": "r1", "ready": True, "shutdown": True}},
            ProviderEvent("eyeson", "ended", "r1", None, "r1:ended"),
        ),
        (
            {"type": "room_update", "room": {"id": "r1", "ready": True, "shutdown": False}},
            ProviderEvent("eyeson", "started", "r1", None, "r1:started"),
        ),
        (
            {
                "type": "participant_update",
                "participant": {"id": "u1", "room_id": "r1", "name": "Ada", "online": True},
            },
            ProviderEvent("eyeson", "joined", "r1", "Ada", None),
        ),
        (
            {
                "type": "participant_update",
                "participant": {"id": "u1", "room_id": "r1", "name": "Ada", "online": False},
            },
            ProviderEvent("eyeson", "left", "r1", "Ada", None),
        ),
    ],
)
def test_eyeson_maps_room_and_participant_updates(
    payload: dict[str, Any], expected: ProviderEvent
) -> None:
    headers, body = eyeson_signed(payload)
    assert verify_eyeson(headers, body, EY_KEY) == expected


@pytest.mark.parametrize("online", [True, False])
def test_eyeson_participant_carries_the_guest_id_convene_registered(online: bool) -> None:
    person = {"id": "discord:42", "room_id": "r1", "name": "Ada", "guest": True, "online": online}
    headers, body = eyeson_signed({"type": "participant_update", "participant": person})
    event = verify_eyeson(headers, body, EY_KEY)
    assert event == ProviderEvent(
        "eyeson", "joined" if online else "left", "r1", "Ada", None, participant_key="discord:42"
    )


def test_eyeson_ignores_other_types_and_idle_rooms() -> None:
    for payload in (
        {"type": "recording_update", "recording": {"id": "x"}},
        {"type": "room_update", "room": {"id": "r1", "ready": False, "shutdown": False}},
    ):
        headers, body = eyeson_signed(payload)
        assert verify_eyeson(headers, body, EY_KEY) is None


def test_eyeson_rejects_wrong_key_tampered_body_and_missing_header() -> None:
    payload = {"type": "room_update", "room": {"id": "r1", "shutdown": True}}
    headers, body = eyeson_signed(payload, key="other-key")
    with pytest.raises(WebhookRejected):
        verify_eyeson(headers, body, EY_KEY)
    headers, body = eyeson_signed(payload)
    with pytest.raises(WebhookRejected):
        verify_eyeson(headers, body + b" ", EY_KEY)
    with pytest.raises(WebhookRejected):
        verify_eyeson({}, body, EY_KEY)
    for junk in ("zz-not-hex", "\u00e9\u00e9"):
        with pytest.raises(WebhookRejected):
            verify_eyeson({"X-Eyeson-Signature": junk}, body, EY_KEY)


def test_eyeson_rejects_signed_garbage_and_accepts_uppercase_hex() -> None:
    body = b"[1, 2"
    digest = hmac.new(EY_KEY.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(WebhookRejected, match="JSON"):
        verify_eyeson({"x-eyeson-signature": digest}, body, EY_KEY)
    headers, body = eyeson_signed({"type": "room_update", "room": {"id": "r", "shutdown": True}})
    headers["X-Eyeson-Signature"] = headers["X-Eyeson-Signature"].upper()
    assert verify_eyeson(headers, body, EY_KEY) is not None


# --- Metered -----------------------------------------------------------------


def test_metered_token_is_stable_hex_and_room_specific() -> None:
    token = metered_webhook_token(MT_SECRET, "standup-1a2b")
    assert token == metered_webhook_token(MT_SECRET, "standup-1a2b")
    assert len(token) == 32 and int(token, 16) >= 0
    expected = hmac.new(MT_SECRET.encode(), b"standup-1a2b", hashlib.sha256).hexdigest()[:32]
    assert token == expected
    assert token != metered_webhook_token(MT_SECRET, "standup-1a2c")
    assert token != metered_webhook_token("other", "standup-1a2b")


@pytest.mark.parametrize(
    ("payload", "kind", "participant"),
    [
        (
            {"event": "participant.joined", "roomName": "R", "participantName": "Ada"},
            "joined",
            "Ada",
        ),
        ({"event": "participantLeft", "roomName": "R", "name": "Ada"}, "left", "Ada"),
        ({"type": "meeting.started", "data": {"roomName": "R"}}, "started", None),
        ({"event": "meetingEnded", "room": {"roomName": "R"}, "id": "e9"}, "ended", None),
    ],
)
def test_metered_maps_events(payload: dict[str, Any], kind: str, participant: str | None) -> None:
    body = json.dumps(payload).encode()
    event = verify_metered(metered_webhook_token(MT_SECRET, "R"), body, MT_SECRET)
    assert event is not None
    assert (event.provider, event.kind, event.room_id, event.participant) == (
        "metered",
        kind,
        "R",
        participant,
    )


@pytest.mark.parametrize("event_name", ["participantJoined", "participantLeft"])
def test_metered_join_and_leave_carry_the_tokens_external_user_id(event_name: str) -> None:
    payload = {
        "event": event_name,
        "roomName": "R",
        "participantName": "Ada",
        "externalUserId": "slack:U1",
    }
    body = json.dumps(payload).encode()
    event = verify_metered(metered_webhook_token(MT_SECRET, "R"), body, MT_SECRET)
    assert event is not None
    assert event.kind == ("joined" if event_name == "participantJoined" else "left")
    assert (event.participant, event.participant_key, event.at) == ("Ada", "slack:U1", None)


def test_metered_unknown_event_is_ignored_after_the_token_check() -> None:
    body = json.dumps({"event": "recording.ready", "roomName": "R"}).encode()
    assert verify_metered(metered_webhook_token(MT_SECRET, "R"), body, MT_SECRET) is None
    for forged in ("0" * 32, "\u00e9" * 32, ""):
        with pytest.raises(WebhookRejected):
            verify_metered(forged, body, MT_SECRET)


def test_metered_rejects_a_token_for_another_room() -> None:
    body = json.dumps({"event": "meetingEnded", "roomName": "victim"}).encode()
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_metered(metered_webhook_token(MT_SECRET, "attacker"), body, MT_SECRET)


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"event": "meetingEnded"}'])
def test_metered_rejects_malformed_bodies(body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        verify_metered(metered_webhook_token(MT_SECRET, "R"), body, MT_SECRET)


@pytest.mark.parametrize(
    "body", [b"[" * 50_000, b"{", b'{"roomName": "R", "x": ' + b"[" * 50_000, b"\xff"]
)
def test_metered_checks_the_token_before_it_parses_the_body(body: bytes) -> None:
    """A wrong token is refused as a wrong token, whatever the body: it was never
    parsed (the finding: 50,000 `[` and no token at all gave a RecursionError)."""
    for forged in ("0" * 32, "not-a-token", metered_webhook_token(MT_SECRET, "other")):
        with pytest.raises(WebhookRejected, match="token") as refused:
            verify_metered(forged, body, MT_SECRET)
        assert not isinstance(refused.value, WebhookMalformed)


def test_metered_with_the_right_token_and_a_nested_body_is_malformed() -> None:
    body = b'{"roomName": "R", "x": ' + b"[" * 50_000
    with pytest.raises(WebhookMalformed):
        verify_metered(metered_webhook_token(MT_SECRET, "R"), body, MT_SECRET)


def test_metered_room_found_by_the_scan_must_be_the_room_parsed() -> None:
    """A body that names the token's room somewhere, but another room where convene
    reads it, is refused."""
    body = json.dumps(
        {"event": "meetingEnded", "roomName": "victim", "participant": {"room": "R"}}
    ).encode()
    with pytest.raises(WebhookRejected, match="does not match"):
        verify_metered(metered_webhook_token(MT_SECRET, "R"), body, MT_SECRET)
