"""RSVP answers: a press answers, changes or withdraws; the tally keeps answer order."""

from __future__ import annotations

from bot.requests import Button, PersonalLink, RemindMe, Rsvp, button_request
from bot.rsvp import Answer, Tally, first_names, press


def test_pressing_your_own_answer_again_withdraws_it() -> None:
    assert press(None, Answer.GOING) is Answer.GOING
    assert press(Answer.GOING, Answer.MAYBE) is Answer.MAYBE
    assert press(Answer.MAYBE, Answer.MAYBE) is None


def test_tally_lists_people_in_answer_order_and_a_change_moves_them() -> None:
    tally = Tally.of(
        [
            ("UANA", Answer.GOING),
            ("URAJ", Answer.GOING),
            ("ULEE", Answer.NO),
            ("UANA", Answer.MAYBE),
            ("UANA", Answer.GOING),  # back to Going: now after Raj
        ]
    )
    assert tally == Tally(going=("URAJ", "UANA"), no=("ULEE",))
    assert tally.counts == {Answer.GOING: 2, Answer.MAYBE: 0, Answer.NO: 1}
    assert tally.answer_of("ULEE") is Answer.NO and tally.answer_of("UZED") is None


def test_typed_answers() -> None:
    assert [Answer.read(w) for w in ("yes", "Going", "maybe", "NO", "can’t")] == [
        Answer.GOING,
        Answer.GOING,
        Answer.MAYBE,
        Answer.NO,
        Answer.NO,
    ]
    assert Answer.read("perhaps") is None


def test_first_names_and_how_many_more() -> None:
    assert first_names(("a", "b", "c"), 2) == (("a", "b"), 1)
    assert first_names(("a",), 5) == (("a",), 0)


def test_card_buttons_ask_for_answers_reminders_and_links() -> None:
    assert button_request(Button.GOING, "abc234") == Rsvp("abc234", "going", toggle=True)
    assert button_request(Button.NO, "abc234") == Rsvp("abc234", "no", toggle=True)
    assert button_request(Button.GOING_ALL, "ser234") == Rsvp(
        "ser234", "going", every=True, toggle=True
    )
    assert button_request(Button.REMIND_ME, "abc234") == RemindMe("abc234")
    assert button_request(Button.MY_LINK, "x" * 90) == PersonalLink("x" * 40)
