"""The meeting service through a FakePlatform: what users see when they type /meet."""

from __future__ import annotations

from datetime import timedelta

from bot.config import Settings
from bot.models import MeetingStatus
from bot.ports import DeliveryError, Room, RoomSpec
from bot.providers.errors import QuotaError
from tests.fakes import Harness, StaticProviders, StubProvider, harness, sqlite_of
from tests.moments import BERLIN, at


async def test_instant_meeting_posts_join_link_publicly_and_host_link_privately(h: Harness) -> None:
    reply = await h.platform.run("/meet Standup")
    assert reply.ok, reply.text
    [(channel, card)] = h.platform.cards
    assert channel == "team"
    assert card.title == "Standup"
    assert card.join_url and card.join_url.startswith("https://meet.jit.si/")
    [host] = reply.private
    assert host.link and host.link != card.join_url
    assert host.link not in h.platform.public_text()
    assert card.meeting_id in reply.text


async def test_instant_meeting_lasts_the_workspace_default(h: Harness) -> None:
    await h.platform.run("/meet")
    [(_, card)] = h.platform.cards
    assert card.title == "Quick meeting"
    assert card.start == h.clock()
    assert card.end - card.start == timedelta(minutes=30)


async def test_scheduled_meeting_uses_the_callers_time_zone(h: Harness) -> None:
    today = h.clock().astimezone(BERLIN).date()
    offset = h.clock().astimezone(BERLIN).utcoffset()
    assert offset in (timedelta(hours=1), timedelta(hours=2))  # CET or CEST
    await h.platform.run("/meet tz Europe/Berlin")
    reply = await h.platform.run("/meet Design review at 15:00 for 45m")
    assert reply.ok, reply.text
    [(_, card)] = h.platform.cards
    assert card.start == at(today, 15, 0) - offset  # 15:00 Berlin, not 15:00 UTC
    assert card.end == at(today, 15, 45) - offset
    assert "15:00–15:45 Europe/Berlin" in reply.text


async def test_grammar_errors_reach_the_user_as_one_sentence_and_create_nothing(h: Harness) -> None:
    reply = await h.platform.run("/meet Retro at 25:00")
    assert not reply.ok
    assert "25:00" in reply.text and "/meet" in reply.text
    assert h.platform.cards == []


async def test_list_shows_this_channels_meetings_soonest_first(h: Harness) -> None:
    await h.platform.run("/meet Later at 16:00")
    await h.platform.run("/meet Sooner at 11:00")
    await h.platform.run("/meet Elsewhere at 12:00", channel="other")
    reply = await h.platform.run("/meet list")
    assert [item.title for item in reply.items] == ["Sooner", "Later"]
    empty = await h.platform.run("/meet list", channel="quiet")
    assert empty.items == () and "No upcoming meetings" in empty.text


async def test_only_organizer_or_admin_may_end(h: Harness) -> None:
    await h.platform.run("/meet Retro at 16:00")
    meeting_id = h.platform.cards[0][1].meeting_id
    refused = await h.platform.run(f"/meet end {meeting_id}", user="raj")
    assert not refused.ok and "Only the organizer" in refused.text
    assert (await h.core.get_meeting(meeting_id)).status is MeetingStatus.SCHEDULED  # type: ignore[union-attr]
    ended = await h.platform.run(f"/meet end {meeting_id}")
    assert ended.ok
    [(_, ref, card)] = h.platform.updates
    assert ref == "msg-1" and card.join_url is None and card.status == "ended"
    again = await h.platform.run(f"/meet end {meeting_id}")
    assert not again.ok and "already ended" in again.text


async def test_admin_may_cancel_someone_elses_meeting(h: Harness) -> None:
    await h.platform.run("/meet Retro at 16:00")
    meeting_id = h.platform.cards[0][1].meeting_id
    reply = await h.platform.run(f"/meet cancel {meeting_id}", user="boss", admin=True)
    assert reply.ok, reply.text
    assert (await h.core.get_meeting(meeting_id)).status is MeetingStatus.CANCELLED  # type: ignore[union-attr]
    assert "cancelled" in h.platform.notices[-1][1].text


async def test_ids_from_another_workspace_do_not_exist_here(h: Harness) -> None:
    await h.platform.run("/meet Retro at 16:00")
    meeting_id = h.platform.cards[0][1].meeting_id
    outsider = h.platform.caller("ana", admin=True)
    outsider = outsider.__class__(**{**outsider.__dict__, "workspace_id": "w2"})
    reply = await h.service.run_text(outsider, f"/meet end {meeting_id}")
    assert not reply.ok and "can't find" in reply.text


