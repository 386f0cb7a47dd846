"""The `/meet` text grammar: command text in, a typed request out.

Free titles are the leading words before the first clause that reads cleanly, so
"Lunch in the park" stays a title while "Retro at 25:00" is reported: a clause
whose first word starts with a digit was clearly meant as a time or length.
Errors are one sentence naming the bad words plus an example that parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import TypeVar
from zoneinfo import ZoneInfo, available_timezones

from bot import timeparse as tp
from bot.models import Weekly
from bot.requests import (
    CancelMeeting,
    Configure,
    CreateMeeting,
    CreateSeries,
    EndMeeting,
    FeedbackSummary,
    GrammarError,
    Help,
    ListMeetings,
    OpenScheduleForm,
    PauseSeries,
    RateMeeting,
    Request,
    ResendHost,
    ResumeSeries,
    SetTimezone,
    SkipOccurrence,
)

__all__ = ["parse", "parse_day", "parse_duration", "parse_remind", "parse_rule", "parse_when"]

T = TypeVar("T")

_QUOTES = '"“”„«»'
_PREFIX = re.compile(r"\s*/meet(?=\s|$)", re.IGNORECASE)
_PLATFORM_MENTION = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>")
_PLAIN_MENTION = re.compile(r"@([^\s<>@|,]+)")
_CONFIG_KEYS = ("provider", "reminder", "length", "feedback")
_NOFEEDBACK = ("nofeedback", "no-feedback")


# ---- clauses -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clause:
    """One clause after the title, with the words it was read from for error messages."""

    kind: str  # when | length | remind | with | nofeedback | every
    text: str
    when: tp.When | None = None
    span: timedelta | None = None
    people: tuple[str, ...] = ()
    rule: Weekly | None = None


def _after_keyword(
    words: Sequence[str],
    i: int,
    ctx: tp.Ctx,
    keyword: str,
    read: Callable[[Sequence[str], int, tp.Ctx], tuple[int, T] | None],
) -> tuple[int, str, T] | None:
    """'<keyword> <value>': how many words, their text, and the value read."""
    if words[i].lower() != keyword or i + 1 >= len(words):
        return None
    got = read(words, i + 1, ctx)
    return (1 + got[0], " ".join(words[i : i + 1 + got[0]]), got[1]) if got else None


def _mention(word: str) -> str | None:
    m = _PLATFORM_MENTION.fullmatch(word) or _PLAIN_MENTION.fullmatch(word)
    return m[1] if m else None


def _read_people(words: Sequence[str], i: int, ctx: tp.Ctx) -> tuple[int, tuple[str, ...]] | None:
    """Mentions (Slack or Discord markup, or plain @name), split by spaces, commas or 'and'."""
    people: list[str] = []
    k = i
    while k < len(words):
        parts = [p for p in words[k].split(",") if p]
        ids = [_mention(p) for p in parts]
        if parts and None not in ids:
            people.extend(x for x in ids if x is not None)
        elif not (people and parts in ([], ["and"])):
            break
        k += 1
    while k > i and words[k - 1].strip(",").lower() in ("", "and"):
        k -= 1
    return (k - i, tuple(people)) if people else None


def _clause_at(words: Sequence[str], i: int, ctx: tp.Ctx) -> tuple[int, _Clause] | None:
    """The clause starting at words[i], if any; raises when it clearly tried and failed."""
    if words[i].lower() in _NOFEEDBACK:
        return 1, _Clause("nofeedback", words[i])
    if got := _after_keyword(words, i, ctx, "with", _read_people):
        return got[0], _Clause("with", got[1], people=got[2])
    for keyword, kind in (("for", "length"), ("remind", "remind")):
        read = tp.read_length if kind == "length" else tp.read_reminder
        if span := _after_keyword(words, i, ctx, keyword, read):
            return span[0], _Clause(kind, span[1], span=span[2])
    if rule := _after_keyword(words, i, ctx, "every", tp.read_rule):
        return rule[0], _Clause("every", rule[1], rule=rule[2])
    if when := tp.read_when(words, i, ctx):
        return when[0], _Clause("when", when[1].text, when=when[1])
    return None


# ---- meetings and series -------------------------------------------------------------


@dataclass
class _Draft:
    """Clauses gathered so far; each may appear once, people and nofeedback accumulate."""

    title: str
    clauses: dict[str, _Clause] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)
    feedback: bool = True

    def add(self, clause: _Clause, ctx: tp.Ctx) -> None:
        if clause.kind == "nofeedback":
            self.feedback = False
        elif clause.kind == "with":
            self.people.extend(p for p in clause.people if p not in self.people)
        elif clause.kind in self.clauses:
            first = self.clauses[clause.kind].text
            kind = "rule" if clause.kind == "every" else "time"
            shown = f"{tp.show(first)} and {tp.show(clause.text)}"
            raise ctx.fail(f"You gave {shown}; I need just one.", kind)
        else:
            self.clauses[clause.kind] = clause


def _create(title: str | None, words: Sequence[str], ctx: tp.Ctx) -> Request:
    """Title words until the first clause, then nothing but clauses."""
    free = title is None
    draft = _Draft(title or "")
    title_words: list[str] = []
    i = 0
    while i < len(words):
        got = _clause_at(words, i, ctx)
        if got is not None:
            free = False
            draft.add(got[1], ctx)
            i += got[0]
        elif free:
            title_words.append(words[i])
            i += 1
        else:
            raise _trailing(words, i, ctx)
    if title is None:
        draft.title = " ".join(title_words)
    return _finish(draft, ctx)


def _trailing(words: Sequence[str], i: int, ctx: tp.Ctx) -> GrammarError:
    """Name the unreadable stretch only, up to where readable clauses resume."""
    end = i + 1
    while end < len(words):
        try:
            if _clause_at(words, end, ctx) is not None:
                break
        except GrammarError:
            break
        end += 1
    shown = tp.show(" ".join(words[i:end]))
    if words[i].lower() == "with":
        sentence = f"I couldn't read {shown} as people; mention them like @alex."
        return ctx.fail(sentence, "with")
    return ctx.fail(
        f"I couldn't understand {shown}; if it belongs to the title, put the title in quotes.",
        "title",
    )


def _finish(draft: _Draft, ctx: tp.Ctx) -> Request:
    """A one-off meeting, or a series when 'every' was given (which takes fewer clauses)."""
    c = draft.clauses
    every = c.get("every")
    length = c["length"].span if "length" in c else None
    if every is None or every.rule is None:
        when = c["when"].when if "when" in c else None
        return CreateMeeting(
            title=draft.title,
            start=tp.resolve(when, ctx) if when else None,
            duration=length,
            remind=c["remind"].span if "remind" in c else None,
            invitees=tuple(draft.people),
            feedback=draft.feedback,
        )
    extra = [c[k].text for k in ("when", "remind") if k in c]
    if draft.people:
        extra.append("with " + " ".join(draft.people))
    if extra:
        raise ctx.fail(
            f"A repeating meeting takes only a length and nofeedback, not {tp.show(extra[0])}.",
            "rule",
        )
    return CreateSeries(draft.title, every.rule, length, draft.feedback)


# ---- subcommands ---------------------------------------------------------------------

_SINGLE: dict[str, Callable[[], Request]] = {
    "schedule": OpenScheduleForm,
    "list": ListMeetings,
    "help": Help,
}
_WITH_ID: dict[str, tuple[Callable[[str], Request], str]] = {
    "end": (EndMeeting, "4F2K"),
    "cancel": (CancelMeeting, "4F2K"),
    "host": (ResendHost, "4F2K"),
    "feedback": (FeedbackSummary, "4F2K"),
    "pause": (PauseSeries, "standup"),
    "resume": (ResumeSeries, "standup"),
    "skip": (SkipOccurrence, "standup"),
}
# Words that are commands of the `convene` program, not of /meet: alone, they are
# far more likely a mistaken command than a meeting's title.
_ELSEWHERE = {
    "providers": "/meet config shows this workspace's provider",
    "provider": "/meet config shows this workspace's provider",
    "check": "an operator runs `convene check` to test the provider's key",
    "every": "a series needs days and a time",
    "remind": "a reminder belongs after a meeting's time",
}


def _subcommand(words: Sequence[str], ctx: tp.Ctx) -> Request | None:
    """A subcommand only when its word comes with the right number of arguments."""
    head, n = words[0].lower(), len(words)
    if head in _ELSEWHERE and n == 1:
        raise ctx.fail(
            f'"{words[0]}" on its own is not a /meet command ({_ELSEWHERE[head]}; '
            f'/meet help lists them); to title a meeting "{words[0]}", quote it.',
            example=f'/meet "{words[0]}" in 1h',
        )
    if head in _SINGLE and n == 1:
        return _SINGLE[head]()
    if head in _WITH_ID:
        make, sample = _WITH_ID[head]
        if n == 1:
            what = "series" if sample == "standup" else "meeting"
            raise ctx.fail(f'"{head}" needs a {what} id.', example=f"/meet {head} {sample}")
        if n == 2:
            return make(words[1])
        if head == "skip" and n == 3:
            day = _skip_day(words[2], ctx)
            return SkipOccurrence(words[1], day) if day else None
    if head == "rate" and n >= 3 and words[2].isdigit():
        if not 1 <= int(words[2]) <= 5:
            raise ctx.fail("A rating goes from 1 to 5.", example=f"/meet rate {words[1]} 4")
        return RateMeeting(words[1], int(words[2]), " ".join(words[3:]))
    if head == "tz":
        if n == 1:
            raise ctx.fail('"tz" needs a time zone name.', "tz")
        if n == 2:
            return SetTimezone(_zone(words[1], ctx))
    if head == "config":
        key = words[1].lower() if n > 1 else ""
        if n == 1:
            return Configure()
        if key in _CONFIG_KEYS and n == 2:
            value = {"provider": "jitsi", "feedback": "on"}.get(key, "10m")
            raise ctx.fail(f'"config {key}" needs a value.', example=f"/meet config {key} {value}")
        if key in _CONFIG_KEYS and n == 3:
            return Configure(key, words[2])
    return None


def _skip_day(word: str, ctx: tp.Ctx) -> date | None:
    """The local date to skip; a weekday means its next date, today included."""
    day = tp.read_day(word)
    if day is None:
        if tp.tried(word):
            raise ctx.fail(f"I couldn't read {tp.show(word)} as a date.", "day")
        return None
    on = tp.day_date(day, ctx.today)
    if on < ctx.today:
        raise ctx.fail(f"{tp.show(word)} is in the past.", "day")
    return on


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _zone(name: str, ctx: tp.Ctx) -> str:
    """The canonical IANA name for a zone typed in any letter case."""
    zone = _zone_names().get(name.lower())
    if zone is None:
        raise ctx.fail(f"I don't know the time zone {tp.show(name)}.", "tz")
    return zone


# ---- entry points --------------------------------------------------------------------


def _split_quoted(text: str, ctx: tp.Ctx) -> tuple[str, str]:
    """A leading quoted title: any straight or typographic double quote closes it."""
    end = next((k for k in range(1, len(text)) if text[k] in _QUOTES), -1)
    if end < 0:
        raise ctx.fail("The quoted title is missing its closing quote.", "title")
    return text[1:end].strip(), text[end + 1 :]


def _parse(text: str, ctx: tp.Ctx) -> Request:
    if m := _PREFIX.match(text):
        text = text[m.end() :]
    text = text.strip()
    if text[:1] and text[0] in _QUOTES:
        title, rest = _split_quoted(text, ctx)
        return _create(title, rest.split(), ctx)
    words = text.split()
    if not words:
        return CreateMeeting()
    return _subcommand(words, ctx) or _create(None, words, ctx)


def _guarded(run: Callable[[], T], text: str, ctx: tp.Ctx, kind: str) -> T:
    """Keep the promise that only GrammarError leaves, whatever the input."""
    try:
        return run()
    except GrammarError:
        raise
    except (ValueError, OverflowError, IndexError, KeyError) as exc:
        raise ctx.fail(f"I couldn't understand {tp.show(text)}.", kind) from exc


def parse(text: str, *, now: datetime, tz: ZoneInfo) -> Request:
    """Read a whole `/meet` command; `now` is the injected clock, `tz` the user's zone."""
    ctx = tp.make_ctx(now, tz)
    return _guarded(lambda: _parse(text, ctx), text, ctx, "time")


