"""The words of time the `/meet` grammar knows, in one place to review.

Every word here is either read (bot.timeread) or, when it cannot be placed, refused
by name (bot.titles): none of them is ever folded into a title unless the title is
quoted. Zone abbreviations are a short, documented list of the unambiguous ones;
"IST" (India, Israel or Ireland), "BST" (British Summer or Bangladesh) and the other
abbreviations that name several zones are refused unless they are what the user's
own zone is called on that day.
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import cache
from zoneinfo import available_timezones

_MONTHS = ("jan january", "feb february", "mar march", "apr april", "may", "jun june",
           "jul july", "aug august", "sep sept september", "oct october",
           "nov november", "dec december")  # fmt: skip
MONTHS = {name: n for n, names in enumerate(_MONTHS, 1) for name in names.split()}
_WEEKDAYS = ("mon monday", "tue tues tuesday", "wed weds wednesday", "thu thur thurs thursday",
             "fri friday", "sat saturday", "sun sunday")  # fmt: skip
WEEKDAYS = {name: n for n, names in enumerate(_WEEKDAYS) for name in names.split()}
PLURAL_WEEKDAYS = frozenset(f"{name}s" for name in WEEKDAYS if len(name) > 3)
FULL_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
          "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}  # fmt: skip
ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
                 "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}  # fmt: skip
ORDINAL = re.compile(r"([0-9]{1,2})(st|nd|rd|th)")

# Words that mean "when": they are read, or the command is refused naming them.
RELATIVE_DAYS = {"today": 0, "tomorrow": 1, "tmrw": 1}
UNPLACEABLE_DAYS = frozenset({"tonight", "yesterday", "tonite"})
PERIODS = frozenset({"week", "weeks", "month", "months", "year", "years", "weekend",
                     "weekends", "fortnight", "quarter", "morning", "afternoon", "evening",
                     "night"})  # fmt: skip
DAY_PARTS = frozenset({"morning", "afternoon", "evening", "night", "eod", "noon", "midnight"})
RECURRING = frozenset({"weekly", "biweekly", "bi-weekly", "fortnightly", "monthly",
                       "bimonthly", "quarterly", "yearly", "annually", "daily", "nightly",
                       "hourly"})  # fmt: skip
# A day or month word after one of these is in a time position ("on friday", "by dec 3").
INTRODUCERS = frozenset({"on", "at", "by", "until", "till", "til", "from", "before",
                         "after", "this", "next", "coming", "every", "each", "since",
                         "starting"})  # fmt: skip
# After one of these a day or month word is a noun ("lunch in the sun", "coffee with june").
ARTICLES = frozenset({"the", "a", "an", "my", "our", "your", "their", "his", "her", "its",
                      "with", "and", "&"})  # fmt: skip
RANGE_WORDS = frozenset({"-", "–", "—", "to", "until", "till", "til"})
DASHES = "-–—"

# ---- zones -----------------------------------------------------------------------------

# An abbreviation is read as its fixed UTC offset (what it literally says); `home` is the
# region that switches between it and its sibling, so "9am EST" in July can be pointed
# out (New York is on EDT then) without guessing what was meant.
ABBREVIATIONS: dict[str, tuple[int, str | None]] = {
    "utc": (0, None), "gmt": (0, "Europe/London"),
    "wet": (0, "Europe/Lisbon"), "west": (60, "Europe/Lisbon"),
    "cet": (60, "Europe/Berlin"), "cest": (120, "Europe/Berlin"),
    "eet": (120, "Europe/Athens"), "eest": (180, "Europe/Athens"), "msk": (180, None),
    "est": (-300, "America/New_York"), "edt": (-240, "America/New_York"),
    "cst": (-360, "America/Chicago"), "cdt": (-300, "America/Chicago"),
    "mst": (-420, "America/Denver"), "mdt": (-360, "America/Denver"),
    "pst": (-480, "America/Los_Angeles"), "pdt": (-420, "America/Los_Angeles"),
    "akst": (-540, "America/Anchorage"), "akdt": (-480, "America/Anchorage"),
    "hst": (-600, None), "jst": (540, None), "kst": (540, None), "hkt": (480, None),
    "sgt": (480, None), "awst": (480, None),
    "acst": (570, "Australia/Adelaide"), "acdt": (630, "Australia/Adelaide"),
    "aest": (600, "Australia/Sydney"), "aedt": (660, "Australia/Sydney"),
    "nzst": (720, "Pacific/Auckland"), "nzdt": (780, "Pacific/Auckland"),
}  # fmt: skip
# Region names that follow that region's clock whatever the season ("9am ET").
REGIONS = {"et": "America/New_York", "ct": "America/Chicago", "mt": "America/Denver",
           "pt": "America/Los_Angeles"}  # fmt: skip
# Abbreviations that name several zones: what they could mean, and the zone names to write.
AMBIGUOUS_ZONES = {
    "ist": ("India, Israel or Irish time", ("Asia/Kolkata", "Asia/Jerusalem", "Europe/Dublin")),
    "bst": ("British Summer or Bangladesh time", ("Europe/London", "Asia/Dhaka")),
    "ast": ("Atlantic or Arabia time", ("America/Halifax", "Asia/Riyadh")),
    "adt": ("Atlantic or Arabia daylight time", ("America/Halifax", "Asia/Baghdad")),
    "sst": ("Samoa or Singapore time", ("Pacific/Pago_Pago", "Asia/Singapore")),
    "gst": ("Gulf or South Georgia time", ("Asia/Dubai", "Atlantic/South_Georgia")),
    "amt": ("Amazon or Armenia time", ("America/Manaus", "Asia/Yerevan")),
}
_UTC_OFFSET = re.compile(r"(?:utc|gmt)([+-−])([0-9]{1,2})(?::?([0-9]{2}))?")


def utc_offset(word: str) -> timedelta | None:
    """'UTC+2', 'gmt-5', 'UTC+05:30' as an offset (at most 14 hours either way)."""
    m = _UTC_OFFSET.fullmatch(word.lower())
    if not m:
        return None
    hours, minutes = int(m[2]), int(m[3] or 0)
    if hours > 14 or minutes >= 60:
        return None
    offset = timedelta(hours=hours, minutes=minutes)
    return -offset if m[1] in "-−" else offset


@cache
def zone_names() -> dict[str, str]:
    """IANA zones by lower-case name, for names typed in any letter case: only Area/City
    names and UTC, so the legacy "CET", "EST" (fixed, no DST) or "Poland" never stand in
    for an abbreviation or a word."""
    names = {name.lower(): name for name in available_timezones() if "/" in name}
    return {**names, "utc": "UTC"}


def looks_like_zone(word: str) -> bool:
    """A word in the zone position after a time that was meant as a zone."""
    low = word.lower()
    if low == "west" and word != "WEST":
        return False  # the word, not Western European Summer Time
    return (
        low in ABBREVIATIONS
        or low in REGIONS
        or low in AMBIGUOUS_ZONES
        or low in zone_names()
        or utc_offset(low) is not None
    )


# ---- tokens ----------------------------------------------------------------------------

_TRAILING = ".,;:!?"
_WRAPPING = "()[]"


def clean(word: str) -> str:
    """A word as the readers see it: trailing punctuation and brackets off, case kept
    ("9am," "3pm." "(UTC)"); "p.m." keeps its inner dot ("p.m")."""
    word = word.strip(_WRAPPING)
    stripped = word.rstrip(_TRAILING)
    return stripped.strip(_WRAPPING) if stripped else word


def tokens(text: str) -> list[str]:
    """The words of `text`, cleaned; one per whitespace word, so they line up with the raw
    words a title is made of."""
    return [clean(w) for w in text.split()]
