"""`/meet tz` and `/meet config`: a person's zone and a workspace's settings.

Settings are validated here, each refusal one sentence with a form that works;
only workspace admins change them.
"""

from __future__ import annotations

from datetime import timedelta

from bot import grammar
from bot.core import Core
from bot.messages import Reply
from bot.models import Caller
from bot.providers import LABELS, ProviderNotConfigured
from bot.requests import GrammarError
from bot.timefmt import duration, suggest_zones, zone_or_none
from storage import series as series_rows
from storage import workspaces

# on/off settings: the key /meet config takes, and how the reply names it
SWITCHES = {
    "feedback": "Feedback",
    "mentions": "Mentioning people in reminders",
    "events": "Discord events",
    "calls": "Slack's call card",
}


def _on(flag: bool) -> str:
    return "on" if flag else "off"


class Preferences:
    def __init__(self, core: Core) -> None:
        self.core = core

    async def set_timezone(self, caller: Caller, zone_name: str) -> Reply:
        zone = zone_or_none(zone_name)
        if zone is None:
            ideas = suggest_zones(zone_name) or ["Europe/Berlin", "America/New_York"]
            return Reply(
                f"“{zone_name}” is not a time zone I know; try one like {', '.join(ideas)}.",
                ok=False,
            )
        await workspaces.set_user_timezone(
            self.core.store, caller.platform, caller.workspace_id, caller.user_id, zone.key
        )
        local = self.core.clock().astimezone(zone)
        return Reply(f"Your time zone is now {zone.key} (it is {local:%H:%M} there).")

    async def configure(self, caller: Caller, key: str | None, value: str | None) -> Reply:
        settings = await self.core.settings_for(caller.platform, caller.workspace_id)
        if key is None:
            return Reply(
                f"This workspace uses {LABELS.get(settings.provider, settings.provider)}; "
                f"meetings last {duration(settings.default_length)} by default; reminders go out "
                f"{duration(settings.reminder)} before; feedback is "
                f"{_on(settings.feedback)}; reminders mention people: {_on(settings.mentions)}; "
                f"Discord events: {_on(settings.events)}; Slack call cards: {_on(settings.calls)}. "
                "Admins change these with /meet config provider whereby | reminder 10m | "
                "length 30m | feedback|mentions|events|calls on|off."
            )
        if not caller.is_admin:
            return Reply("Only a workspace admin can change convene's settings.", ok=False)
        try:
            change = self._setting_change(key.lower(), (value or "").strip())
        except ValueError as exc:
            return Reply(str(exc), ok=False)
        await workspaces.update_workspace(
            self.core.store, caller.platform, caller.workspace_id, **change
        )
        if "reminder" in change:  # series open their links this lead before each meeting
            await series_rows.replan_workspace(
                self.core.store, caller.platform, caller.workspace_id
            )
        return await self.configure(caller, None, None)

    def _setting_change(self, key: str, value: str) -> dict[str, object]:
        """Validate one `/meet config` change; ValueError carries the user's sentence."""
        if key == "provider":
            name = value.lower()
            if name not in LABELS:
                raise ValueError(
                    f"“{value}” is not a provider convene knows; choose one of {', '.join(LABELS)}."
                )
            missing = self.core.providers.missing(name)
            if missing:
                raise ValueError(str(ProviderNotConfigured(name, missing)))
            return {"provider": name}
        if key in ("reminder", "length"):
            if key == "reminder" and value.lower() in ("0", "off", "none"):
                return {"reminder": timedelta(0)}
            try:
                amount = grammar.parse_duration(value)
            except GrammarError as exc:
                raise ValueError(str(exc)) from exc
            return {"reminder" if key == "reminder" else "default_length": amount}
        if key in SWITCHES:
            if value.lower() not in ("on", "off"):
                raise ValueError(f"{SWITCHES[key]} is either on or off: /meet config {key} off")
            return {key: value.lower() == "on"}
        raise ValueError(
            f"“{key}” is not a setting; try /meet config provider whereby, reminder 10m, "
            "length 30m, feedback off, mentions off, events off or calls off."
        )
