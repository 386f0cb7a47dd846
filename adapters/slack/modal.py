"""The modals: the scheduling form (`/meet schedule`), the same form filled in to
change a booked meeting (the card's Edit button: adapters/slack/edit_form.py), and
the feedback comment.

The scheduling submission is validated with the same grammar helpers as typed
commands, so the form and the text accept exactly the same times and lengths; a
bad field comes back as an error under that field (`response_action: errors`).
The comment form carries the meeting and the channel to answer in; an empty
comment is refused the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack.render import literal, plain
from bot import grammar
from bot.requests import (
    CreateMeeting,
    CreateSeries,
    GrammarError,
    Request,
)
from bot.timefmt import zone_or_none

CALLBACK_ID = "meet_schedule"
TITLE_LIMIT = 200  # what convene keeps of a title (bot.rooms refuses longer ones)
COMMENT_CALLBACK_ID = "feedback_comment"
COMMENT_BLOCK = "comment"
MAX_COMMENT = 1000  # what convene keeps of a comment
MAX_MEETING_ID = 40  # longer than any id convene makes; a longer value names nothing
VALUE = "value"  # the action_id of every input element
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REPEATS = (
    ("none", "Does not repeat"),
    ("weekdays", "Every weekday"),
    ("daily", "Every day"),
    ("weekly", "Every week on that weekday"),
)
REMINDS = (
    ("default", "Workspace default"),
    ("none", "No reminder"),
    ("5m", "5 minutes before"),
    ("10m", "10 minutes before"),
    ("15m", "15 minutes before"),
    ("30m", "30 minutes before"),
    ("1h", "1 hour before"),
)


@dataclass(frozen=True)
class FormContext:
    """What the form carries in private_metadata: where to answer, in which zone."""

    channel_id: str
    zone: str

    def dump(self) -> str:
        return json.dumps({"channel": self.channel_id, "tz": self.zone})

    @classmethod
    def load(cls, raw: str | None) -> FormContext:
        data = load_metadata(raw)
        return cls(str(data.get("channel", "")), str(data.get("tz", "UTC")))

    @property
    def tz(self) -> ZoneInfo:
        return zone_or_none(self.zone) or ZoneInfo("UTC")


def load_metadata(raw: str | None) -> dict[str, Any]:
    """A modal's private_metadata as we wrote it; anything else reads as empty.
    The payload is signed by Slack, but a malformed one must never become a 500."""
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": plain(label), "value": value}


def _select(options: tuple[tuple[str, str], ...], initial: str) -> dict[str, Any]:
    choices = [_option(value, label) for value, label in options]
    chosen = next(c for c in choices if c["value"] == initial)
    return {
        "type": "static_select",
        "action_id": VALUE,
        "options": choices,
        "initial_option": chosen,
    }


def input_block(
    block_id: str, label: str, element: dict[str, Any], hint: str = ""
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
    }
    if hint:
        block["hint"] = plain(hint, 150)
    return block


def schedule_view(context: FormContext, now: datetime) -> dict[str, Any]:
    """The modal, pre-filled with the next full hour in the user's zone."""
    local = (now.astimezone(context.tz) + timedelta(hours=1)).replace(minute=0)
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": context.dump(),
        "title": plain("Schedule a meeting", 24),
        "submit": plain("Schedule", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            input_block(
                "title",
                "Title",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "max_length": 150,
                    "placeholder": plain("Design review"),
                },
            ),
            input_block(
                "date",
                "Date",
                {"type": "datepicker", "action_id": VALUE, "initial_date": f"{local:%Y-%m-%d}"},
            ),
            input_block(
                "time",
                "Time",
                {"type": "timepicker", "action_id": VALUE, "initial_time": f"{local:%H:%M}"},
                hint=f"In your time zone, {context.zone}.",
            ),
            input_block(
                "duration",
                "Length",
                {"type": "plain_text_input", "action_id": VALUE, "initial_value": "30m"},
                hint="Like 30m, 45m, 1h or 1h30.",
            ),
            input_block("repeat", "Repeat", _select(REPEATS, "none")),
            input_block("remind", "Reminder", _select(REMINDS, "default")),
        ],
    }


