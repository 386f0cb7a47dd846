"""Buttons that keep working after a restart.

Each button is a `discord.ui.DynamicItem`: its custom_id carries only the
meeting id (`convene:end:<id>`), and the client registers the classes at start,
so a click on a card posted by a previous process is still dispatched. The
custom_id is user-controlled, so the only thing read from it is which meeting;
who may act is decided by the service from the verified `interaction.user`.

Feedback prompts (a reply under the card, and a direct message to each person
asked) carry 1–5 rating buttons (`convene:feedback:<id>:<score>`) and "Add a
comment" (`convene:comment:<id>`), which opens a form whose submit arrives as
`convene:comment-modal:<id>`. Both record through `RateMeeting` for the
verified user. A direct message has no guild, so there the workspace is the
meeting's own (see `feedback_caller`).
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import ui

from adapters.discord import render
from adapters.discord.context import GUILD_ONLY, PLATFORM, caller_for, is_admin, service_of
from bot.messages import Card
from bot.models import Caller
from bot.requests import CancelMeeting, EndMeeting, RateMeeting, Request

ID = r"[a-z0-9]{1,32}"
COMMENT_MODAL_PREFIX = "convene:comment-modal:"
COMMENT_FIELD = "convene:comment-text"
UNKNOWN_MEETING = "convene no longer knows that meeting, so this answer was not recorded."
EMPTY_COMMENT = "The comment was empty, so nothing was recorded."


class CardAction(
    ui.DynamicItem[ui.Button[Any]], template=rf"convene:(?P<action>end|cancel):(?P<meeting>{ID})"
):
    """End or Cancel on a meeting card."""

    def __init__(self, action: str, meeting_id: str) -> None:
        label, style = ("End", discord.ButtonStyle.danger)
        if action == "cancel":
            label, style = ("Cancel", discord.ButtonStyle.secondary)
        super().__init__(
            ui.Button(label=label, style=style, custom_id=f"convene:{action}:{meeting_id}")
        )
        self.action = action
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> CardAction:
        return cls(match["action"], match["meeting"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        caller = caller_for(interaction)
        if caller is None:
            await interaction.response.send_message(GUILD_ONLY, ephemeral=True)
            return
        # Closing calls the provider: defer privately now, answer privately after.
        await interaction.response.defer(ephemeral=True, thinking=True)
        request: Request = (
            EndMeeting(self.meeting_id) if self.action == "end" else CancelMeeting(self.meeting_id)
        )
        reply = await service_of(interaction).handle(caller, request)
        await interaction.followup.send(render.reply_text(reply), ephemeral=True)


class FeedbackScore(
    ui.DynamicItem[ui.Button[Any]],
    template=rf"convene:feedback:(?P<meeting>{ID}):(?P<score>[1-5])",
):
    """A 1–5 rating button on a feedback prompt; a second click changes the rating."""

    def __init__(self, meeting_id: str, score: int) -> None:
        super().__init__(
            ui.Button(
                label=str(score),
                style=discord.ButtonStyle.secondary,
                custom_id=f"convene:feedback:{meeting_id}:{score}",
            )
        )
        self.meeting_id = meeting_id
        self.score = score

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackScore:
        return cls(match["meeting"], int(match["score"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await rate(interaction, RateMeeting(self.meeting_id, self.score))


class CommentButton(ui.DynamicItem[ui.Button[Any]], template=rf"convene:comment:(?P<meeting>{ID})"):
    """Opens the comment form of a feedback prompt."""

    def __init__(self, meeting_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Add a comment",
                style=discord.ButtonStyle.primary,
                custom_id=f"convene:comment:{meeting_id}",
            )
        )
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: ui.Item[Any], match: re.Match[str], /
    ) -> CommentButton:
        return cls(match["meeting"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(CommentModal(self.meeting_id))


class CommentModal(ui.Modal):
    """The comment form. Its submit is answered by `answer_modal_submit`, which also
    handles submits of forms opened before a restart (discord.py forgets those)."""

    comment: ui.TextInput[CommentModal] = ui.TextInput(
        label="Your comment",
        style=discord.TextStyle.paragraph,
        max_length=1000,
        custom_id=COMMENT_FIELD,
    )

    def __init__(self, meeting_id: str) -> None:
        super().__init__(
            title="Feedback", custom_id=f"{COMMENT_MODAL_PREFIX}{meeting_id}", timeout=None
        )


async def answer_modal_submit(interaction: discord.Interaction[Any]) -> bool:
    """Answer a convene modal submit; False if the submit is not convene's."""
    data: dict[str, Any] = dict(interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    if not custom_id.startswith(COMMENT_MODAL_PREFIX) or interaction.response.is_done():
        return False
    meeting_id = custom_id.removeprefix(COMMENT_MODAL_PREFIX)
    comment = _field_value(data.get("components"), COMMENT_FIELD).strip()
    if not re.fullmatch(ID, meeting_id):
        await interaction.response.send_message(UNKNOWN_MEETING, ephemeral=True)
    elif not comment:
        await interaction.response.send_message(EMPTY_COMMENT, ephemeral=True)
    else:
        await rate(interaction, RateMeeting(meeting_id, None, comment))
    return True


def _field_value(components: Any, custom_id: str) -> str:
    """The value of one text input in a submitted form, whether it sits in an
    action row (`components`) or in a label (`component`)."""
    if isinstance(components, dict):
        if components.get("custom_id") == custom_id and "value" in components:
            return str(components["value"] or "")
        components = [components.get("components"), components.get("component")]
    if isinstance(components, list):
        for child in components:
            found = _field_value(child, custom_id)
            if found:
                return found
    return ""


def feedback_caller(interaction: discord.Interaction[Any], meeting_id: str) -> Caller | None:
    """Who is answering a feedback prompt, and in which workspace.

    In a guild channel that is the guild, as for every command. A direct message
    has no guild, so the workspace is the meeting's own; the person is still the
    verified `interaction.user`, never anything from the custom_id. (Discord only
    delivers clicks on components of messages convene itself sent.) None when the
    meeting is unknown, or is not a Discord meeting.
    """
    caller = caller_for(interaction)
    if caller is not None:
        return caller
    meeting = service_of(interaction).core.get_meeting(meeting_id)
    if meeting is None or meeting.platform != PLATFORM:
        return None
    user = interaction.user
    return Caller(
        platform=PLATFORM,
        workspace_id=meeting.workspace_id,
        channel_id=meeting.channel_id,
        user_id=str(user.id),
        user_name=user.display_name,
        is_admin=interaction.guild_id is not None and is_admin(interaction),
    )


async def rate(interaction: discord.Interaction[Any], request: RateMeeting) -> None:
    """Record a rating or a comment for the verified user; answer privately."""
    caller = feedback_caller(interaction, request.meeting_id)
    if caller is None:
        await interaction.response.send_message(UNKNOWN_MEETING, ephemeral=True)
        return
    reply = await service_of(interaction).handle(caller, request)
    await interaction.response.send_message(render.reply_text(reply), ephemeral=True)


PERSISTENT_ITEMS: tuple[type[ui.DynamicItem[Any]], ...] = (CardAction, FeedbackScore, CommentButton)


def card_view(card: Card) -> ui.View | None:
    """Join (a link), End and Cancel while the room is open; no buttons once it is closed."""
    if card.join_url is None:
        return None
    view = ui.View(timeout=None)
    view.add_item(ui.Button(label="Join", style=discord.ButtonStyle.link, url=card.join_url))
    view.add_item(CardAction("end", card.meeting_id))
    view.add_item(CardAction("cancel", card.meeting_id))
    return view


def feedback_view(meeting_id: str) -> ui.View:
    """Rating buttons and a comment button, for the feedback prompt."""
    view = ui.View(timeout=None)
    for score in range(1, 6):
        view.add_item(FeedbackScore(meeting_id, score))
    view.add_item(CommentButton(meeting_id))
    return view
