"""The phrase corpus (grammar_corpus.txt): every phrase as people type it, with the
meeting it must give or the words its refusal must name. Moments come from the real
date (tests/moments.py), so the corpus reads the same on any day it runs."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.grammar import parse
from bot.requests import CreateMeeting, CreateSeries, GrammarError, Request
from tests.moments import at, next_clock_change, next_weekday, today

CORPUS = Path(__file__).with_name("grammar_corpus.txt")
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Case:
    line: int
    phrase: str
    now: datetime
    tz: ZoneInfo
    expect: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    refusal: tuple[str, ...] | None = None


def _now(spec: str, tz: ZoneInfo) -> datetime:
    """'wed@11:00', 'summer-wed@11:00', 'winter-wed@11:00', 'spring-1@12:00', 'fall-1@12:00'."""
    day_spec, _, clock = spec.partition("@")
    hour, minute = (int(x) for x in clock.split(":"))
    year = today(tz).year
    days = {
        "wed": lambda: next_weekday(2, tz),
        "summer-wed": lambda: next_weekday(2, tz, after=date(year + 1, 7, 1)),
        "winter-wed": lambda: next_weekday(2, tz, after=date(year + 1, 1, 10)),
        "spring-1": lambda: next_clock_change(tz, forward=True) - timedelta(days=1),
        "fall-1": lambda: next_clock_change(tz, forward=False) - timedelta(days=1),
    }
    return at(days[day_spec](), hour, minute, tz)


def _next_on(month: int, day: int, local: date) -> date:
    this_year = date(local.year, month, day)
    return this_year if this_year >= local else date(local.year + 1, month, day)


def _fill(text: str, local: date) -> str:
    """Replace {Y}, {Y+1}, {Y-1}, {D+7}, {WD:12-03}, {WD-1:12-03} relative to `local`."""

    def one(m: re.Match[str]) -> str:
        key = m[1]
        if m2 := re.fullmatch(r"Y([+-][0-9]+)?", key):
            return str(local.year + int(m2[1] or 0))
        if m2 := re.fullmatch(r"D\+([0-9]+)", key):
            return (local + timedelta(days=int(m2[1]))).isoformat()
        if m2 := re.fullmatch(r"WD(-1)?:([0-9]{2})-([0-9]{2})", key):
            on = _next_on(int(m2[2]), int(m2[3]), local)
            return DAY_NAMES[(on.weekday() - (1 if m2[1] else 0)) % 7]
        raise ValueError(f"unknown placeholder {key}")

    return re.sub(r"\{([^}]+)\}", one, text)


def load(path: Path = CORPUS) -> list[Case]:
    cases: list[Case] = []
    tz = ZoneInfo("Europe/Berlin")
    now = _now("wed@11:00", tz)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("@"):
            parts = dict(p.split("=", 1) for p in line[1:].split())
            tz = ZoneInfo(parts["tz"])
            now = _now(parts["now"], tz)
            continue
        local = now.astimezone(tz).date()
        phrase, _, expected = (_fill(part, local) for part in line.partition("=>"))
        phrase, expected = phrase.strip(), expected.strip()
        if expected.startswith("!"):
            words = tuple(shlex.split(expected[1:]))
            cases.append(Case(number, phrase, now, tz, refusal=words))
            continue
        expect: dict[str, str] = {}
        notes: list[str] = []
        for token in shlex.split(expected):
            key, _, value = token.partition("=")
            if key.startswith("note~"):
                notes.append(token.removeprefix("note~"))
            else:
                expect[key] = value
        cases.append(Case(number, phrase, now, tz, expect, tuple(notes)))
    return cases


def _zone(name: str) -> tzinfo:
    if m := re.fullmatch(r"UTC([+-])([0-9]{1,2})(?::([0-9]{2}))?", name):
        offset = timedelta(hours=int(m[2]), minutes=int(m[3] or 0))
        return timezone(-offset if m[1] == "-" else offset)
    return ZoneInfo(name)


def expected_start(spec: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """'now', '+1h30', 'D+2@16:00', '12-03@15:00', 'MD:15@10:00', '2027-12-03@15:00[@ZONE]'."""
    if spec == "now":
        return None
    if spec.startswith("+"):
        m = re.fullmatch(r"\+(?:([0-9]+)h)?(?:([0-9]+)m?)?", spec)
        assert m, spec
        return now + timedelta(hours=int(m[1] or 0), minutes=int(m[2] or 0))
    day_spec, clock, *zone = spec.split("@")
    hour, minute = (int(x) for x in clock.split(":"))
    wall_zone = _zone(zone[0]) if zone else tz
    local = now.astimezone(wall_zone).date()
    if m := re.fullmatch(r"D\+([0-9]+)", day_spec):
        day = local + timedelta(days=int(m[1]))
    elif m := re.fullmatch(r"MD:([0-9]+)", day_spec):
        day = local.replace(day=int(m[1]))
        if day < local:
            day = (local.replace(day=1) + timedelta(days=32)).replace(day=int(m[1]))
    elif m := re.fullmatch(r"([0-9]{2})-([0-9]{2})", day_spec):
        day = _next_on(int(m[1]), int(m[2]), local)
    else:
        day = date.fromisoformat(day_spec)
    return at(day, hour, minute, wall_zone)


CASES = load()


def test_the_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 200
    assert sum(c.refusal is not None for c in CASES) >= 60
    assert len({c.tz.key for c in CASES}) >= 4


def _check_request(case: Case, got: Request) -> None:
    expect = case.expect
    if "cmd" in expect:
        assert type(got).__name__ == expect["cmd"], got
        return
    if "series" in expect:
        assert isinstance(got, CreateSeries), got
        return
    assert isinstance(got, CreateMeeting), got
    if "title" in expect:
        assert got.title == expect["title"]
    if "at" in expect:
        assert got.start == expected_start(expect["at"], case.now, case.tz), (
            got.start and got.start.astimezone(case.tz)
        )
    length = expect.get("for", "none")
    assert got.duration == (None if length == "none" else timedelta(minutes=int(length)))
    if "remind" in expect:
        assert got.remind == timedelta(minutes=int(expect["remind"]))
    assert got.invitees == tuple(p for p in expect.get("with", "").split(",") if p)
    assert got.feedback is (expect.get("feedback", "on") == "on")
    for words in case.notes:
        assert words in got.note, got.note
    if not case.notes:
        assert got.note == "", got.note


@pytest.mark.parametrize("case", CASES, ids=[f"{c.line}:{c.phrase}" for c in CASES])
def test_corpus(case: Case) -> None:
    if case.refusal is None:
        _check_request(case, parse(case.phrase, now=case.now, tz=case.tz))
        return
    with pytest.raises(GrammarError) as caught:
        parse(case.phrase, now=case.now, tz=case.tz)
    message = str(caught.value)
    sentence, _, example = message.partition(" Try: ")
    assert sentence.endswith("."), message
    assert "\n" not in message
    for words in case.refusal:
        assert words in message, message
    parse(example, now=case.now, tz=case.tz)  # the suggestion itself reads


def test_readings_are_aware_utc() -> None:
    for case in CASES:
        if case.refusal is None and "at" in case.expect:
            got = parse(case.phrase, now=case.now, tz=case.tz)
            if isinstance(got, CreateMeeting) and got.start is not None:
                assert got.start.tzinfo is not None
                assert got.start.utcoffset() == timedelta(0)
                assert got.start.astimezone(UTC) >= case.now - timedelta(minutes=1)
