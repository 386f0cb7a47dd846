"""The `/meet` text grammar: command text in, a typed request out.

Free titles are the leading words before the first clause that reads cleanly, so
"Lunch in the park" stays a title while "Retro at 25:00" is reported: a clause
whose first word starts with a digit was clearly meant as a time or length. Time
words are never folded into a title: a day that ends the title is the start's day
("Retro friday at 3pm"), and any other time word there is refused by name
(bot.titles). Start phrases are read by bot.timeread and placed by bot.timeplace.
Errors are one sentence naming the bad words plus an example that parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot import rules, subcommands, timeplace, timeread, titles
from bot import timeparse as tp
from bot import timewords as tw
from bot.models import Rule
from bot.requests import (
    CreateMeeting,
    CreateSeries,
    GrammarError,
    Request,
)

__all__ = [
    "parse",
    "parse_day",
    "parse_duration",
    "parse_remind",
    "parse_rule",
    "parse_slot",
    "parse_when",
]

T = TypeVar("T")

_QUOTES = '"“”„«»'
_PREFIX = re.compile(r"\s*/meet(?=\s|$)", re.IGNORECASE)
_PLATFORM_MENTION = re.compile(r"<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>")
_PLAIN_MENTION = re.compile(r"@([^\s<>@|,]+)")
_NOFEEDBACK = ("nofeedback", "no-feedback")


# ---- clauses -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clause:
    """One clause after the title, with the words it was read from for error messages."""

    kind: str  # when | length | remind | with | nofeedback | every | ends
    text: str
    when: timeread.When | None = None
    span: timedelta | None = None
    people: tuple[str, ...] = ()
    rule: Rule | None = None
    end: rules.End | None = None  # 'until jun 30' or 'for 10 times' after other clauses


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
    if end := rules.read_end(words, i, ctx):
        return end[0], _Clause("ends", end[1].text, end=end[1])
    for keyword, kind in (("for", "length"), ("remind", "remind")):
        read = tp.read_length if kind == "length" else tp.read_reminder
        if span := _after_keyword(words, i, ctx, keyword, read):
            return span[0], _Clause(kind, span[1], span=span[2])
    if words[i].lower() == "every" and (got_rule := rules.read_rule(words, i + 1, ctx)):
        used, rule = got_rule
        return 1 + used, _Clause("every", " ".join(words[i : i + 1 + used]), rule=rule)
    if when := timeread.read_when(words, i, ctx):
        kind = "day" if when[1].day_only else "when"
        return when[0], _Clause(kind, when[1].text, when=when[1])
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
            kind = "rule" if clause.kind in ("every", "ends") else "time"
            shown = f"{tp.show(first)} and {tp.show(clause.text)}"
            raise ctx.fail(f"You gave {shown}; I need just one.", kind)
        else:
            self.clauses[clause.kind] = clause


def _create(title: str | None, raw: Sequence[str], ctx: tp.Ctx) -> Request:
    """Title words until the first clause, then nothing but clauses. While the title
    runs, a day without a time ("friday") or "now" is left to bot.titles: it belongs to
    the start only when it ends the title ("Retro friday at 3pm", not "Friday demo")."""
    words = [tw.clean(w) for w in raw]
    free = title is None
    draft = _Draft(title or "")
    title_end = len(words)
    i = 0
    while i < len(words):
        got = _clause_at(words, i, ctx)
        if got is not None and free and (got[1].kind == "day" or _is_now(got[1])):
            got = None
        if got is not None:
            if free:
                title_end, free = i, False
            draft.add(got[1], ctx)
            i += got[0]
        elif free:
            i += 1
        else:
            raise _trailing(words, i, ctx)
    if title is None:
        after = " ".join(raw[title_end:])
        end, start = titles.settle(words, raw, title_end, after, ctx, lambda t: _works(t, ctx))
        draft.title = " ".join(raw[:end]).rstrip(",;:-–— ")
        if start is not None:
            kind = "day" if start.day_only else "when"
            draft.add(_Clause(kind, start.text, when=start), ctx)
    return _finish(draft, ctx)


def _is_now(clause: _Clause) -> bool:
    return clause.when is not None and clause.when.instant


def _works(text: str, ctx: tp.Ctx) -> bool:
    """Whether a suggestion parses; suggestions inside it are not built (probe)."""
    if ctx.probe:
        return False
    probe = replace(ctx, probe=True)
    try:
        if ctx.option:
            _slot(text, probe)
        else:
            _parse(text, probe)
    except (GrammarError, ValueError, OverflowError, IndexError, KeyError):
        return False
    return True


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
    _merge_day(c, ctx)
    every = c.get("every")
    length = c["length"].span if "length" in c else None
    if every is None or every.rule is None:
        if "ends" in c:
            raise ctx.fail(f"{tp.show(c['ends'].text)} goes with a repeating meeting.", "rule")
        reading = _reading(c.get("when"), draft.title, ctx)
        return CreateMeeting(
            title=draft.title,
            start=reading.start,
            duration=_length(reading, c, ctx),
            remind=c["remind"].span if "remind" in c else None,
            invitees=tuple(draft.people),
            feedback=draft.feedback,
            note=reading.note,
        )
    extra = [c[k].text for k in ("when", "remind") if k in c]
    if draft.people:
        extra.append("with " + " ".join(draft.people))
    if extra:
        raise ctx.fail(
            f"A repeating meeting takes only a length and nofeedback, not {tp.show(extra[0])}.",
            "rule",
        )
    end = c["ends"].end if "ends" in c else None
    rule = rules.with_end(every.rule, end, ctx) if end else every.rule
    return CreateSeries(draft.title, rule, length, draft.feedback)


def _merge_day(c: dict[str, _Clause], ctx: tp.Ctx) -> None:
    """A day and a time given apart ("tomorrow for 1h at 10") make one start."""
    day = c.pop("day", None)
    if day is None or day.when is None:
        return
    clause = c.get("when")
    if clause is None or clause.when is None:
        c["when"] = day
        return
    when = clause.when
    if when.day is not None or when.delta is not None or when.instant:
        shown = f"{tp.show(clause.text)} and {tp.show(day.text)}"
        raise ctx.fail(f"You gave {shown}; I need just one.")
    text = f"{day.text} {clause.text}"
    c["when"] = _Clause("when", text, when=replace(when, day=day.when.day, text=text))


def _reading(clause: _Clause | None, title: str, ctx: tp.Ctx) -> timeplace.Reading:
    """Where the start lands; a day alone is refused, since "friday" is not yet a time."""
    if clause is None or clause.when is None:
        return timeplace.Reading(None)
    when = clause.when
    if when.day_only:
        fragment = f"{when.text} at 15:00"
        candidates = [fragment] if ctx.option else [f"/meet {title or 'Design review'} {fragment}"]
        example = next((c for c in candidates if _works(c, ctx)), None)
        raise ctx.fail(f"{tp.show(when.text)} needs a time of day too.", "date", example)
    return timeplace.place(when, ctx)


def _length(reading: timeplace.Reading, c: dict[str, _Clause], ctx: tp.Ctx) -> timedelta | None:
    """The length given with "for", or by a range's end; not both."""
    length = c["length"].span if "length" in c else None
    if reading.end is None or reading.start is None:
        return length
    if length is not None:
        shown = f"{tp.show(c['when'].text)} and {tp.show(c['length'].text)}"
        raise ctx.fail(f"You gave a range and a length, {shown}; I need just one.", "length")
    return reading.end - reading.start


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
    return (
        subcommands.read_change(words, ctx, lambda rest: _create("", rest, ctx))
        or subcommands.read(words, ctx)
        or _create(None, words, ctx)
    )


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
    words = tw.tokens(text)
    if not words:
        raise ctx.fail(f"I need {what} here, but the value was empty.", kind)
    got = _guarded(lambda: read(words), text, ctx, kind)
    if got is None:
        raise ctx.fail(f"I couldn't read {tp.show(text)} as {what}.", kind)
    used, value = got
    if used < len(words):
        raise ctx.fail(f"I couldn't understand {tp.show(' '.join(words[used:]))}.", kind)
    return value


