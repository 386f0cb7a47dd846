"""The edit form: the scheduling form filled in to change a booked meeting (the card's
Edit button).

It shows the start as words the grammar reads back to the same instant
(`bot.timefmt.phrase`), and only the fields changed from what it showed become
requests: a new title `RenameMeeting`, a new time or length `MoveMeeting`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack.modal import (
    MAX_MEETING_ID,
    TITLE_LIMIT,
    VALUE,
    field_value,
    input_block,
    load_metadata,
)
from adapters.slack.render import plain
from bot import grammar
from bot.requests import GrammarError, MoveMeeting, RenameMeeting, Request
from bot.timefmt import phrase, zone_or_none

EDIT_CALLBACK_ID = "meet_edit"


@dataclass(frozen=True)
class EditContext:
    """What the edit form carries in private_metadata: the meeting, where to answer, the
    zone its times are written in, and what the form showed, so that only what the
    user changed is asked for. All of it is user-controlled: it names a meeting and
    fills requests; who may change the meeting the service decides from the verified
    user."""

    meeting_id: str
    channel_id: str
    zone: str
    title: str = ""  # as shown
    when: str = ""  # the start as shown: 'on 1 Dec 2026 at 14:00'
    length: str = ""  # as shown: '45m', '1h30'
    start: str = ""  # the exact start (ISO, UTC), kept when only the length changes

    @classmethod
    def shown(
        cls,
        meeting_id: str,
        channel_id: str,
        zone: ZoneInfo,
        slot: tuple[str, datetime, datetime],
    ) -> EditContext:
        """The form for a meeting (title, start, end) as the user in `zone` reads it."""
        title, start, end = slot
        when, _, length = phrase(start, end, zone).partition(" for ")
        return cls(
            meeting_id=meeting_id[:MAX_MEETING_ID],
            channel_id=channel_id,
            zone=zone.key,
            title=title[:TITLE_LIMIT],
            when=when,
            length=length,
            start=start.astimezone(UTC).isoformat(),
        )

    def dump(self) -> str:
        return json.dumps(
            {
                "meeting": self.meeting_id,
                "channel": self.channel_id,
                "tz": self.zone,
                "title": self.title,
                "when": self.when,
                "length": self.length,
                "start": self.start,
            },
            ensure_ascii=False,  # private_metadata holds 3000 characters; a title is 200
        )

    @classmethod
    def load(cls, raw: str | None) -> EditContext:
        data = load_metadata(raw)

        def text(key: str, default: str = "", limit: int = 400) -> str:
            value = data.get(key, default)
            return value[:limit] if isinstance(value, str) else default

        return cls(
            meeting_id=text("meeting", limit=MAX_MEETING_ID),
            channel_id=text("channel"),
            zone=text("tz", "UTC"),
            title=text("title", limit=TITLE_LIMIT),
            when=text("when"),
            length=text("length"),
            start=text("start"),
        )

    @property
    def tz(self) -> ZoneInfo:
        return zone_or_none(self.zone) or ZoneInfo("UTC")

    @property
    def exact_start(self) -> datetime | None:
        try:
            start = datetime.fromisoformat(self.start)
        except ValueError:
            return None
        return start.astimezone(UTC) if start.tzinfo is not None else None


def edit_view(context: EditContext) -> dict[str, Any]:
    """The scheduling form's title, start and length, filled in with the meeting's own."""
    return {
        "type": "modal",
        "callback_id": EDIT_CALLBACK_ID,
        "private_metadata": context.dump(),
        "title": plain("Change the meeting", 24),
        "submit": plain("Save", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            {
                "type": "context",
                "elements": [
                    plain("Everyone sees the change on the card; a new time gets a new link.")
                ],
            },
            input_block(
                "title",
                "Title",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "max_length": TITLE_LIMIT,
                    "initial_value": context.title,
                },
            ),
            input_block(
                "when",
                "Starts",
                {"type": "plain_text_input", "action_id": VALUE, "initial_value": context.when},
                hint=f"In your time zone, {context.zone}. Like tomorrow 15:00, mon 10:30 or "
                "15:00-16:30.",
            ),
            {
                **input_block(
                    "duration",
                    "Length",
                    {
                        "type": "plain_text_input",
                        "action_id": VALUE,
                        "initial_value": context.length,
                    },
                    hint="Like 30m, 45m, 1h or 1h30. Empty keeps the length.",
                ),
                "optional": True,
            },
        ],
    }


def read_edit(
    values: dict[str, Any], context: EditContext, *, now: datetime
) -> list[Request] | dict[str, str]:
    """The changes asked for, a rename before a move ([] when nothing changed), or
    {block_id: sentence} for the fields to fix."""
    title = " ".join(field_value(values, "title").split())
    when = " ".join(field_value(values, "when").split())
    length_text = field_value(values, "duration").strip()
    asked: list[Request] = []
    if title and title != " ".join(context.title.split()):
        if len(title) > TITLE_LIMIT:
            return {"title": f"Keep the title to {TITLE_LIMIT} characters."}
        asked.append(RenameMeeting(context.meeting_id, title))
    new_when = when != " ".join(context.when.split())
    new_length = bool(length_text) and length_text != context.length.strip()
    if not (new_when or new_length):
        return asked
    if not when:
        return {"when": "Give the start, like tomorrow 15:00."}
    errors: dict[str, str] = {}
    length: timedelta | None = None
    if new_length:
        try:
            length = grammar.parse_duration(length_text)
        except GrammarError as exc:
            errors["duration"] = str(exc)
    start, note = context.exact_start, ""
    if new_when or start is None:
        try:
            reading = grammar.parse_slot(when, now=now, tz=context.tz)
        except GrammarError as exc:
            errors["when"] = str(exc)
        else:
            start, note = reading.start, reading.note
            if reading.end is not None and reading.start is not None:
                if new_length:
                    errors["duration"] = (
                        "The start is a range, which sets the length already; "
                        "clear this field or give the start alone."
                    )
                length = reading.end - reading.start
    if errors:
        return errors
    assert start is not None  # parse_slot always gives a start
    asked.append(MoveMeeting(context.meeting_id, start, length, note))
    return asked