def _whole(
    text: str, ctx: tp.Ctx, kind: str, what: str, read: Callable[[list[str]], tuple[int, T] | None]
) -> T:
    """Run a reader that must consume every word of an option value."""
    words = text.split()
    if not words:
        raise ctx.fail(f"I need {what} here, but the value was empty.", kind)
    got = _guarded(lambda: read(words), text, ctx, kind)
    if got is None and tp.read_day(words[-1]) and kind == "time":
        raise ctx.fail(f"{tp.show(text)} needs a time of day too.", kind)
    if got is None:
        raise ctx.fail(f"I couldn't read {tp.show(text)} as {what}.", kind)
    used, value = got
    if used < len(words):
        raise ctx.fail(f"I couldn't understand {tp.show(' '.join(words[used:]))}.", kind)
    return value


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A start time on its own ('tomorrow 9am', 'in 20m', '2026-12-01 14:00'), as UTC."""
    ctx = tp.make_ctx(now, tz, option=True)
    when = _whole(text, ctx, "time", "a time", lambda w: tp.read_when(w, 0, ctx))
    return _guarded(lambda: tp.resolve(when, ctx), text, ctx, "time")


def parse_duration(text: str) -> timedelta:
    """A meeting length on its own ('45m', '1h30', '2 hours'), 1 minute to 24 hours."""
    return _whole(text, _OPTION_CTX, "length", "a length", _after("for", tp.read_length))


def parse_remind(text: str) -> timedelta:
    """A reminder lead time on its own ('10m', '1h', '0' or 'none' for no reminder)."""
    return _whole(
        text, _OPTION_CTX, "remind", "a reminder time", _after("remind", tp.read_reminder)
    )


def parse_rule(text: str) -> Weekly:
    """A weekly rule on its own ('weekday at 9:30', 'mon,wed,fri at 10:00', 'day at 8:00')."""
    return _whole(text, _OPTION_CTX, "rule", "days and a time", _after("every", tp.read_rule))


def parse_day(text: str, *, now: datetime, tz: ZoneInfo) -> date:
    """A day on its own ('2026-12-01', 'tomorrow', 'mon'), as the user's local date."""
    ctx = tp.make_ctx(now, tz, option=True)

    def read(words: list[str]) -> tuple[int, date] | None:
        day = _skip_day(words[0], ctx)
        return (1, day) if day else None

    return _whole(text, ctx, "day", "a date", read)


_OPTION_CTX = tp.Ctx(datetime(2000, 1, 1, tzinfo=UTC), ZoneInfo("UTC"), option=True)


def _after(
    keyword: str, read: Callable[[Sequence[str], int, tp.Ctx], tuple[int, T] | None]
) -> Callable[[list[str]], tuple[int, T] | None]:
    """Accept an option value with or without its clause keyword in front."""

    def run(words: list[str]) -> tuple[int, T] | None:
        skip = 1 if words[0].lower() == keyword and len(words) > 1 else 0
        got = read(words, skip, _OPTION_CTX)
        return (got[0] + skip, got[1]) if got else None

    return run