def parse_slot(text: str, *, now: datetime, tz: ZoneInfo) -> timeplace.Reading:
    """A start on its own, ranges and zones included ('tomorrow 3pm-4pm', 'at 9am EST'):
    UTC start (never None), the range's end if one was given, and a DST note for the reply."""
    return _slot(text, tp.make_ctx(now, tz, option=True))


def _slot(text: str, ctx: tp.Ctx) -> timeplace.Reading:
    when = _whole(text, ctx, "time", "a time", lambda w: timeread.read_when(w, 0, ctx))
    reading = _guarded(
        lambda: _reading(_Clause("when", text, when=when), "", ctx), text, ctx, "time"
    )
    return reading if reading.start else replace(reading, start=ctx.now)


def parse_when(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """A start time on its own ('tomorrow 9am', 'in 20m', '2026-12-01 14:00'), as UTC.
    It returns a start only, so a range is refused here; parse_slot reads ranges."""
    ctx = tp.make_ctx(now, tz, option=True)
    reading = _slot(text, ctx)
    if reading.end is not None:
        sentence = (
            f"{tp.show(text)} is a range; give its start here and its length as the duration."
        )
        raise ctx.fail(sentence, example="tomorrow at 15:00")
    assert reading.start is not None
    return reading.start


def parse_duration(text: str) -> timedelta:
    """A meeting length on its own ('45m', '1h30', '2 hours'), 1 minute to 24 hours."""
    return _whole(text, _OPTION_CTX, "length", "a length", _after("for", tp.read_length))


def parse_remind(text: str) -> timedelta:
    """A reminder lead time on its own ('10m', '1h', '0' or 'none' for no reminder)."""
    return _whole(
        text, _OPTION_CTX, "remind", "a reminder time", _after("remind", tp.read_reminder)
    )


def parse_rule(text: str) -> Rule:
    """A rule on its own, the words after `every` ('weekday at 9:30', 'other week on tue
    at 10:00', 'first mon at 17:00 until jun 30'); anchored when the series is made."""
    return _whole(text, _OPTION_CTX, "rule", "days and a time", _after("every", rules.read_rule))


def parse_day(text: str, *, now: datetime, tz: ZoneInfo) -> date:
    """A day on its own ('2026-12-01', 'tomorrow', 'mon', 'dec 24'), as the user's local date."""
    ctx = tp.make_ctx(now, tz, option=True)

    return _whole(text, ctx, "day", "a date", lambda words: subcommands.skip_day(words, ctx))


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
