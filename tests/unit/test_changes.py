"""Changing a booking: move a meeting (fresh room, card updated, reminders re-planned),
rename it, or give a series a new rule. Only the organizer or an admin, only before it starts."""

from __future__ import annotations

from datetime import timedelta

from bot.messages import NoticeKind
from bot.models import MeetingStatus
from bot.providers.webhooks import ProviderEvent
from tests.fakes import Harness
from tests.moments import at


def kinds(h: Harness) -> list[NoticeKind]:
    return [notice.kind for _, notice, _ in h.platform.notices]


async def book(h: Harness, text: str) -> str:
    reply = await h.platform.run(text)
    assert reply.ok, reply.text
    return h.platform.cards[-1][1].meeting_id


async def test_a_move_gets_a_new_room_updates_the_card_and_reminds_at_the_new_time(
    h: Harness,
) -> None:
    meeting_id = await book(h, "/meet Retro in 30m for 30m remind 10m")
    before = await h.core.get_meeting(meeting_id)
    assert before is not None
    h.clock.advance(minutes=20)
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.REMINDER]  # the old time's reminder went out

    reply = await h.platform.run(f"/meet move {meeting_id} in 2h for 45m")
    assert reply.ok, reply.text
    moved = await h.core.get_meeting(meeting_id)
    assert moved is not None and moved.status is MeetingStatus.SCHEDULED
    assert moved.start == h.clock() + timedelta(hours=2)
    assert moved.end - moved.start == timedelta(minutes=45)
    assert moved.join_url != before.join_url  # a fresh room for the new times
    [(_, ref, card)] = h.platform.updates
    assert ref == "msg-1" and card.start == moved.start and card.join_url == moved.join_url
    assert kinds(h)[-1] is NoticeKind.INFO and "moved" in h.platform.notices[-1][1].text

    h.clock.set(before.start + timedelta(minutes=1))  # the old start passes quietly
    await h.lifecycle.sweep()
    assert kinds(h) == [NoticeKind.REMINDER, NoticeKind.INFO]
    h.clock.set(moved.start - timedelta(minutes=10))
    await h.lifecycle.sweep()
    h.clock.set(moved.start)
    await h.lifecycle.sweep()
    assert kinds(h)[2:] == [NoticeKind.REMINDER, NoticeKind.STARTING]


async def test_the_old_room_no_longer_ends_the_moved_meeting(h: Harness) -> None:
    meeting_id = await book(h, "/meet Retro in 30m")
    old = await h.core.get_meeting(meeting_id)
    assert old is not None
    assert (await h.platform.run(f"/meet move {meeting_id} in 3h")).ok
    h.clock.advance(hours=1)
    await h.service.on_provider_event(ProviderEvent("jitsi", "ended", old.room_id, None, "e1"))
    kept = await h.core.get_meeting(meeting_id)
    assert kept is not None and kept.status is MeetingStatus.SCHEDULED


async def test_rename_updates_the_card(h: Harness) -> None:
    meeting_id = await book(h, "/meet Retro in 1h")
    reply = await h.platform.run(f'/meet rename {meeting_id} "Sprint retro"')
    assert reply.ok, reply.text
    assert h.platform.updates[-1][2].title == "Sprint retro"
    renamed = await h.core.get_meeting(meeting_id)
    assert renamed is not None and renamed.title == "Sprint retro"


async def test_only_the_organizer_or_an_admin_may_change_and_only_before_the_start(
    h: Harness,
) -> None:
    meeting_id = await book(h, "/meet Retro in 1h")
    refused = await h.platform.run(f"/meet move {meeting_id} in 2h", user="raj")
    assert not refused.ok and "Only the organizer" in refused.text
    assert (await h.platform.run(f"/meet rename {meeting_id} Ours", user="raj", admin=True)).ok
    h.clock.advance(hours=1)
    await h.lifecycle.sweep()
    late = await h.platform.run(f"/meet move {meeting_id} in 2h")
    assert not late.ok and "has started" in late.text


async def test_moving_an_unknown_id_says_how_to_quote_a_title(h: Harness) -> None:
    reply = await h.platform.run("/meet move budget in 2h")
    assert not reply.ok and "can't find a meeting “budget”" in reply.text
    assert '/meet "Move budget"' in reply.text


async def test_a_series_gets_a_new_rule_from_its_next_occurrence(h: Harness) -> None:
    await h.platform.run("/meet tz Europe/Berlin")
    reply = await h.platform.run("/meet Sync every weekday at 9:30 for 15m")
    assert reply.ok, reply.text
    series_id = reply.text.split("(id ")[1].split(")")[0]
    changed = await h.platform.run(f"/meet move {series_id} every other week on tue at 10:00")
    assert changed.ok, changed.text
    assert "every other Tuesday" in changed.text and "10:00" in changed.text
    stored = await h.service.series.find(h.platform.caller(), series_id)
    assert stored is not None and stored.rule.hour == 10
    first = stored.rule.anchor
    assert first is not None and first.weekday() == 1
    opening = at(first, 9, 59, await h.service.zone_for(h.platform.caller()))
    h.clock.set(opening)
    await h.lifecycle.sweep()
    assert h.platform.cards[-1][1].start == at(
        first, 10, 0, await h.service.zone_for(h.platform.caller())
    )
