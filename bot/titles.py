"""Telling a title from time words that could not be placed.

A free title is the words before the first clause that reads ("Lunch in the park at
12:30"). Time words left in it are either read, when they end the title ("Retro friday
at 3pm", "Sync tomorrow for 1h at 10", "Retro now"), or refused by name: in "Retro on
dec 3rd with the team at 3pm" the words "on dec 3rd" cannot be placed, so the command
fails saying so instead of booking a meeting titled with them. Day, month and number
words stay in a title when they are not in a time position ("Monday planning", "Budget
2028 at 15:00", "Q3 planning at 2pm", "1:1 with Ana at 15:00", "Lunch in the sun"). A
title that must hold time words is quoted: /meet "Standup mondays" at 9:30.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot import timewords as tw
from bot.timedays import low
from bot.timeparse import Ctx, read_span, show
from bot.timeread import When, read_when

_ISO = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
_SLASH = re.compile(r"[0-9]{1,2}/[0-9]{1,2}(?:/[0-9]{2,4})?")
_DAYNUM = re.compile(r"[0-9]{1,2}(?:st|nd|rd|th)?")
_HOURS = re.compile(r"([0-9]{1,2})[-–—]([0-9]{1,2})")
_TIMEISH = tw.PERIODS | tw.DAY_PARTS | {"of", "after", "day"}
_AT = {"morning": "9:00", "afternoon": "14:00", "evening": "18:00", "night": "20:00"}
_REPEAT_HINT = "every monday at 9:30"
# Read nowhere: before a time they would change what it means ("by friday at 10").
_LEADS = frozenset({"by", "before", "after", "until", "till", "til", "since", "starting",
                    "around", "about", "approx", "approximately", "circa", "~"})  # fmt: skip

Works = Callable[[str], bool]


def settle(
    words: Sequence[str], raw: Sequence[str], end: int, after: str, ctx: Ctx, works: Works
) -> tuple[int, When | None]:
    """Of the title words words[:end]: where the title really ends, and the day (or "now")
    that ends it; raises naming any time word left in the title."""
    head = words[:end]
    for k in range(max(0, end - 7), end):
        got = read_when(head, k, ctx)
        if got is not None and k + got[0] == end:
            _check(words, raw, k, after, ctx, works)
            return k, got[1]
    _check(words, raw, end, after, ctx, works)
    return end, None


def _kind(words: Sequence[str], t: int, end: int) -> str | None:
    """What a title word at t is, if it is a time word that cannot be placed there."""
    w, prev = low(words, t), low(words, t - 1)
    nxt = low(words, t + 1) if t + 1 < end else ""
    last = t == end - 1
    if w in tw.RELATIVE_DAYS or w in tw.UNPLACEABLE_DAYS:
        return "day"
    if w in ("this", "next", "coming") and (nxt in tw.WEEKDAYS or nxt in tw.PERIODS):
        return "day"
    if (w in tw.WEEKDAYS or w in tw.PLURAL_WEEKDAYS) and prev in tw.INTRODUCERS:
        return "day"
    if w in tw.MONTHS and (prev in tw.INTRODUCERS or prev == "in"):  # "in may", not "of may"
        return "date"
    if _ISO.fullmatch(w) or _SLASH.fullmatch(w):
        return "date"
    if (w in tw.MONTHS and _DAYNUM.fullmatch(nxt)) or (_DAYNUM.fullmatch(w) and nxt in tw.MONTHS):
        return "date"
    if w[:1].isdigit() and not w.isdigit() and read_span([w], 0):
        return "length"
    if w[:1].isdigit() and (got := read_span(words[:end], t)) and t + got[1] == end:
        return "length"
    if last and (w in tw.RECURRING or w in tw.PLURAL_WEEKDAYS):
        return "repeat"
    following = low(words, t + 1)  # "each" may end the title: "Sync each monday at 10"
    repeats = following in tw.WEEKDAYS or following in tw.PLURAL_WEEKDAYS
    if w == "each" and (repeats or following in tw.PERIODS):
        return "repeat"
    if last and (m := _HOURS.fullmatch(w)) and int(m[1]) <= 24 and int(m[2]) <= 24:
        return "time"
    if last and w in _LEADS and end < len(words):
        return "lead"
    return None


def _run(words: Sequence[str], t: int, end: int) -> tuple[int, int]:
    """The stretch of time words around t to name: 'on dec 3rd', 'tomorrow morning'."""
    if low(words, t) in _LEADS or low(words, t) == "each":
        return t, min(len(words), t + 4 if low(words, t) in _LEADS else t + 2)
    if span := read_span(words[:end], t):
        return t, t + span[1]
    start = t - 1 if low(words, t - 1) in tw.INTRODUCERS | {"in"} else t
    stop = t + 1
    while stop < end and stop - start < 4 and _timeish(low(words, stop)):
        stop += 1
    return start, stop


def _timeish(word: str) -> bool:
    return bool(
        word in _TIMEISH
        or word in tw.WEEKDAYS
        or word in tw.MONTHS
        or word in tw.RELATIVE_DAYS
        or _DAYNUM.fullmatch(word)
        or re.fullmatch(r"20[0-9]{2}", word)
    )


def _check(
    words: Sequence[str], raw: Sequence[str], end: int, after: str, ctx: Ctx, works: Works
) -> None:
    for t in range(end):
        kind = _kind(words, t, end)
        if kind is not None:
            start, stop = _run(words, t, end)
            raise _refusal(kind, words, raw, (start, stop), end, after, ctx, works)


def _refusal(
    kind: str,
    words: Sequence[str],
    raw: Sequence[str],
    span: tuple[int, int],
    end: int,
    after: str,
    ctx: Ctx,
    works: Works,
) -> Exception:
    """One sentence naming the words, and a suggestion built from the user's own command."""
    start, stop = span
    run = " ".join(words[start:stop])
    rest = " ".join([*raw[:start], *raw[min(stop, end) : end]])
    title = " ".join(raw[:end])
    tail = f" {after}" if after else ""
    quoted = [f'/meet "{title}"{tail}'] if not any(q in title for q in '"“”„«»') else []
    part = next((p for p in words[start:stop] if p.lower() in _AT), "")
    if kind == "day" and part:
        day = " ".join(w for w in words[start:stop] if w.lower() not in _AT)
        fix = f"{day} at {_AT[part.lower()]}".replace("tonight", "today")
        sentence = f"{show(run)} needs a clock time; write {fix}."
        candidates = [f"/meet {rest} {fix}{tail}", f"/meet {rest} tomorrow at {_AT[part.lower()]}"]
    elif kind in ("day", "date"):
        sentence = (
            f"I couldn't place {show(run)} in time; write the day and time after the title, "
            "or quote the title if the words belong to it."
        )
        candidates = [f"/meet {rest} {run}{tail}", f"/meet {rest} {run} at 15:00{tail}", *quoted]
    elif kind == "length":
        sentence = f"{show(run)} looks like a length; write for {run}, or quote the title."
        candidates = [f"/meet {rest} for {run}{tail}", *quoted]
    elif kind == "repeat":
        sentence = (
            f"{show(run)} sounds like a repeating meeting; write it like {_REPEAT_HINT}, "
            "or quote the title."
        )
        singular = run.lower().removesuffix("s")
        if low(words, start) == "each":  # "Sync each monday at 10" → "every monday at 10"
            quoted.insert(0, f"/meet {rest} every{tail}")
        candidates = [
            f"/meet {rest} every {singular}{tail}",
            *quoted,
            f"/meet Standup {_REPEAT_HINT}",
        ]
    elif kind == "lead":
        sentence = (
            f"I can only read when a meeting starts, not {show(run)}; "
            f"leave out {show(words[start])}, or quote the title."
        )
        candidates = [f"/meet {rest}{tail}", *quoted]
    else:
        first, _, second = re.split(r"([-–—])", run, maxsplit=1)
        sentence = (
            f"I can't tell which time {show(run)} is; write at {run} or {first}:00-{second}:00."
        )
        candidates = [f"/meet {rest} at {run}{tail}", *quoted]
    example = next((c for c in candidates if works(c)), None)
    kind_example = "rule" if kind == "repeat" else "title"
    return ctx.fail(sentence, kind_example, example=example)
