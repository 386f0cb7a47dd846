"""The scheduling form: `/meet schedule` with no options opens it.

Title, when and length are text read by the same `options.meeting_request` as the typed
options, so the form and the command accept exactly the same times and lengths. "With"
is a people-and-roles picker, because a mention cannot be typed into a form's text box;
a picked role expands to its members as a typed `<@&role>` does.

The submit is answered from its raw payload (`answer_submit`, called for every modal
submit by `views.answer_modal_submit`), so a form opened before a restart still books.
The payload comes from outside: it is walked as plain JSON and only snowflakes are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from discord import ui

from adapters.discord.answer import run
from adapters.discord.context import Interaction
from adapters.discord.options import MeetingOptions, Picked, meeting_request, snowflakes

FORM_ID = "convene:schedule-form"
TITLE = "convene:schedule-title"
WHEN = "convene:schedule-when"
DURATION = "convene:schedule-duration"
WITH = "convene:schedule-with"
TITLE_LIMIT = 200  # what convene keeps of a title
MAX_PICKED = 25  # Discord's limit for a select's values
FORM_TIMEOUT = 15 * 60.0  # discord.py forgets the form then; its submit is still answered


class ScheduleForm(ui.Modal):
    """Title, when, length and who to invite; Discord enforces `when` being filled in."""

    def __init__(self) -> None:
        super().__init__(title="Schedule a meeting", custom_id=FORM_ID, timeout=FORM_TIMEOUT)
        self.add_item(
            ui.TextInput(
                label="Title",
                custom_id=TITLE,
                required=False,
                max_length=TITLE_LIMIT,
                placeholder="Design review",
            )
        )
        self.add_item(
            ui.TextInput(
                label="When",
                custom_id=WHEN,
                max_length=100,
                placeholder="tomorrow 9am, mon 10:30, 15:00-16:00 (your time zone)",
            )
        )
        self.add_item(
            ui.TextInput(
                label="Length",
                custom_id=DURATION,
                required=False,
                max_length=20,
                placeholder="45m, 1h30 (default: this server's meeting length)",
            )
        )
        self.add_item(
            ui.Label(
                text="With",
                description="People or roles to invite; the reminder mentions them.",
                component=ui.MentionableSelect(
                    custom_id=WITH, min_values=0, max_values=MAX_PICKED, required=False
                ),
            )
        )


def is_schedule_form(form_id: str) -> bool:
    return form_id == FORM_ID


async def answer_submit(interaction: Interaction, data: Mapping[str, Any]) -> None:
    """Book what the submitted form asks for and answer privately; a field that cannot
    be read answers with the grammar's one sentence and books nothing."""
    components = data.get("components")
    given = MeetingOptions(
        title=_text(components, TITLE).strip(),
        when=_text(components, WHEN),
        duration=_text(components, DURATION).strip() or None,
        picked=_picked(components, WITH, data.get("resolved")),
    )
    await run(interaction, lambda zone: meeting_request(interaction, zone, given), slow=True)


def _find(components: object, field_id: str) -> dict[str, Any] | None:
    """The submitted component with this custom_id, in an action row or a label."""
    if isinstance(components, dict):
        if components.get("custom_id") == field_id:
            return components
        components = [components.get("components"), components.get("component")]
    if isinstance(components, list):
        for child in components:
            if (found := _find(child, field_id)) is not None:
                return found
    return None


def _text(components: object, field_id: str) -> str:
    found = _find(components, field_id) or {}
    value = found.get("value")
    return value if isinstance(value, str) else ""


def _picked(components: object, field_id: str, resolved: object) -> Picked:
    """The picker's choices, split into roles (as `resolved.roles` names them) and people."""
    found = _find(components, field_id) or {}
    values = found.get("values")
    chosen = snowflakes(values if isinstance(values, list) else [])[:MAX_PICKED]
    seen = resolved.get("roles") if isinstance(resolved, dict) else None
    roles = set(snowflakes(list(seen))) if isinstance(seen, dict) else set()
    return Picked(
        users=tuple(c for c in chosen if c not in roles),
        roles=tuple(c for c in chosen if c in roles),
    )


async def open_form(interaction: Interaction) -> None:
    """Answer the bare command with the form (a modal is itself the answer, within 3 s)."""
    await interaction.response.send_modal(ScheduleForm())
