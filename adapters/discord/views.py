"""Buttons that keep working after a restart.

Each button is a `discord.ui.DynamicItem`: its custom_id carries only the
meeting id (`convene:end:<id>`), and the client registers the classes at start,
so a click on a card posted by a previous process is still dispatched. The
custom_id is user-controlled, so the only thing read from it is which meeting;
who may act is decided by the service from the verified `interaction.user`.
"""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import ui

from adapters.discord import render
from adapters.discord.context import GUILD_ONLY, caller_for, service_of
from bot.messages import Card
from bot.requests import CancelMeeting, EndMeeting, Request

ID = r"[a-z0-9]{1,32}"
COMING_SOON = (
    "Thanks! Feedback collection is coming in a future version of convene, "
    "so this answer was not recorded."
)
COMMENT_MODAL_PREFIX = "convene:comment-modal:"


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
    """A 1–5 rating button on a feedback prompt (recording it comes with the feedback issue)."""

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
        await interaction.response.send_message(COMING_SOON, ephemeral=True)


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
        custom_id="convene:comment-text",
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
    await interaction.response.send_message(COMING_SOON, ephemeral=True)
    return True


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