def field_value(values: dict[str, Any], block_id: str) -> str:
    """The submitted value of one field, whatever kind of element holds it ("" if odd)."""
    block = values.get(block_id)
    state = block.get(VALUE) if isinstance(block, dict) else None
    if not isinstance(state, dict):
        return ""
    if "selected_option" in state:
        option = state["selected_option"]
        return str(option.get("value") or "") if isinstance(option, dict) else ""
    for key in ("value", "selected_date", "selected_time"):
        if key in state:
            return str(state[key] or "")
    return ""


def read_submission(
    values: dict[str, Any], *, now: datetime, tz: ZoneInfo
) -> Request | dict[str, str]:
    """A request built from the form, or {block_id: sentence} for the fields to fix."""
    errors: dict[str, str] = {}
    title = field_value(values, "title").strip()
    day, clock = field_value(values, "date"), field_value(values, "time")
    repeat = field_value(values, "repeat") or "none"
    if not day:
        errors["date"] = "Pick a date."
    if not clock:
        errors["time"] = "Pick a time."
    length: timedelta | None = None
    try:
        length = grammar.parse_duration(field_value(values, "duration") or "30m")
    except GrammarError as exc:
        errors["duration"] = str(exc)
    remind = _remind(field_value(values, "remind"), errors)
    if errors:
        return errors
    if repeat == "none":
        try:
            start = grammar.parse_when(f"{day} {clock}", now=now, tz=tz)
        except GrammarError as exc:
            return {"time": str(exc)}
        return CreateMeeting(title=title, start=start, duration=length, remind=remind)
    days = _days(repeat, day)
    if days is None:
        return {"repeat": "Choose how the meeting repeats from the list."}
    try:
        rule = grammar.parse_rule(f"{days} at {clock}")
    except GrammarError as exc:
        return {"time": str(exc)}
    return CreateSeries(title=title or "Meeting", rule=rule, duration=length)


def _remind(value: str, errors: dict[str, str]) -> timedelta | None:
    if value in ("", "default"):
        return None
    try:
        return grammar.parse_remind("0" if value == "none" else value)
    except GrammarError as exc:
        errors["remind"] = str(exc)
        return None


def _days(repeat: str, day: str) -> str | None:
    """The rule's days for a repeat choice; weekly repeats on the chosen date's weekday."""
    if repeat == "weekly":
        try:
            return DAYS[date.fromisoformat(day).weekday()]
        except ValueError:
            return None
    return {"weekdays": "weekday", "daily": "day"}.get(repeat)


# ---- the feedback comment ----------------------------------------------------------------


@dataclass(frozen=True)
class CommentContext:
    """What the comment form carries in private_metadata: the meeting, where to answer."""

    meeting_id: str
    channel_id: str

    def dump(self) -> str:
        return json.dumps({"meeting": self.meeting_id, "channel": self.channel_id})

    @classmethod
    def load(cls, raw: str | None) -> CommentContext:
        data = load_metadata(raw)
        return cls(str(data.get("meeting", ""))[:MAX_MEETING_ID], str(data.get("channel", "")))


def comment_view(context: CommentContext, title: str | None = None) -> dict[str, Any]:
    """A one-field modal; the rating stays on the buttons. The title (or the id the
    button carried) labels it as plain text: one line, nothing Slack could link."""
    about = f"“{literal(title)}”" if title else f"meeting {literal(context.meeting_id)}"
    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK_ID,
        "private_metadata": context.dump(),
        "title": plain("Meeting feedback", 24),
        "submit": plain("Send", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            input_block(
                COMMENT_BLOCK,
                f"Your comment on {about}",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "multiline": True,
                    "max_length": MAX_COMMENT,
                    "placeholder": plain("What went well, what could be better?"),
                },
                hint="The organizer sees it in the feedback summary.",
            )
        ],
    }


def read_comment(values: dict[str, Any]) -> str | dict[str, str]:
    """The comment, or {block_id: sentence} when there is nothing to send."""
    comment = field_value(values, COMMENT_BLOCK).strip()
    if not comment:
        return {COMMENT_BLOCK: "Write a few words, or close this form to send nothing."}
    return comment[:MAX_COMMENT]
