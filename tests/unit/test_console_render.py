"""The console's card shows the answers in one line, and a reminder names its people."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from adapters.console import render
from bot.messages import CalendarLinks, Card, Notice, NoticeKind
from bot.rsvp import Tally
from tests.moments import next_monday_at

START = next_monday_at(9)


def test_card_lines_show_answers_and_calendar_links() -> None:
    card = Card(
        "abc234",
        "Retro",
        START,
        START + timedelta(minutes=30),
        "ana",
        "Jitsi",
        "https://meet.jit.si/retro",
        "scheduled",
        rsvp=Tally(going=("ana", "raj")),
        calendar=CalendarLinks(None, "https://g.example/add", "https://o.example/add"),
    )
    lines = render.card_lines(card, ZoneInfo("UTC"))
    assert "  Going: ana, raj · Maybe: — · Can't: — (answer: /meet rsvp abc234 yes|maybe|no)" in (
        lines
    )
    assert lines[-1] == "  Google: https://g.example/add · Outlook: https://o.example/add"
    assert not any(
        line.startswith("  Going")
        for line in render.card_lines(
            Card("abc234", "Retro", START, START, "ana", "Jitsi", None, "ended"), ZoneInfo("UTC")
        )
    )


def test_many_answers_are_capped_and_names_stay_on_one_line() -> None:
    tally = Tally(going=tuple(f"p{n}" for n in range(12)), no=("x\n[#general] fake",))
    line = render.tally_line(tally)
    assert "p9 +2 more" in line and "\n" not in line and line.endswith("Can't: x [#general] fake")


def test_reminder_names_its_people_first() -> None:
    notice = Notice(NoticeKind.REMINDER, "abc234", "Retro", "starts soon", mentions=("ana", "raj"))
    assert render.notice_line(notice).startswith("@ana @raj Reminder: “Retro” starts soon.")
