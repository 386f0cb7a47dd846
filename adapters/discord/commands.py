"""The `/meet` slash-command group: typed options in, typed requests out.

Discord wants an answer within 3 s. Commands that call a video provider
(now, schedule, every, end, cancel, move) or update the card before answering
(rename) defer at once, privately (a followup after
a public defer cannot be ephemeral, so that is decided here), and answer with
an ephemeral followup; the public card goes out separately via the Messenger.
Quick commands answer directly and ephemerally. Option values are parsed with
the same grammar as Slack's text; a GrammarError becomes one private sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo, available_timezones

import discord
from discord import app_commands

from adapters.discord import render
from adapters.discord.context import Interaction, caller_for, service_of
from bot import grammar
from bot.requests import (
    CancelMeeting,
    ChangeSeries,
    Configure,
    CreateMeeting,
    CreateSeries,
    EndMeeting,
    FeedbackSummary,
    GrammarError,
    Help,
    ListMeetings,
    MoveMeeting,
    PauseSeries,
    RenameMeeting,
    Request,
    ResendHost,
    ResumeSeries,
    SetTimezone,
    SkipOccurrence,
)
from bot.service import OOPS

log = logging.getLogger(__name__)

T = TypeVar("T")
Build = Callable[[ZoneInfo], Request]  # the caller's zone, to read times in
MAX_CHOICES = 25  # Discord's limit for autocomplete answers
_ZONES = sorted(available_timezones())


async def meeting_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The caller's open meetings in this guild, matching what they typed (id or title)."""
    caller = caller_for(interaction)
    if caller is None:
        return []
    rows = await service_of(interaction).organized_by(caller)
    needle = current.strip().lower()
    found = [(i, t) for i, t in rows if needle in i or needle in t.lower()]
    return [
        app_commands.Choice(name=f"{title} ({meeting_id})"[:100], value=meeting_id)
        for meeting_id, title in found[:MAX_CHOICES]
    ]


async def zone_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """IANA zones containing the typed text (spaces read as underscores)."""
    needle = current.strip().lower().replace(" ", "_")
    found = [zone for zone in _ZONES if needle in zone.lower()]
    return [app_commands.Choice(name=zone, value=zone) for zone in found[:MAX_CHOICES]]


async def _run(interaction: Interaction, build: Build, *, slow: bool) -> None:
    """Build the request (grammar errors answer at once), then answer privately.

    `slow` commands call a provider, so they defer first to stay inside 3 s.
    """
    caller = caller_for(interaction)
    if caller is None:
        await interaction.response.send_message(
            "convene works inside a server's channels, not in direct messages.", ephemeral=True
        )
        return
    service = service_of(interaction)
    try:
        request = build(await service.zone_for(caller))
    except GrammarError as exc:
        await interaction.response.send_message(f"⚠️ {exc}", ephemeral=True)
        return
    if slow:
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await service.handle(caller, request)
        await interaction.followup.send(render.reply_text(reply), ephemeral=True)
        return
    reply = await service.handle(caller, request)
    await interaction.response.send_message(render.reply_text(reply), ephemeral=True)


@dataclass(frozen=True)
class _Slot:
    start: datetime
    duration: timedelta | None
    note: str


def _slot(interaction: Interaction, zone: ZoneInfo, when: str, duration: str | None) -> _Slot:
    """A `when` option read in the caller's zone from the service's clock, ranges and
    DST notes included, and its length: a range's own, else the `duration` option."""
    service = service_of(interaction)
    reading = grammar.parse_slot(when, now=service.now(), tz=zone)
    start = reading.start or service.now()  # parse_slot always gives a start
    if reading.end is None:
        return _Slot(start, _opt(grammar.parse_duration, duration), reading.note)
    if duration:
        raise GrammarError(
            f"You gave a range, {_quoted(when)}, and a duration, {_quoted(duration)}; "
            "I need just one."
        )
    return _Slot(start, reading.end - start, reading.note)


