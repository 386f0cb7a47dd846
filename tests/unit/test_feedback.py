"""Feedback after a meeting: one prompt, changeable answers, a summary whose numbers match."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.messages import NoticeKind
from bot.providers.webhooks import ProviderEvent
from tests.fakes import FakeClock, Harness, harness
from tests.moments import at, next_monday_at


def ten_am(h: Harness) -> datetime:
    """10:00 UTC on the harness's day (a Monday, 09:00 UTC when the test starts)."""
    return at(h.clock().date(), 10, 0)


async def ended_meeting(h: Harness, text: str = "/meet Retro at 10:00 for 30m with <@raj>") -> str:
    start = ten_am(h)
    reply = await h.platform.run(text)
    assert reply.ok, reply.text
    meeting_id = h.platform.cards[-1][1].meeting_id
    h.clock.set(start + timedelta(minutes=30))
    await h.lifecycle.sweep()
    return meeting_id


def prompts(h: Harness) -> tuple[list[str], list[str]]:
    public = [n.meeting_id for _, n, _ in h.platform.notices if n.kind is NoticeKind.FEEDBACK]
    private = [user for user, note in h.platform.privates if note.feedback_meeting_id]
    return public, private


async def test_expiry_prompts_channel_organizer_and_invitees_once(h: Harness) -> None:
    meeting_id = await ended_meeting(h)
    public, private = prompts(h)
    assert public == [meeting_id]
    assert private == ["ana", "raj"]
    thread = [t for _, n, t in h.platform.notices if n.kind is NoticeKind.FEEDBACK]
    assert thread == ["msg-1"]
    await h.lifecycle.sweep()
    await h.service.on_provider_event(ProviderEvent("jitsi", "ended", "x", None, "e1"))
    assert prompts(h) == (public, private)


async def test_end_command_and_attendees_from_webhooks_are_prompted(h: Harness) -> None:
    await h.platform.run("/meet Sync")
    meeting = await h.core.get_meeting(h.platform.cards[0][1].meeting_id)
    assert meeting is not None
    joined = ProviderEvent(
        "jitsi", "joined", meeting.room_id, "lee", "j1", participant_key="fake:lee"
    )
    await h.service.on_provider_event(joined)
    await h.platform.run(f"/meet end {meeting.id}")
    assert prompts(h)[1] == ["ana", "lee"]


async def test_a_second_click_changes_the_answer_and_the_summary_adds_up(h: Harness) -> None:
    meeting_id = await ended_meeting(h)
    assert (await h.platform.run(f"/meet rate {meeting_id} 4")).ok
    assert (await h.platform.run(f"/meet rate {meeting_id} 2", user="raj")).ok
    changed = await h.platform.run(f"/meet rate {meeting_id} 5 great pace", user="raj")
    assert changed.ok and "5/5" in changed.text
    summary = await h.platform.run(f"/meet feedback {meeting_id}")
    lines = summary.text.splitlines()
    assert "2 responses, average 4.5 out of 5." in lines[0]
    assert "5 ★ █ 1" in lines and "4 ★ █ 1" in lines and "2 ★  0" in lines
    assert "“great pace”" in lines


async def test_only_the_organizer_or_an_admin_sees_the_summary(h: Harness) -> None:
    meeting_id = await ended_meeting(h)
    refused = await h.platform.run(f"/meet feedback {meeting_id}", user="raj")
    assert not refused.ok and "Only the organizer" in refused.text


async def test_window_closes_politely_and_the_organizer_gets_the_summary_once(db_file: str) -> None:
    clock = FakeClock(next_monday_at(9))
    async with harness(db_file, clock=clock) as h:
        meeting_id = await ended_meeting(h)
        await h.platform.run(f"/meet rate {meeting_id} 3", user="raj")
        clock.advance(hours=24, seconds=1)
        late = await h.platform.run(f"/meet rate {meeting_id} 5", user="raj")
        assert not late.ok and "closed" in late.text
        await h.lifecycle.sweep()
        summaries = [note.text for user, note in h.platform.privates if "Feedback for" in note.text]
        assert len(summaries) == 1 and "1 response, average 3.0" in summaries[0]
    async with harness(db_file, clock=clock) as again:
        await again.lifecycle.sweep()
        assert not [n for _, n in again.platform.privates if "Feedback for" in n.text]
        assert prompts(again) == ([], [])


async def test_rating_before_the_end_is_refused(h: Harness) -> None:
    await h.platform.run("/meet Retro at 10:00")
    meeting_id = h.platform.cards[0][1].meeting_id
    early = await h.platform.run(f"/meet rate {meeting_id} 5")
    assert not early.ok and "opens when it has ended" in early.text


async def test_nofeedback_and_workspace_off_mean_no_prompt(h: Harness) -> None:
    start = ten_am(h)
    await ended_meeting(h, "/meet Quiet at 10:00 for 30m nofeedback")
    await h.platform.run("/meet config feedback off", admin=True)
    h.clock.set(start - timedelta(minutes=30))
    await h.platform.run("/meet Also quiet in 10m for 10m")
    h.clock.advance(minutes=30)
    await h.lifecycle.sweep()
    assert prompts(h) == ([], [])


async def test_series_summary_shows_the_trend_of_recent_occurrences(h: Harness) -> None:
    await h.platform.run("/meet tz UTC")
    reply = await h.platform.run("/meet Standup every day at 10:00 for 15m")
    assert reply.ok, reply.text
    monday = h.clock().date()
    tuesday = monday + timedelta(days=1)
    for day, score in ((monday, 2), (tuesday, 4)):
        h.clock.set(at(day, 9, 50))
        await h.lifecycle.sweep()
        h.clock.set(at(day, 10, 15))
        await h.lifecycle.sweep()
        meeting_id = h.platform.cards[-1][1].meeting_id
        assert (await h.platform.run(f"/meet rate {meeting_id} {score}")).ok
    summary = await h.platform.run(f"/meet feedback {meeting_id}")
    assert (
        "Recent meetings of this series: "
        f"Mon {monday.day} {monday:%b} 2.0; Tue {tuesday.day} {tuesday:%b} 4.0"
    ) in summary.text


async def test_one_undeliverable_prompt_does_not_cost_the_others_theirs(h: Harness) -> None:
    from bot.ports import DeliveryError

    start = ten_am(h)
    await h.platform.run("/meet Retro at 10:00 for 30m with <@raj> <@lee>")
    h.clock.set(start + timedelta(minutes=30))
    original = h.platform.send_private

    async def flaky_send(place, user_id, note):  # type: ignore[no-untyped-def]
        if user_id == "ana" and note.feedback_meeting_id:
            raise DeliveryError("ana does not accept direct messages", permanent=True)
        await original(place, user_id, note)

    h.platform.send_private = flaky_send  # type: ignore[method-assign]
    await h.lifecycle.sweep()
    assert prompts(h)[1] == ["raj", "lee"]
