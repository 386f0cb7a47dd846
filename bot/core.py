"""What the service and the lifecycle share: storage, secrets, providers,
platform messengers and the clock. Built once at start and passed in, never global."""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.claims import Claims
from bot.models import ID_ALPHABET, ID_LENGTH, Caller, Meeting, WorkspaceSettings
from bot.ports import Clock, Messenger, ProviderSource
from bot.providers import LABELS
from bot.timefmt import zone_or_none
from storage import meetings as meeting_rows
from storage import workspaces
from storage.secrets import SecretBox


@dataclass
class Core:
    db: Database
    box: SecretBox
    providers: ProviderSource
    clock: Clock
    defaults: WorkspaceSettings
    messengers: dict[str, Messenger] = field(default_factory=dict)
    instance: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    )

    @cached_property
    def claims(self) -> Claims:
        return Claims(self.db, self.clock, self.instance)

    def settings_for(self, platform: str, workspace_id: str) -> WorkspaceSettings:
        return workspaces.workspace_settings(self.db, platform, workspace_id, self.defaults)

    def zone_for(self, caller: Caller) -> ZoneInfo:
        """The caller's zone: what they set with /meet tz, else the platform's hint, else UTC."""
        return self.zone_of(caller.platform, caller.workspace_id, caller.user_id, caller.tz_hint)

    def zone_of(
        self, platform: str, workspace_id: str, user_id: str, hint: str | None = None
    ) -> ZoneInfo:
        """Anyone's zone, also when they are not the one asking (an organizer's summary)."""
        stored = workspaces.user_timezone(self.db, platform, workspace_id, user_id)
        return zone_or_none(stored) or zone_or_none(hint) or ZoneInfo("UTC")

    def new_id(self) -> str:
        while True:
            candidate = "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))
            if not meeting_rows.id_taken(self.db, candidate):
                return candidate

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        return meeting_rows.get_meeting(self.db, meeting_id.strip().lower(), self.box)

    def find_meeting(self, caller: Caller, meeting_id: str) -> Meeting | None:
        """A meeting of the caller's own workspace; ids from elsewhere do not exist here."""
        meeting = self.get_meeting(meeting_id)
        if meeting is None or (meeting.platform, meeting.workspace_id) != (
            caller.platform,
            caller.workspace_id,
        ):
            return None
        return meeting

    def provider_label(self, name: str) -> str:
        return LABELS.get(name, name)
