"""Slack payloads → who asked, where, and what for: pure functions, no I/O.

The inbound half of bolt's framework-adapter pattern (`to_bolt_request` → dispatch
→ `to_response`): handlers.py acks, calls the Web API and the service; this module
only translates. Who and where come from bolt's context, which bolt fills from the
signed request. A button's value and a form's values are typed by the user: they
only ever name a meeting or fill a request, never the person acting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.slack import edit_form, modal, render
from bot.requests import Button, RateMeeting, Request, button_request


@dataclass(frozen=True)
class Who:
    """The verified ids of a request: workspace, channel, user (and the name Slack sent)."""

    team_id: str
    channel_id: str
    user_id: str
    user_name: str = ""


def _str(data: Mapping[str, Any], key: str) -> str:
    """A string field, or "" for anything else (missing, null, a number, an object)."""
    value = data.get(key)
    return value if isinstance(value, str) else ""


def command_who(command: Mapping[str, Any], context: Mapping[str, Any]) -> Who:
    """A slash command's ids: bolt's context first, the command body as its fallback."""
    return Who(
        team_id=_str(context, "team_id") or _str(command, "team_id"),
        channel_id=_str(context, "channel_id") or _str(command, "channel_id"),
        user_id=_str(context, "user_id") or _str(command, "user_id"),
        user_name=_str(command, "user_name"),
    )


def action_who(context: Mapping[str, Any]) -> Who:
    """A button's ids, all from the verified context; the button's value plays no part."""
    return Who(_str(context, "team_id"), _str(context, "channel_id"), _str(context, "user_id"))


def form_who(context: Mapping[str, Any], channel_id: str) -> Who:
    """A modal's ids: it has no channel, so the one its private_metadata carries."""
    return Who(_str(context, "team_id"), channel_id, _str(context, "user_id"))


def command_text(command: Mapping[str, Any]) -> str:
    """What the user typed after `/meet`: Slack sends &, < and > as &amp;, &lt; and &gt;."""
    return render.unescape(_str(command, "text"))


def trigger_id(body: Mapping[str, Any]) -> str:
    """The trigger a modal must be opened with (valid for 3 seconds)."""
    return _str(body, "trigger_id")


def meeting_of(action: Mapping[str, Any]) -> str:
    """The meeting a button names: its value, user-controlled, clipped to an id's length."""
    return _str(action, "value")[: modal.MAX_MEETING_ID]


def score_of(action_id: str) -> int | None:
    """The score a rating button stands for; None for anything else."""
    return next((s for s in render.SCORES if action_id == render.action_id(Button.RATE, s)), None)


def pressed(action_id: str) -> tuple[Button, int | None] | None:
    """Which convene button an action id is, with a rating's score; None if none of ours."""
    for button, known in render.ACTION_IDS.items():
        if action_id == known:
            return button, None
    score = score_of(action_id)
    return (Button.RATE, score) if score is not None else None


FORM_BUTTONS = (Button.COMMENT, Button.EDIT)
"""Buttons that open a form: their press asks nothing by itself; the form's submission does."""


def button_press(action: Mapping[str, Any]) -> Request | None:
    """End, Cancel or a rating as a request; None for buttons that open a form (comment,
    edit) and for anything that is none of convene's buttons."""
    found = pressed(_str(action, "action_id"))
    if found is None or found[0] in FORM_BUTTONS:
        return None
    button, score = found
    return button_request(button, meeting_of(action), score)


def view_values(view: Mapping[str, Any]) -> dict[str, Any]:
    """A submitted view's `state.values`; anything malformed reads as no values at all."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return dict(values) if isinstance(values, Mapping) else {}


def _metadata(view: Mapping[str, Any]) -> str | None:
    raw = view.get("private_metadata")
    return raw if isinstance(raw, str) else None


def schedule_submission(
    view: Mapping[str, Any], *, now: datetime
) -> tuple[modal.FormContext, Request | dict[str, str]]:
    """The scheduling form: where to answer, and its request or {block_id: error}."""
    form = modal.FormContext.load(_metadata(view))
    return form, modal.read_submission(view_values(view), now=now, tz=form.tz)


def edit_submission(
    view: Mapping[str, Any], *, now: datetime
) -> tuple[edit_form.EditContext, list[Request] | dict[str, str]]:
    """The edit form: where to answer, and its changes in the order to make them
    (rename, then move; none when nothing changed), or {block_id: error}."""
    form = edit_form.EditContext.load(_metadata(view))
    return form, edit_form.read_edit(view_values(view), form, now=now)


def comment_submission(
    view: Mapping[str, Any],
) -> tuple[modal.CommentContext, Request | dict[str, str]]:
    """The comment form: where to answer, and a comment-only rating or {block_id: error}."""
    form = modal.CommentContext.load(_metadata(view))
    comment = modal.read_comment(view_values(view))
    if isinstance(comment, dict):
        return form, comment
    return form, RateMeeting(form.meeting_id, None, comment)