async def test_host_link_is_resent_privately_to_the_organizer_only(h: Harness) -> None:
    created = await h.platform.run("/meet Retro at 16:00")
    meeting_id = h.platform.cards[0][1].meeting_id
    again = await h.platform.run(f"/meet host {meeting_id}")
    assert again.private[0].link == created.private[0].link
    other = await h.platform.run(f"/meet host {meeting_id}", user="raj")
    assert not other.ok and other.private == ()


async def test_without_secret_key_host_link_is_sent_once_and_host_explains() -> None:
    async with harness(secret_key=None, settings=_jwt_settings()) as h:
        created = await h.platform.run("/meet Retro at 16:00")
        assert created.private[0].link
        assert "CONVENE_SECRET_KEY" in created.private[0].text
        meeting_id = h.platform.cards[0][1].meeting_id
        again = await h.platform.run(f"/meet host {meeting_id}")
        assert not again.ok and "CONVENE_SECRET_KEY" in again.text
        raw = await h.core.store.one("SELECT host_url_sealed FROM meetings")
        assert raw == {"host_url_sealed": None}


async def test_host_links_are_encrypted_at_rest(h: Harness) -> None:
    created = await h.platform.run("/meet Retro at 16:00")
    host = created.private[0].link
    assert host
    dump = "\n".join(sqlite_of(h.core).iterdump())
    assert host not in dump


async def test_config_changes_need_an_admin_and_apply_to_new_meetings(h: Harness) -> None:
    refused = await h.platform.run("/meet config length 45m")
    assert not refused.ok and "admin" in refused.text
    changed = await h.platform.run("/meet config length 45m", admin=True)
    assert changed.ok and "45 minutes" in changed.text
    await h.platform.run("/meet config reminder 5m", admin=True)
    await h.platform.run("/meet Sync at 16:00")
    meeting = await h.core.get_meeting(h.platform.cards[0][1].meeting_id)
    assert meeting is not None
    assert meeting.duration == timedelta(minutes=45)
    assert meeting.remind == timedelta(minutes=5)


async def test_switching_to_an_unconfigured_provider_names_the_variable(h: Harness) -> None:
    reply = await h.platform.run("/meet config provider whereby", admin=True)
    assert not reply.ok and "WHEREBY_API_KEY" in reply.text
    unknown = await h.platform.run("/meet config provider zoom", admin=True)
    assert not unknown.ok and "jitsi" in unknown.text


async def test_unknown_time_zone_suggests_real_ones(h: Harness) -> None:
    reply = await h.platform.run("/meet tz Berlin")
    assert not reply.ok and "Europe/Berlin" in reply.text


class _BrokeProvider(StubProvider):
    name = "edcast"
    label = "EdCast"

    async def create_room(self, spec: RoomSpec) -> Room:
        raise QuotaError("EdCast", "EdCast's free plan allows 10 API meetings a month.")


async def test_provider_failure_is_one_sentence_and_leaves_nothing_behind() -> None:
    async with harness(providers=StaticProviders(edcast=_BrokeProvider()), provider="edcast") as h:
        reply = await h.platform.run("/meet Retro at 16:00")
        assert not reply.ok and reply.text.startswith("EdCast's free plan")
        assert h.platform.cards == []
        assert await h.core.store.value("SELECT count(*) FROM meetings") == 0


async def test_card_that_cannot_be_posted_still_gives_the_organizer_the_link(h: Harness) -> None:
    h.platform.fail_next.append(DeliveryError("convene is not in this channel; invite it first."))
    reply = await h.platform.run("/meet Retro")
    assert "not in this channel" in reply.text
    join = [note.link for note in reply.private if note.link_label == "Join"]
    assert join and join[0] and join[0].startswith("https://meet.jit.si/")


async def test_help_lists_commands_with_examples(h: Harness) -> None:
    reply = await h.platform.run("/meet help")
    for command in ("/meet list", "/meet end", "/meet tz", "/meet config", "every weekday"):
        assert command in reply.text


def _jwt_settings() -> Settings:
    return Settings(
        jitsi_url="https://video.example.com",
        jitsi_app_id="convene",
        jitsi_app_secret="a-test-secret-that-is-long-enough-for-hs256",
    )
