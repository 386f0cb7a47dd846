"""Calendar files, "add event" links and signed calendar tokens: pure functions.

A card offers "Add to calendar" three ways: an RFC 5545 `.ics` served at
`/calendar/<token>.ics`, and Google Calendar and Outlook template links (which
need no server, so they are offered even without CONVENE_PUBLIC_URL). A person's
feed (`/calendar/feed/<token>.ics`) is one calendar of their meetings and series,
which calendar apps poll.

Only the join link goes into an event; a meeting's host link is never read here.
Times: a meeting is written in the organizer's zone (TZID, with its VTIMEZONE)
or in UTC; a series in its own zone, so the calendar's RRULE keeps the wall time
across DST changes as convene does. Nothing here reads the clock: DTSTAMP and
token expiry come from the caller's `now`.

Tokens are `base64url(version | expiry | subject | HMAC-SHA256)`, keyed per
purpose from CONVENE_SECRET_KEY. The subject (a meeting id, or a feed owner) is
readable; the MAC makes it unforgeable, and the expiry is inside what is signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration, vRecur

from bot.messages import CalendarLinks
from bot.models import Meeting, MeetingStatus, Series, SeriesStatus
from bot.recurrence import local_dates

PRODID = "-//convene//convene meeting bot//EN"
UID_DOMAIN = "convene"

MEETING = "meeting"  # token purpose: subject = meeting id
FEED = "feed"  # token purpose: subject = FeedOwner.subject
MEETING_TOKEN_GRACE = timedelta(days=30)  # a meeting's file stays reachable after it ends
FEED_LIFETIME = timedelta(days=400)  # a feed outlives a year of polling; /meet calendar renews
FEED_REFRESH = timedelta(hours=1)  # what the feed asks calendar apps to poll at

# ---- events --------------------------------------------------------------------------


def meeting_uid(meeting_id: str) -> str:
    return f"{meeting_id}@{UID_DOMAIN}"


def series_uid(series_id: str) -> str:
    return f"series-{series_id}@{UID_DOMAIN}"


def meeting_event(
    meeting: Meeting,
    *,
    sequence: int,
    zone: ZoneInfo | None,
    organizer: str,
    stamp: datetime,
    series: Series | None = None,
    occurrence_day: date | None = None,
) -> Event:
    """One meeting as a VEVENT, in `zone` (the organizer's) or UTC when None.

    With `series` (in a feed beside `series_event(series)`), the event is that
    series' occurrence on `occurrence_day` (default: the meeting's local date):
    the series' UID with a RECURRENCE-ID, so a calendar shows the opened meeting,
    with its own join link, in place of the rule's instance rather than twice."""
    tz = zone or UTC
    event = Event()
    event.add("uid", series_uid(series.id) if series is not None else meeting_uid(meeting.id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", meeting.start.astimezone(tz))
    event.add("dtend", meeting.end.astimezone(tz))
    event.add("summary", meeting.title)
    event.add("description", _description(meeting.join_url, organizer))
    event.add("location", meeting.join_url)
    event.add("url", meeting.join_url)
    event.add("status", "CANCELLED" if meeting.status is MeetingStatus.CANCELLED else "CONFIRMED")
    if series is not None:
        day = occurrence_day or meeting.start.astimezone(ZoneInfo(series.tz)).date()
        event.add("recurrence-id", _wall(series, day))
    return event


def series_event(
    series: Series,
    *,
    sequence: int,
    organizer: str,
    join_url: str | None,
    stamp: datetime,
) -> Event:
    """A series as one recurring VEVENT: DTSTART on its first date at its wall time
    in its zone, its RRULE (UNTIL made UTC, as RFC 5545 asks beside a TZID), and an
    EXDATE per skipped date. Each meeting gets a fresh room, so `join_url` is
    usually None and the description says where the link will be posted."""
    tz = ZoneInfo(series.tz)
    first = _first_day(series, stamp)
    start = _wall(series, first)
    event = Event()
    event.add("uid", series_uid(series.id))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("dtstart", start)
    event.add("dtend", start + series.length)
    event.add("rrule", _recur(series.rule.rrule, tz))
    skipped = sorted(series.skipped)
    if skipped:
        event.add("exdate", [_wall(series, date.fromisoformat(day)) for day in skipped])
    event.add("summary", series.title)
    event.add("description", _description(join_url, organizer))
    if join_url:
        event.add("location", join_url)
        event.add("url", join_url)
    event.add("status", _SERIES_STATUS[series.status])
    return event


_SERIES_STATUS = {
    SeriesStatus.ACTIVE: "CONFIRMED",
    SeriesStatus.PAUSED: "TENTATIVE",  # nothing opens until resumed; not gone either
    SeriesStatus.CANCELLED: "CANCELLED",
}


def _description(join_url: str | None, organizer: str) -> str:
    """A name, not an ORGANIZER property: that needs an address convene does not have,
    and a calendar app would then treat the event as someone else's invitation."""
    link = f"Join: {join_url}" if join_url else "The join link is posted in the channel."
    by = f"Organized by {organizer} with convene." if organizer else "Organized with convene."
    return f"{link}\n{by}"


def _wall(series: Series, day: date) -> datetime:
    """The series' nominal wall time on `day`, in its zone (what RRULE instances are)."""
    return datetime.combine(day, time(series.rule.hour, series.rule.minute), ZoneInfo(series.tz))


def _first_day(series: Series, stamp: datetime) -> date:
    """The anchor; a rule without one starts at its first date from its creation."""
    if series.rule.anchor is not None:
        return series.rule.anchor
    since = (series.created_at or stamp).astimezone(ZoneInfo(series.tz)).date()
    return next(local_dates(series.rule, since), since)


def _recur(rrule: str, tz: ZoneInfo) -> vRecur:
    """The stored RRULE; a floating local UNTIL (as dateutil writes it) becomes UTC."""
    recur: vRecur = vRecur.from_ical(rrule)
    until = recur.get("UNTIL")
    if until and isinstance(until[0], datetime) and until[0].tzinfo is None:
        recur["UNTIL"] = [until[0].replace(tzinfo=tz).astimezone(UTC)]
    return recur


# ---- calendar files ------------------------------------------------------------------


def calendar_file(
    events: Iterable[Event], *, name: str | None = None, refresh: timedelta | None = None
) -> bytes:
    """A VCALENDAR (METHOD:PUBLISH) holding `events` and the VTIMEZONEs they use.
    `name` and `refresh` are for a feed: its title and how often apps should poll."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
        calendar.add("name", name)
    if refresh is not None:
        calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(refresh))
    held = list(events)
    for event in held:
        calendar.add_component(event)
    first, last = _span(held)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    data: bytes = calendar.to_ical()
    return data


def _span(events: list[Event]) -> tuple[date, date]:
    """The dates the VTIMEZONEs must cover: a year around the events, ten years on
    for a series with no end."""
    moments: list[date] = []
    open_ended = False
    for event in events:
        for key in ("dtstart", "dtend"):
            if key in event:
                moments.append(_as_date(event.decoded(key)))
        for recur in event.rrules:
            until = recur.get("UNTIL")
            if until:
                moments.append(_as_date(until[0]))
            elif not recur.get("COUNT"):
                open_ended = True
    if not moments:
        return date(2000, 1, 1), date(2001, 1, 1)
    first, last = min(moments) - timedelta(days=366), max(moments) + timedelta(days=366)
    if open_ended:
        last = max(last, max(moments) + timedelta(days=3653))
    return first, last


def _as_date(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


# ---- "add event" template links ------------------------------------------------------


def _utc_stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def google_template_link(meeting: Meeting) -> str:
    """Google Calendar's "create event" form, filled in (times in UTC)."""
    query = {
        "action": "TEMPLATE",
        "text": meeting.title,
        "dates": f"{_utc_stamp(meeting.start)}/{_utc_stamp(meeting.end)}",
        "details": _description(meeting.join_url, ""),
        "location": meeting.join_url,
    }
    return "https://calendar.google.com/calendar/render?" + _encoded(query)


def outlook_template_link(meeting: Meeting) -> str:
    """Outlook on the web's compose form, filled in (times in UTC)."""
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": meeting.title,
        "startdt": _utc_iso(meeting.start),
        "enddt": _utc_iso(meeting.end),
        "body": _description(meeting.join_url, ""),
        "location": meeting.join_url,
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + _encoded(query)


def _encoded(query: dict[str, str]) -> str:
    """Percent-encoding throughout: Outlook shows a `+` for a space literally."""
    return urlencode(query, quote_via=quote)


# ---- signed tokens -------------------------------------------------------------------

_VERSION = b"\x01"
_MAC_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{56,700}")  # shortest: version, expiry, one byte, MAC


def sign(secret: str, purpose: str, subject: str, expires: datetime) -> str:
    """A URL-safe token carrying `subject` until `expires` (aware), for `purpose` only."""
    if not secret:
        raise ValueError("signing needs a secret key")
    if expires.tzinfo is None:
        raise ValueError("expires must be timezone-aware")
    body = _VERSION + int(expires.timestamp()).to_bytes(8, "big") + subject.encode()
    return _b64(body + _mac(secret, purpose, body))


def verify(secret: str, purpose: str, token: str, now: datetime) -> str | None:
    """The subject of a genuine, unexpired token for `purpose`; None for anything else."""
    if not secret or not _TOKEN.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    if _b64(raw) != token:  # one canonical spelling: a changed padding bit is a forgery too
        return None
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        return None
    if body[:1] != _VERSION or now.timestamp() >= int.from_bytes(body[1:9], "big"):
        return None
    try:
        return body[9:].decode()
    except UnicodeDecodeError:
        return None


def _mac(secret: str, purpose: str, body: bytes) -> bytes:
    """HMAC-SHA256 under a key derived per purpose, so a meeting token is never a feed's."""
    label = f"convene calendar token: {purpose}".encode()
    key = hmac.new(secret.encode(), label, hashlib.sha256).digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def meeting_token(secret: str, meeting: Meeting) -> str:
    """Stable for a meeting's times (same card, same link), valid 30 days past its end."""
    return sign(secret, MEETING, meeting.id, meeting.end + MEETING_TOKEN_GRACE)


@dataclass(frozen=True)
class FeedOwner:
    """Whose feed a token opens; `version` is stored, and bumping it revokes old tokens."""

    platform: str
    workspace_id: str
    user_id: str
    version: int

    @property
    def subject(self) -> str:
        parts = (self.platform, self.workspace_id, self.user_id)
        if any(":" in part or not part for part in parts):
            raise ValueError("feed owner parts must be non-empty and hold no ':'")
        return f"{self.platform}:{self.workspace_id}:{self.user_id}:{self.version}"

    @classmethod
    def from_subject(cls, subject: str) -> FeedOwner | None:
        parts = subject.split(":")
        if len(parts) != 4 or not all(parts) or not parts[3].isdigit():
            return None
        return cls(parts[0], parts[1], parts[2], int(parts[3]))


def feed_token(secret: str, owner: FeedOwner, now: datetime) -> str:
    return sign(secret, FEED, owner.subject, now + FEED_LIFETIME)


# ---- what a card and /meet calendar show ---------------------------------------------


def calendar_links(
    meeting: Meeting, *, public_url: str | None, secret: str | None, now: datetime
) -> CalendarLinks:
    ics_url = None
    if public_url and secret and meeting.end + MEETING_TOKEN_GRACE > now:
        ics_url = f"{public_url.rstrip('/')}/calendar/{meeting_token(secret, meeting)}.ics"
    return CalendarLinks(ics_url, google_template_link(meeting), outlook_template_link(meeting))


@dataclass(frozen=True)
class FeedLinks:
    """`subscribe` (webcal://) opens the calendar app; `https` is for pasting into one."""

    subscribe: str
    https: str


def feed_links(
    owner: FeedOwner, *, public_url: str | None, secret: str | None, now: datetime
) -> FeedLinks | None:
    """None without a public URL or a key: then there is nothing to subscribe to."""
    if not public_url or not secret:
        return None
    https = f"{public_url.rstrip('/')}/calendar/feed/{feed_token(secret, owner, now)}.ics"
    parts = urlsplit(https)
    return FeedLinks(urlunsplit(("webcal", *parts[1:])), https)
