"""Answers, private reminders, personal links and attendance through the service, on the
fake platform: what each person sees, and who is (and is never) addressed."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from adapters.console.platform import ConsolePlatform
from bot.card_edits import CardEdits
from bot.grammar import parse
from bot.messages import Card, NoticeKind
from bot.models import Caller
from bot.ports import Capabilities, Person
from bot.providers.webhooks import Kind, ProviderEvent
from bot.requests import Button, GrammarError, PersonalLink, RemindMe, Rsvp, button_request
from bot.rsvp import Tally
from tests.fakes import Harness, StaticProviders, StubProvider, harness
from tests.moments import at

UTC_ZONE = ZoneInfo("UTC")


def ten_am(h: Harness) -> datetime:
    return at(h.clock().date(), 10, 0)


async def settle(h: Harness) -> None:
    """Let the coalesced card redraws run (their pause goes through a sleep that returns)."""
    for _ in range(100):
        if not h.core.card_edits.pending:
            return
        await asyncio.sleep(0)
    raise AssertionError("card redraws never finished")


async def no_wait(delay: float) -> None:
    return None


@pytest.fixture
async def hp() -> AsyncIterator[Harness]:
    async with harness() as made:
        made.core.card_edits = CardEdits(made.core.redraw_card, sleep=no_wait)
        yield made


async def booked(h: Harness, text: str = "/meet Sync at 10:00 for 30m with @raj") -> str:
    reply = await h.platform.run(text)
    assert reply.ok, reply.text
    return h.platform.cards[-1][1].meeting_id


def last_card(h: Harness) -> Card:
    return h.platform.updates[-1][2]


async def test_two_people_answer_and_the_card_shows_both_in_order(hp: Harness) -> None:
    meeting_id = await booked(hp)
    assert (await hp.platform.run(f"/meet rsvp {meeting_id} yes", user="raj")).ok
    assert (await hp.platform.run(f"/meet rsvp {meeting_id} going", user="lee")).ok
    await settle(hp)
    tally = last_card(hp).rsvp
    assert tally is not None and tally.going == ("raj", "lee")
    changed = await hp.platform.run(f"/meet rsvp {meeting_id} cant", user="raj")
    assert changed.ok and "can't make" in changed.text
    await settle(hp)
    tally = last_card(hp).rsvp
    assert tally is not None and (tally.going, tally.no) == (("lee",), ("raj",))


async def test_pressing_the_same_button_again_takes_the_answer_back(hp: Harness) -> None:
    meeting_id = await booked(hp)
    press = button_request(Button.MAYBE, meeting_id)
    first = await hp.service.handle(hp.platform.caller("raj"), press)
    second = await hp.service.handle(hp.platform.caller("raj"), press)
    assert "maybe" in first.text and "taken back" in second.text
    await settle(hp)
    assert last_card(hp).rsvp == Tally()  # nobody answered


async def test_answers_are_refused_elsewhere_and_once_a_meeting_is_over(hp: Harness) -> None:
    meeting_id = await booked(hp, "/meet Sync")
    stranger = Caller("fake", "w2", "team", "raj")
    refused = await hp.service.handle(stranger, Rsvp(meeting_id, "going"))
    assert not refused.ok and "can't find" in refused.text
    await hp.platform.run(f"/meet end {meeting_id}")
    late = await hp.platform.run(f"/meet rsvp {meeting_id} yes", user="raj")
    assert not late.ok and "ended" in late.text
    await settle(hp)
    assert all(card.rsvp is None for _, _, card in hp.platform.updates)


async def test_a_burst_of_fifty_presses_makes_a_few_card_updates(hp: Harness) -> None:
    meeting_id = await booked(hp)
    before = len(hp.platform.updates)
    for n in range(50):
        await hp.service.handle(
            hp.platform.caller(f"u{n}"), button_request(Button.GOING, meeting_id)
        )
    await settle(hp)
    redraws = hp.platform.updates[before:]
    assert 1 <= len(redraws) <= 5
    tally = redraws[-1][2].rsvp
    assert tally is not None and len(tally.going) == 50  # the last redraw shows the last press


async def test_reminder_mentions_going_people_and_invitees_and_dms_who_asked(hp: Harness) -> None:
    meeting_id = await booked(hp)
    await hp.platform.run(f"/meet rsvp {meeting_id} yes", user="lee")
    await hp.platform.run(f"/meet rsvp {meeting_id} yes", user="raj")  # also invited: once
    asked = await hp.platform.run(f"/meet remind me {meeting_id}", user="kim")
    assert asked.ok and "privately" in asked.text
    again = await hp.platform.run(f"/meet remind me {meeting_id}", user="kim")
    assert "already" in again.text
    hp.clock.set(ten_am(hp) - timedelta(minutes=10))
    await hp.lifecycle.sweep()
    [reminder] = [n for _, n, _ in hp.platform.notices if n.kind is NoticeKind.REMINDER]
    assert reminder.mentions == ("lee", "raj")
    assert [user for user, _ in hp.platform.directs] == ["kim"]
    assert hp.platform.directs[0][1].link == reminder.join_url
    late = await hp.platform.run(f"/meet remind me {meeting_id}", user="ana")
    assert not late.ok and "gone out" in late.text
    hp.clock.set(ten_am(hp))
    await hp.lifecycle.sweep()
    [starting] = [n for _, n, _ in hp.platform.notices if n.kind is NoticeKind.STARTING]
    assert starting.mentions == ("lee", "raj")
    assert len(hp.platform.directs) == 1


async def test_mentions_off_means_notices_mention_nobody(hp: Harness) -> None:
    assert (await hp.platform.run("/meet config mentions off", admin=True)).ok
    meeting_id = await booked(hp)
    await hp.platform.run(f"/meet rsvp {meeting_id} yes", user="lee")
    hp.clock.set(ten_am(hp))
    await hp.lifecycle.sweep()
    notices = [n for _, n, _ in hp.platform.notices if n.kind is not NoticeKind.INFO]
    assert notices and all(n.mentions == () for n in notices)


async def test_typed_names_that_are_no_user_are_never_mentioned(hp: Harness) -> None:
    meeting_id = await booked(hp, "/meet Sync at 10:00 with @Raj.Kumar")
    hp.clock.set(ten_am(hp) - timedelta(minutes=10))
    await hp.lifecycle.sweep()
    [reminder] = [n for _, n, _ in hp.platform.notices if n.kind is NoticeKind.REMINDER]
    assert reminder.meeting_id == meeting_id and reminder.mentions == ()


async def test_attendance_becomes_durations_in_the_organizers_summary(hp: Harness) -> None:
    meeting_id = await booked(hp, "/meet Retro at 10:00 for 60m with @raj")
    meeting = await hp.core.get_meeting(meeting_id)
    assert meeting is not None
    await hp.platform.run(f"/meet rsvp {meeting_id} yes", user="lee")
    start = ten_am(hp)

    async def event(kind: Kind, key: str | None, name: str, minutes: int, n: int) -> None:
        happened = ProviderEvent(
            "jitsi",
            kind,
            meeting.room_id,
            participant=name,
            event_id=f"e{n}",
            participant_key=key,
            at=start + timedelta(minutes=minutes),
        )
        await hp.service.on_provider_event(happened)

    await event("joined", "fake:raj", "Raj Kumar", 0, 1)
    await event("joined", "fake:raj", "Raj Kumar", 5, 2)  # already in: not a second session
    await event("left", "fake:raj", "Raj Kumar", 30, 3)
    await event("joined", "fake:raj", "Raj Kumar", 40, 4)  # back again: adds up
    await event("left", "fake:raj", "Raj Kumar", 50, 5)
    await event("joined", None, "Walk In", 10, 6)
    await event("left", None, "Walk In", 22, 7)
    await event("joined", "slack:U1", "Someone Else", 10, 8)  # another platform's key: a guest
    hp.clock.set(start + timedelta(minutes=60))
    await hp.lifecycle.sweep()
    prompted = [user for user, note in hp.platform.privates if note.feedback_meeting_id]
    assert prompted == ["ana", "lee", "raj"]  # organizer, Going, invitee; no display name
    summary = (await hp.platform.run(f"/meet feedback {meeting_id}")).text
    assert "Raj Kumar 40 min" in summary and "2 guests" in summary
    assert "0 of 1 who said Going came" in summary and "Said Going but didn't join: lee" in summary
    hp.clock.advance(hours=25)
    await hp.lifecycle.sweep()
    [sent] = [n.text for u, n in hp.platform.privates if u == "ana" and "Feedback for" in n.text]
    assert "Attendance:" in sent and "Raj Kumar 40 min" in sent
    everyone = [user for user, _ in hp.platform.privates + hp.platform.directs]
    assert not {"Raj Kumar", "Walk In", "Someone Else"} & set(everyone)


async def test_going_to_all_is_kept_for_the_next_occurrence(hp: Harness) -> None:
    assert (await hp.platform.run("/meet Standup every day at 9:30 for 15m")).ok
    hp.clock.advance(minutes=25)
    await hp.lifecycle.sweep()
    first = hp.platform.cards[-1][1]
    assert first.series_id is not None
    going_all = button_request(Button.GOING_ALL, first.meeting_id)
    reply = await hp.service.handle(hp.platform.caller("raj"), going_all)
    assert reply.ok and "every meeting" in reply.text
    hp.clock.advance(days=1)
    await hp.lifecycle.sweep()
    await settle(hp)
    second = hp.platform.cards[-1][1]
    assert second.meeting_id != first.meeting_id
    redrawn = [card for _, _, card in hp.platform.updates if card.meeting_id == second.meeting_id]
    assert redrawn and redrawn[-1].rsvp is not None and redrawn[-1].rsvp.going == ("raj",)


class LinkedProvider(StubProvider):
    """A provider that makes each person a link of their own."""

    capabilities = Capabilities(personal_link=True)

    def __init__(self) -> None:
        self.people: list[Person] = []

    async def personal_link(self, room_id: str, person: Person, *, join_url: str) -> str | None:
        self.people.append(person)
        return f"{join_url}?who={person.key}"


async def test_get_my_link_is_private_and_carries_the_platform_user() -> None:
    provider = LinkedProvider()
    async with harness(providers=StaticProviders(jitsi=provider)) as h:
        meeting_id = await booked(h)
        reply = await h.service.handle(h.platform.caller("raj"), PersonalLink(meeting_id))
        assert reply.ok
        [note] = reply.private
        assert note.link is not None and note.link.endswith("?who=fake:raj")
        assert provider.people == [Person(key="fake:raj", name="Raj")]
        assert "fake:raj" not in h.platform.public_text()


async def test_without_personal_links_everyone_gets_the_shared_link() -> None:
    async with harness(providers=StaticProviders(jitsi=StubProvider())) as h:
        meeting_id = await booked(h)
        reply = await h.platform.run(f"/meet link {meeting_id}", user="raj")
        [note] = reply.private
        meeting = await h.core.get_meeting(meeting_id)
        assert meeting is not None and note.link == meeting.join_url


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("rsvp k3f9qa yes", Rsvp("k3f9qa", "going")),
        ("RSVP k3f9qa Maybe", Rsvp("k3f9qa", "maybe")),
        ("rsvp k3f9qa can't", Rsvp("k3f9qa", "no")),
        ("remind me k3f9qa", RemindMe("k3f9qa")),
        ("link k3f9qa", PersonalLink("k3f9qa")),
    ],
)
def test_answer_commands_read(text: str, request_: object, h: Harness) -> None:
    assert parse(text, now=h.clock(), tz=h.clock().tzinfo) == request_  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "example"),
    [
        ("rsvp k3f9qa perhaps", "Try: /meet rsvp k3f9qa yes"),
        ("rsvp k3f9qa", "Try: /meet rsvp k3f9qa yes"),
        ("remind me", "Try: /meet remind me k3f9qa"),
        ("link", "Try: /meet link k3f9qa"),
    ],
)
def test_unreadable_answer_commands_say_so_with_an_example(
    text: str, example: str, h: Harness
) -> None:
    with pytest.raises(GrammarError) as caught:
        parse(text, now=h.clock(), tz=UTC_ZONE)
    assert str(caught.value).endswith(example)


def test_titles_that_start_like_answers_stay_titles(h: Harness) -> None:
    reading = parse("Remind team about OKRs", now=h.clock(), tz=UTC_ZONE)
    assert getattr(reading, "title", "") == "Remind team about OKRs"


async def test_console_answers_with_a_typed_rsvp_and_shows_the_tally() -> None:
    async with harness() as h:
        out = io.StringIO()
        console = ConsolePlatform(h.service, stdin=io.StringIO(), out=out)
        h.core.messengers[console.name] = console.messenger
        h.core.card_edits = CardEdits(h.core.redraw_card, sleep=no_wait)
        await console.handle_line("/meet Sync in 1h")
        [meeting_id] = [row["id"] for row in await h.core.store.all("SELECT id FROM meetings")]
        await console.handle_line(f"/meet rsvp {meeting_id} yes")
        await settle(h)
        printed = out.getvalue()
        assert "You're going to “Sync”" in printed
        updated = [line for line in printed.splitlines() if "Going: you" in line]
        assert updated and "Maybe: —" in updated[-1]
        await console.handle_line(f"/meet rsvp {meeting_id} perhaps")
        assert "Try: /meet rsvp k3f9qa yes" in out.getvalue()
