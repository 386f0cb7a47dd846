"""RSVP answers on a meeting card: Going, Maybe, Can't.

A press is read against the answer the person already gave, so the same three buttons
answer, change and withdraw: pressing the answer you gave takes it back. The tally
keeps each list in answer order, so a card shows the first people who said Going.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Answer(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NO = "no"

    @classmethod
    def read(cls, word: str) -> Answer | None:
        """The answer a typed word means (`/meet rsvp <id> yes|maybe|no`); None if none."""
        return _WORDS.get(word.strip().lower().replace("’", "'"))


_WORDS = {
    "yes": Answer.GOING,
    "y": Answer.GOING,
    "going": Answer.GOING,
    "maybe": Answer.MAYBE,
    "no": Answer.NO,
    "n": Answer.NO,
    "cant": Answer.NO,
    "can't": Answer.NO,
    "not": Answer.NO,
}


def press(current: Answer | None, pressed: Answer) -> Answer | None:
    """The answer after a press: the pressed one, or None when it was already given."""
    return None if current is pressed else pressed


@dataclass(frozen=True)
class Tally:
    """Who answered what, each tuple of user ids in the order they answered."""

    going: tuple[str, ...] = ()
    maybe: tuple[str, ...] = ()
    no: tuple[str, ...] = ()

    @classmethod
    def of(cls, answers: Iterable[tuple[str, Answer]]) -> Tally:
        """From (user id, answer) pairs oldest first; a later answer of a person replaces theirs."""
        latest: dict[str, Answer] = {}
        for user, answer in answers:
            latest.pop(user, None)  # re-answering moves the person to the end of the list
            latest[user] = Answer(answer)
        return cls(
            going=tuple(u for u, a in latest.items() if a is Answer.GOING),
            maybe=tuple(u for u, a in latest.items() if a is Answer.MAYBE),
            no=tuple(u for u, a in latest.items() if a is Answer.NO),
        )

    @property
    def counts(self) -> dict[Answer, int]:
        return {
            Answer.GOING: len(self.going),
            Answer.MAYBE: len(self.maybe),
            Answer.NO: len(self.no),
        }

    def answer_of(self, user_id: str) -> Answer | None:
        """What this person answered, to read their next press against."""
        for answer, people in self.by_answer().items():
            if user_id in people:
                return answer
        return None

    def by_answer(self) -> dict[Answer, tuple[str, ...]]:
        return {Answer.GOING: self.going, Answer.MAYBE: self.maybe, Answer.NO: self.no}


def first_names(people: tuple[str, ...], limit: int) -> tuple[tuple[str, ...], int]:
    """The first `limit` people and how many more there are ("+k more")."""
    shown = people[: max(limit, 0)]
    return shown, len(people) - len(shown)


CARD_NAMES = 5  # people named on a card's tally before "+k more"


def card_tally(tally: Tally, mention: Callable[[str], str], limit: int = CARD_NAMES) -> str:
    """A card's answers, as "✅ 2 going: <@1>, <@2> · 🤔 1 maybe · ❌ 0", with each
    platform's own way of naming a person (a mention in a card does not notify)."""
    going = f"✅ {len(tally.going)} going"
    shown, more = first_names(tally.going, limit)
    if shown:
        going += ": " + ", ".join(mention(person) for person in shown)
    if more:
        going += f" +{more} more"
    return f"{going} · 🤔 {len(tally.maybe)} maybe · ❌ {len(tally.no)}"
