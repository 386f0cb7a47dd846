"""Meetings and series as storage tests build them: one definition, tweaked per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot.models import Meeting, MeetingStatus, Rule, Series, SeriesStatus
from storage.secrets import SecretBox
from tests.fakes import TEST_KEY
from tests.moments import next_monday_at

BOX = SecretBox(TEST_KEY)


def a_meeting(meeting_id: str = "abc234", **changes: object) -> Meeting:
    start = next_monday_at(14)
    fields: dict[str, object] = {
        "id": meeting_id,
        "platform": "slack",
        "workspace_id": "T1",
        "channel_id": "C1",
        "organizer_id": "U1",
        "title": "Retro 100% done_",
        "start": start,
        "end": start + timedelta(minutes=30),
        "provider": "jitsi",
        "room_id": f"room-{meeting_id}",
        "join_url": f"https://video.example/{meeting_id}",
        "status": MeetingStatus.SCHEDULED,
        "remind": timedelta(minutes=10),
        "instant": False,
        "host_url": f"https://video.example/{meeting_id}?host=secret",
        "invitees": ("U2", "U3"),
        "created_at": start - timedelta(days=1),
    }
    fields.update(changes)
    return Meeting(**fields)  # type: ignore[arg-type]


def a_series(created: datetime, rrule: str = "FREQ=DAILY", **changes: object) -> Series:
    """A standup series at 09:30 Berlin time, made at `created`."""
    series = Series(
        id="ser234",
        platform="slack",
        workspace_id="T1",
        channel_id="C1",
        owner_id="U1",
        title="Standup",
        rule=Rule(rrule, 9, 30, anchor=created.date()),
        tz="Europe/Berlin",
        length=timedelta(minutes=15),
        provider="jitsi",
        status=SeriesStatus.ACTIVE,
        feedback=True,
        skipped=frozenset(),
        created_at=created,
    )
    return replace(series, **changes)  # type: ignore[arg-type]