def _is_rule(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].lower() == "every"


def _quoted(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def _opt(parse: Callable[[str], T], text: str | None) -> T | None:
    return parse(text) if text else None


@app_commands.guild_only()
class MeetGroup(app_commands.Group, name="meet", description="Video meetings for this channel"):
    """`/meet <subcommand>`: the option names are part of convene's contract."""

    @app_commands.command(description="Start a video meeting now and post its link here")
    @app_commands.describe(title="What the meeting is about")
    async def now(self, interaction: Interaction, title: str | None = None) -> None:
        await _run(interaction, lambda _zone: CreateMeeting(title=title or ""), slow=True)

    @app_commands.command(description="Schedule a meeting and post its link here")
    @app_commands.describe(
        title="What the meeting is about",
        when="When: 15:00, in 20m, tomorrow 9am, mon 10:30, 2026-12-01 14:00, 15:00-16:00",
        duration="How long: 45m, 1h30 (default: this server's meeting length)",
        remind="How long before the start to remind the channel: 15m, 1h, none",
    )
    async def schedule(
        self,
        interaction: Interaction,
        title: str,
        when: str,
        duration: str | None = None,
        remind: str | None = None,
    ) -> None:
        def build(zone: ZoneInfo) -> Request:
            slot = _slot(interaction, zone, when, duration)
            return CreateMeeting(
                title=title,
                start=slot.start,
                duration=slot.duration,
                remind=_opt(grammar.parse_remind, remind),
                note=slot.note,
            )

        await _run(interaction, build, slow=True)

    @app_commands.command(description="Post a fresh meeting link here on a weekly schedule")
    @app_commands.describe(
        title="What the meetings are about",
        rule="Days and time: weekday at 9:30, mon,wed,fri at 10:00, day at 8:00",
        duration="How long each one lasts: 15m, 1h",
    )
    async def every(
        self, interaction: Interaction, title: str, rule: str, duration: str | None = None
    ) -> None:
        def build(zone: ZoneInfo) -> Request:
            return CreateSeries(
                title, grammar.parse_rule(rule), _opt(grammar.parse_duration, duration)
            )

        await _run(interaction, build, slow=True)

    @app_commands.command(name="list", description="Upcoming and running meetings in this channel")
    async def list_(self, interaction: Interaction) -> None:
        await _run(interaction, lambda _zone: ListMeetings(), slow=False)

    @app_commands.command(description="End a running meeting and close its room")
    @app_commands.describe(meeting="The meeting's id (from its card or /meet list)")
    @app_commands.autocomplete(meeting=meeting_choices)
    async def end(self, interaction: Interaction, meeting: str) -> None:
        await _run(interaction, lambda _zone: EndMeeting(meeting), slow=True)

    @app_commands.command(description="Cancel a meeting (or a series) before it happens")
    @app_commands.describe(meeting="The meeting's or series' id")
    @app_commands.autocomplete(meeting=meeting_choices)
    async def cancel(self, interaction: Interaction, meeting: str) -> None:
        await _run(interaction, lambda _zone: CancelMeeting(meeting), slow=True)

    @app_commands.command(description="Move a booked meeting to another time (a new link)")
    @app_commands.describe(
        meeting="The meeting's id (from its card or /meet list)",
        when="Its new start: 15:00, tomorrow 9am, mon 10:30, 15:00-16:00",
        duration="Its new length: 45m, 1h30 (default: as it was)",
    )
    @app_commands.autocomplete(meeting=meeting_choices)
    async def move(
        self, interaction: Interaction, meeting: str, when: str, duration: str | None = None
    ) -> None:
        def build(zone: ZoneInfo) -> Request:
            if _is_rule(when):  # a series' new rule, as `/meet move <series> every …`
                return ChangeSeries(
                    meeting, grammar.parse_rule(when), _opt(grammar.parse_duration, duration)
                )
            slot = _slot(interaction, zone, when, duration)
            return MoveMeeting(meeting, slot.start, slot.duration, slot.note)

        await _run(interaction, build, slow=True)

    @app_commands.command(description="Give a booked meeting a new title")
    @app_commands.describe(meeting="The meeting's id", title="Its new title")
    @app_commands.autocomplete(meeting=meeting_choices)
    async def rename(self, interaction: Interaction, meeting: str, title: str) -> None:
        await _run(interaction, lambda _zone: RenameMeeting(meeting, title), slow=True)

    @app_commands.command(description="Send me my host link again, privately")
    @app_commands.describe(meeting="The meeting's id")
    @app_commands.autocomplete(meeting=meeting_choices)
    async def host(self, interaction: Interaction, meeting: str) -> None:
        await _run(interaction, lambda _zone: ResendHost(meeting), slow=False)

    @app_commands.command(description="The feedback summary of a meeting (organizer)")
    @app_commands.describe(meeting="The meeting's id")
    @app_commands.autocomplete(meeting=meeting_choices)
    async def feedback(self, interaction: Interaction, meeting: str) -> None:
        await _run(interaction, lambda _zone: FeedbackSummary(meeting), slow=False)

    @app_commands.command(description="Skip one meeting of a series")
    @app_commands.describe(series="The series' id", date="Which day: 2026-12-01, tomorrow, mon")
    async def skip(self, interaction: Interaction, series: str, date: str | None = None) -> None:
        def build(zone: ZoneInfo) -> Request:
            if not date:
                return SkipOccurrence(series)
            service = service_of(interaction)
            day = grammar.parse_day(date, now=service.now(), tz=zone)
            return SkipOccurrence(series, day)

        await _run(interaction, build, slow=False)

    @app_commands.command(description="Pause a series until resumed")
    @app_commands.describe(series="The series' id")
    async def pause(self, interaction: Interaction, series: str) -> None:
        await _run(interaction, lambda _zone: PauseSeries(series), slow=False)

    @app_commands.command(description="Resume a paused series")
    @app_commands.describe(series="The series' id")
    async def resume(self, interaction: Interaction, series: str) -> None:
        await _run(interaction, lambda _zone: ResumeSeries(series), slow=False)

    @app_commands.command(description="Set my time zone")
    @app_commands.describe(zone="An IANA zone such as Europe/Berlin")
    @app_commands.autocomplete(zone=zone_choices)
    async def tz(self, interaction: Interaction, zone: str) -> None:
        await _run(interaction, lambda _zone: SetTimezone(zone), slow=False)

    @app_commands.command(description="Show or change this server's convene settings (admins)")
    @app_commands.describe(
        setting="Which setting to change", value="Its new value: whereby, 10m, off"
    )
    @app_commands.default_permissions(manage_guild=True)
    async def config(
        self,
        interaction: Interaction,
        setting: Literal["provider", "reminder", "length", "feedback"] | None = None,
        value: str | None = None,
    ) -> None:
        # Discord applies default permissions per top-level command only, so the
        # Manage Server check is repeated here against the verified member.
        caller = caller_for(interaction)
        if setting is not None and caller is not None and not caller.is_admin:
            await interaction.response.send_message(
                "⚠️ Only members with Manage Server can change convene's settings.", ephemeral=True
            )
            return
        await _run(interaction, lambda _zone: Configure(setting, value), slow=False)

    @app_commands.command(name="help", description="What /meet can do, with examples")
    async def help_(self, interaction: Interaction) -> None:
        await _run(interaction, lambda _zone: Help(), slow=False)


async def on_tree_error(interaction: Interaction, error: app_commands.AppCommandError) -> None:
    """Log the failure and tell the caller privately; never let it reach the gateway loop."""
    log.error("/meet %s failed", getattr(interaction.command, "name", "?"), exc_info=error)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(OOPS, ephemeral=True)
        else:
            await interaction.response.send_message(OOPS, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the caller about the failure")
