"""The `/meet` slash-command group: typed options in, typed requests out.

Every subcommand builds a request from its options and hands it to `answer.run`,
which defers privately when the request calls a video provider (now, schedule, every,
end, cancel, move, rename) and answers the caller ephemerally; the public card goes
out separately via the Messenger. Option values are parsed with the same grammar as
Slack's text (`options`); a GrammarError becomes one private sentence. `/meet
schedule` with no options at all opens the scheduling form (`forms`) instead.
"""

from __future__ import annotations

import logging
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

import discord
from discord import app_commands

from adapters.discord import forms
from adapters.discord.answer import run as _run
from adapters.discord.context import Interaction, caller_for, service_of
from adapters.discord.options import MeetingOptions, meeting_request, opt, read_with, slot_of
from bot import grammar
from bot.requests import (
    CalendarFeed,
    CancelMeeting,
    ChangeSeries,
    Configure,
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


WITH_HELP = "People or roles to invite: type @ and pick them (@ana @raj @design)"
NOFEEDBACK_HELP = "Ask no feedback after this meeting"
NEEDS_WHEN = "Tell me when, like when: tomorrow 9am, or run /meet schedule alone to open the form."


def _is_rule(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].lower() == "every"


@app_commands.guild_only()
class MeetGroup(app_commands.Group, name="meet", description="Video meetings for this channel"):
    """`/meet <subcommand>`: the option names are part of convene's contract."""

    @app_commands.command(description="Start a video meeting now and post its link here")
    @app_commands.describe(
        title="What the meeting is about", with_=WITH_HELP, nofeedback=NOFEEDBACK_HELP
    )
    @app_commands.rename(with_="with")
    async def now(
        self,
        interaction: Interaction,
        title: str | None = None,
        with_: str | None = None,
        nofeedback: bool = False,
    ) -> None:
        def build(zone: ZoneInfo) -> Request:
            given = MeetingOptions(
                title=title or "", picked=read_with(with_), feedback=not nofeedback
            )
            return meeting_request(interaction, zone, given)

        await _run(interaction, build, slow=True)

    @app_commands.command(description="Schedule a meeting and post its link here")
    @app_commands.describe(
        title="What the meeting is about",
        when="When: 15:00, in 20m, tomorrow 9am, mon 10:30, 2026-12-01 14:00, 15:00-16:00",
        duration="How long: 45m, 1h30 (default: this server's meeting length)",
        remind="How long before the start to remind the channel: 15m, 1h, none",
        with_=WITH_HELP,
        nofeedback=NOFEEDBACK_HELP,
    )
    @app_commands.rename(with_="with")
    async def schedule(
        self,
        interaction: Interaction,
        title: str | None = None,
        when: str | None = None,
        duration: str | None = None,
        remind: str | None = None,
        with_: str | None = None,
        nofeedback: bool | None = None,
    ) -> None:
        """With no options at all, the form; otherwise `when` is needed."""
        typed = (title, when, duration, remind, with_, nofeedback)
        if all(value is None for value in typed):
            await forms.open_form(interaction)
            return

        def build(zone: ZoneInfo) -> Request:
            if when is None:
                raise GrammarError(NEEDS_WHEN)
            given = MeetingOptions(
                title=title or "",
                when=when,
                duration=duration,
                remind=remind,
                picked=read_with(with_),
                feedback=not nofeedback,
            )
            return meeting_request(interaction, zone, given)

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
                title, grammar.parse_rule(rule), opt(grammar.parse_duration, duration)
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
                    meeting, grammar.parse_rule(when), opt(grammar.parse_duration, duration)
                )
            slot = slot_of(interaction, zone, when, duration)
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

    @app_commands.command(description="My calendar feed of the meetings I organize or go to")
    @app_commands.describe(reset="Make a new address; the old one stops working")
    async def calendar(self, interaction: Interaction, reset: bool = False) -> None:
        await _run(interaction, lambda _zone: CalendarFeed(reset=reset), slow=False)

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
        setting: Literal[
            "provider", "reminder", "length", "feedback", "mentions", "events", "calls"
        ]
        | None = None,
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
