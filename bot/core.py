"""What the service and the lifecycle share: storage, secrets, providers,
platform messengers and the clock. Built once at start and passed in, never global."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

from bot.calendar import calendar_links
from bot.card_edits import CardEdits
from bot.claims import Claims
from bot.inflight import InFlight
from bot.messages import Card, card_for
from bot.models import ID_ALPHABET, ID_LENGTH, Caller, Meeting, WorkspaceSettings
from bot.ports import Clock, Messenger, ProviderSource, Surface
from bot.providers import LABELS
from bot.providers.errors import ProviderError
from bot.rsvp import Answer, Tally
from bot.timefmt import zone_or_none
from storage import meetings as meeting_rows
from storage import people, workspaces
from storage.engine import Store
from storage.secrets import SecretBox


@dataclass
class Core:
    store: Store
    box: SecretBox
    providers: ProviderSource
    clock: Clock
    defaults: WorkspaceSettings
    messengers: dict[str, Messenger] = field(default_factory=dict)
    surfaces: dict[str, Surface] = field(default_factory=dict)  # per platform, optional
    public_url: str | None = None  # CONVENE_PUBLIC_URL: calendar files, redirects
    secret_key: str | None = None  # CONVENE_SECRET_KEY: signs calendar links
    inflight: InFlight = field(default_factory=InFlight)  # what a shutdown waits for
    instance: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    )

    @cached_property
    def claims(self) -> Claims:
        return Claims(self.store, self.clock, self.instance, self.inflight)

    @cached_property
    def card_edits(self) -> CardEdits:
        """Card redraws after answers, coalesced so a burst of presses stays within the
        platforms' edit limits; closed with the app (`ConveneApp.close`)."""
        return CardEdits(self.redraw_card)

    async def redraw_card(self, meeting_id: str) -> None:
        """Redraw a meeting's posted card as it stands now (nothing if it was never posted)."""
        meeting = await self.get_meeting(meeting_id)
        messenger = self.messengers.get(meeting.platform) if meeting else None
        if meeting is None or messenger is None or not meeting.message_ref:
            return
        await messenger.update_card(meeting.place, meeting.message_ref, await self.card(meeting))

    async def settings_for(self, platform: str, workspace_id: str) -> WorkspaceSettings:
        return await workspaces.workspace_settings(
            self.store, platform, workspace_id, self.defaults
        )

    async def zone_for(self, caller: Caller) -> ZoneInfo:
        """The caller's zone: what they set with /meet tz, else the platform's hint, else UTC."""
        return await self.zone_of(
            caller.platform, caller.workspace_id, caller.user_id, caller.tz_hint
        )

    async def zone_of(
        self, platform: str, workspace_id: str, user_id: str, hint: str | None = None
    ) -> ZoneInfo:
        """Anyone's zone, also when they are not the one asking (an organizer's summary)."""
        stored = await workspaces.user_timezone(self.store, platform, workspace_id, user_id)
        return zone_or_none(stored) or zone_or_none(hint) or ZoneInfo("UTC")

    async def new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
            if not await meeting_rows.id_taken(self.store, candidate):
                return candidate

    async def get_meeting(self, meeting_id: str) -> Meeting | None:
        return await meeting_rows.get_meeting(self.store, meeting_id.strip().lower())

    async def find_meeting(self, caller: Caller, meeting_id: str) -> Meeting | None:
        """A meeting of the caller's own workspace; ids from elsewhere do not exist here."""
        meeting = await self.get_meeting(meeting_id)
        if meeting is None or (meeting.platform, meeting.workspace_id) != (
            caller.platform,
            caller.workspace_id,
        ):
            return None
        return meeting

    async def card(self, meeting: Meeting) -> Card:
        """The card as it stands now: its RSVP tally, calendar links (scheduled meetings),
        and whether the provider can give each person a link of their own."""
        rows = await people.rsvps(self.store, meeting.id)
        tally = Tally.of((user, Answer(answer)) for user, answer in rows)
        calendar = (  # a meeting that is already on needs no place in a calendar
            None
            if meeting.instant
            else calendar_links(
                meeting, public_url=self.public_url, secret=self.secret_key, now=self.clock()
            )
        )
        try:
            personal = self.providers.get(meeting.provider).capabilities.personal_link
        except ProviderError:
            personal = False
        label = self.provider_label(meeting.provider)
        return card_for(meeting, label, rsvp=tally, calendar=calendar, personal_links=personal)

    def provider_label(self, name: str) -> str:
        return LABELS.get(name, name)
