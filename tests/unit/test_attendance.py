"""Attendance arithmetic and the organizer's sentence."""

from __future__ import annotations

from datetime import timedelta

from adapters.discord.messenger import DiscordMessenger
from adapters.slack.messenger import SlackMessenger
from bot.attendance import (
    Presence,
    Session,
    durations,
    prompt_recipients,
    summary_line,
    trend_line,
)
from tests.moments import next_monday_at

START = next_monday_at(10)
END = START + timedelta(hours=1)


def session(key: str | None, name: str, joined: float, left: float | None) -> Session:
    return Session(
        key,
        name,
        START + timedelta(minutes=joined),
        None if left is None else START + timedelta(minutes=left),
    )


def minutes_of(presences: list[Presence]) -> dict[str, int]:
    return {p.name: p.minutes for p in presences}


def test_repeated_joins_add_up() -> None:
    sessions = [session("UANA", "Ana", 0, 20), session("UANA", "Ana", 30, 55)]
    assert minutes_of(durations(sessions, meeting_end=END)) == {"Ana": 45}


def test_a_session_still_open_is_closed_at_the_meeting_end() -> None:
    sessions = [session("URAJ", "Raj", 48, None)]
    [raj] = durations(sessions, meeting_end=END)
    assert raj.minutes == 12 and raj.person_key == "URAJ" and not raj.guest


def test_two_devices_at_once_count_once() -> None:
    sessions = [
        session("UANA", "Ana", 0, 30),
        session("UANA", "Ana (phone)", 10, 40),  # overlaps the laptop
        session("UANA", "Ana", 35, 45),  # inside the phone's stretch, then a little more
    ]
    [ana] = durations(sessions, meeting_end=END)
    assert ana.total == timedelta(minutes=45)


def test_guests_are_told_apart_by_name_and_carry_no_id() -> None:
    sessions = [
        session(None, "Bob", 0, 5),
        session(None, " bob ", 20, 25),
        session(None, "Eve", 0, 60),
    ]
    presences = durations(sessions, meeting_end=END)
    assert [(p.person_key, p.minutes) for p in presences] == [(None, 60), (None, 10)]
    assert all(p.guest for p in presences)


def test_the_organizers_sentence() -> None:
    sessions = [
        session("UANA", "ana.l", 0, 45),
        session("URAJ", "raj", 48, None),
        session("UKIM", "kim", 0, 41),
        session("USAM", "sam", 0, 50),
        session(None, "Bob", 0, 5),
        session(None, "Eve", 20, 60),
    ]
    presences = durations(sessions, meeting_end=END)
    names = {"UANA": "Ana", "URAJ": "Raj", "UKIM": "Kim", "USAM": "Sam", "ULEE": "Lee"}
    line = summary_line(presences, ["UANA", "URAJ", "UKIM", "ULEE"], names, ["USAM", "UZOE"])
    assert line == (
        "3 of 4 who said Going came; median 40 min; "
        "Sam 50 min, Ana 45 min, Kim 41 min, Raj 12 min, 2 guests. "
        "Said Going but didn't join: Lee. Invited but didn't join: UZOE."
    )


def test_sentences_with_no_answers_or_nobody_there() -> None:
    presences = durations([session("UANA", "Ana", 0, 30)], meeting_end=END)
    assert summary_line(presences, [], {"UANA": "Ana"}) == (
        "1 person came; median 30 min; Ana 30 min."
    )
    assert summary_line([], ["UANA"], {"UANA": "Ana"}) == (
        "0 of 1 who said Going came. Said Going but didn't join: Ana."
    )
    guest_invitee = durations([session(None, "bob", 0, 10)], meeting_end=END)
    assert summary_line(guest_invitee, [], {}, ["bob"]).startswith("1 of 1 invited came")


def test_a_series_trend() -> None:
    assert trend_line([5, 6, 4, 7]) == "attendance over the last 4: 5, 6, 4, 7"
    assert trend_line([3]) == "attendance last time: 3"
    assert trend_line([]) == "no attendance recorded yet"


def test_feedback_goes_to_real_user_ids_only_each_once() -> None:
    slack = prompt_recipients(
        "UORG",
        ["UANA", "URAJ"],
        ["URAJ", "bob", "@here"],
        ["UANA", "Eve Guest", "UKIM"],
        is_user=SlackMessenger.is_user_id,
    )
    assert slack == ["UORG", "UANA", "URAJ", "UKIM"]
    discord = prompt_recipients(
        "1700000000000000001",
        ["1700000000000000002"],
        ["ana", "١٢٣"],
        ["1700000000000000002", ""],
        is_user=DiscordMessenger.is_user_id,
    )
    assert discord == ["1700000000000000001", "1700000000000000002"]
