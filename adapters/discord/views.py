"""Buttons that keep working after a restart.

Each button is a `discord.ui.DynamicItem`: its custom_id carries only the
meeting id (`convene:end:<id>`), and the client registers the classes at start,
so a click on a card posted by a previous process is still dispatched. The
custom_id is user-controlled, so the only thing read from it is which meeting;
who may act is decided by the service from the verified `interaction.user`.
What a press asks for is `bot.requests.button_request`, the same as on Slack.

Feedback prompts (a reply under the card, and a direct message to each person
asked) carry 1–5 rating buttons (`convene:feedback:<id>:<score>`) and "Add a
comment" (`convene:comment:<id>`), which opens a form whose submit arrives as
`convene:comment-modal:<id>`. Both record through `RateMeeting` for the
verified user. A direct message has no guild, so there the workspace is the
meeting's own (see `feedback_caller`). The scheduling form's submit is answered
here too, by `forms.answer_submit`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import ui

from adapters.discord import forms, render
from adapters.discord.context import (
    GUILD_ONLY,
    PLATFORM,
    Interaction,
    caller_for,
    is_admin,
    service_of,
)
from bot.messages import Card
from bot.models import Caller
from bot.requests import (
    BUTTON_LABELS,
    CARD_ANSWERS,
    Button,
    RateMeeting,
    Request,
    button_request,
)

if TYPE_CHECKING:
    from discord.types.interactions import ModalSubmitInteractionData

ID = r"[a-z0-9]{1,32}"
SLUGS = {
    Button.END: "end",
    Button.CANCEL: "cancel",
    Button.RATE: "feedback",
    Button.COMMENT: "comment",
    Button.GOING: "going",
    Button.MAYBE: "maybe",
    Button.NO: "no",
    Button.GOING_ALL: "going-all",
    Button.MY_LINK: "my-link",
    Button.REMIND_ME: "remind-me",
}
"""The word of each button in its custom_id. Fixed: messages posted by earlier
versions carry these, and their clicks must still be understood."""
BUTTON_OF_SLUG = {slug: button for button, slug in SLUGS.items()}
ANSWER_STYLES = {Button.GOING: discord.ButtonStyle.success}
COMMENT_MODAL_PREFIX = "convene:comment-modal:"
COMMENT_FIELD = "convene:comment-text"
UNKNOWN_MEETING = "convene no longer knows that meeting, so this answer was not recorded."
EMPTY_COMMENT = "The comment was empty, so nothing was recorded."


def custom_id(button: Button, meeting_id: str, score: int | None = None) -> str:
    """`convene:<word>:<meeting>[:<score>]`: all a click tells convene is which meeting."""
    tail = "" if score is None else f":{score}"
    return f"convene:{SLUGS[button]}:{meeting_id}{tail}"


class CardAction(
    ui.DynamicItem[ui.Button[ui.View]],
    template=rf"convene:(?P<action>{SLUGS[Button.END]}|{SLUGS[Button.CANCEL]}):(?P<meeting>{ID})",
):
    """End or Cancel on a meeting card."""

    def __init__(self, button: Button, meeting_id: str) -> None:
        label, style = ("End", discord.ButtonStyle.danger)
        if button is Button.CANCEL:
            label, style = ("Cancel", discord.ButtonStyle.secondary)
        super().__init__(
            ui.Button(label=label, style=style, custom_id=custom_id(button, meeting_id))
        )
        self.button = button
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> CardAction:
        return cls(BUTTON_OF_SLUG[match["action"]], match["meeting"])

    async def callback(self, interaction: Interaction) -> None:
        await press(interaction, self.button, self.meeting_id)


async def press(interaction: Interaction, button: Button, meeting_id: str) -> None:
    """A card button pressed: the verified user asks the service. Ending, cancelling and
    "Get my link" call the provider, so every press defers privately, then answers."""
    caller = caller_for(interaction)
    if caller is None:
        await interaction.response.send_message(GUILD_ONLY, ephemeral=True)
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    reply = await service_of(interaction).handle(caller, button_request(button, meeting_id))
    await interaction.followup.send(render.reply_text(reply), ephemeral=True)


class AnswerAction(
    ui.DynamicItem[ui.Button[ui.View]],
    template=rf"convene:(?P<action>{'|'.join(SLUGS[b] for b in CARD_ANSWERS)}):(?P<meeting>{ID})",
):
    """Going, Maybe, Can't (a second press withdraws), Going to all, Get my link and
    Remind me privately on a meeting card; the answer is the verified user's."""

    def __init__(self, button: Button, meeting_id: str, row: int | None = None) -> None:
        super().__init__(
            ui.Button(
                label=BUTTON_LABELS[button],
                style=ANSWER_STYLES.get(button, discord.ButtonStyle.secondary),
                custom_id=custom_id(button, meeting_id),
            ),
            row=row,
        )
        self.button = button
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> AnswerAction:
        return cls(BUTTON_OF_SLUG[match["action"]], match["meeting"])

    async def callback(self, interaction: Interaction) -> None:
        await press(interaction, self.button, self.meeting_id)


class FeedbackScore(
    ui.DynamicItem[ui.Button[ui.View]],
    template=rf"convene:{SLUGS[Button.RATE]}:(?P<meeting>{ID}):(?P<score>[1-5])",
):
    """A 1–5 rating button on a feedback prompt; a second click changes the rating."""

    def __init__(self, meeting_id: str, score: int) -> None:
        super().__init__(
            ui.Button(
                label=str(score),
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id(Button.RATE, meeting_id, score),
            )
        )
        self.meeting_id = meeting_id
        self.score = score

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackScore:
        return cls(match["meeting"], int(match["score"]))

    async def callback(self, interaction: Interaction) -> None:
        request = button_request(Button.RATE, self.meeting_id, self.score)
        await rate(interaction, self.meeting_id, request)


class CommentButton(
    ui.DynamicItem[ui.Button[ui.View]],
    template=rf"convene:{SLUGS[Button.COMMENT]}:(?P<meeting>{ID})",
):
    """Opens the comment form of a feedback prompt."""

    def __init__(self, meeting_id: str) -> None:
        super().__init__(
            ui.Button(
                label="Add a comment",
                style=discord.ButtonStyle.primary,
                custom_id=custom_id(Button.COMMENT, meeting_id),
            )
        )
        self.meeting_id = meeting_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Interaction, item: ui.Item[Any], match: re.Match[str], /
    ) -> CommentButton:
        return cls(match["meeting"])

    async def callback(self, interaction: Interaction) -> None:
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


async def answer_modal_submit(interaction: Interaction) -> bool:
    """Answer a convene modal submit; False if the submit is not convene's."""
    if interaction.type is not discord.InteractionType.modal_submit or interaction.data is None:
        return False
    # discord.py types `data` as the union of every interaction's; a modal submit's is this.
    data = cast("ModalSubmitInteractionData", interaction.data)
    form_id = str(data.get("custom_id", ""))
    if interaction.response.is_done():
        return False
    if forms.is_schedule_form(form_id):
        await forms.answer_submit(interaction, data)
        return True
    if not form_id.startswith(COMMENT_MODAL_PREFIX):
        return False
    meeting_id = form_id.removeprefix(COMMENT_MODAL_PREFIX)
    comment = _field_value(data.get("components"), COMMENT_FIELD).strip()
    if not re.fullmatch(ID, meeting_id):
        await interaction.response.send_message(UNKNOWN_MEETING, ephemeral=True)
    elif not comment:
        await interaction.response.send_message(EMPTY_COMMENT, ephemeral=True)
    else:
        await rate(interaction, meeting_id, RateMeeting(meeting_id, None, comment))
    return True


def _field_value(components: object, field_id: str) -> str:
    """The value of one text input in a submitted form, whether it sits in an
    action row (`components`) or in a label (`component`). The payload is walked
    as plain JSON: it comes from outside and may not match its declared shape."""
    if isinstance(components, dict):
        if components.get("custom_id") == field_id and "value" in components:
            return str(components["value"] or "")
        components = [components.get("components"), components.get("component")]
    if isinstance(components, list):
        for child in components:
            found = _field_value(child, field_id)
            if found:
                return found
    return ""


async def feedback_caller(interaction: Interaction, meeting_id: str) -> Caller | None:
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
    place = await service_of(interaction).meeting_place(PLATFORM, meeting_id)
    if place is None:
        return None
    user = interaction.user
    return Caller(
        platform=PLATFORM,
        workspace_id=place.workspace_id,
        channel_id=place.channel_id,
        user_id=str(user.id),
        user_name=user.display_name,
        is_admin=interaction.guild_id is not None and is_admin(interaction),
    )


async def rate(interaction: Interaction, meeting_id: str, request: Request) -> None:
    """Record a rating or a comment on `meeting_id` for the verified user; answer privately."""
    caller = await feedback_caller(interaction, meeting_id)
    if caller is None:
        await interaction.response.send_message(UNKNOWN_MEETING, ephemeral=True)
        return
    reply = await service_of(interaction).handle(caller, request)
    await interaction.response.send_message(render.reply_text(reply), ephemeral=True)


PERSISTENT_ITEMS: tuple[type[ui.DynamicItem[ui.Button[ui.View]]], ...] = (
    CardAction,
    AnswerAction,
    FeedbackScore,
    CommentButton,
)


def card_view(card: Card) -> ui.View | None:
    """Join (a link), End and Cancel while the room is open; the answer buttons on a
    second row, Remind me / Get my link on a third, the calendar links on a fourth; no
    buttons once the room is closed."""
    if card.join_url is None:
        return None
    view = ui.View(timeout=None)
    view.add_item(ui.Button(label="Join", style=discord.ButtonStyle.link, url=card.join_url, row=0))
    view.add_item(CardAction(Button.END, card.meeting_id))
    view.add_item(CardAction(Button.CANCEL, card.meeting_id))
    if card.rsvp is not None:
        answers = [Button.GOING, Button.MAYBE, Button.NO]
        if card.series_id:
            answers.append(Button.GOING_ALL)
        for button in answers:
            view.add_item(AnswerAction(button, card.meeting_id, row=1))
        if card.status == "scheduled":
            view.add_item(AnswerAction(Button.REMIND_ME, card.meeting_id, row=2))
    if card.personal_links:
        view.add_item(AnswerAction(Button.MY_LINK, card.meeting_id, row=2))
    if card.calendar is not None:
        links = [("Google", card.calendar.google), ("Outlook", card.calendar.outlook)]
        if card.calendar.ics_url:
            links.insert(0, ("Add to calendar", card.calendar.ics_url))
        for label, url in links:
            view.add_item(ui.Button(label=label, style=discord.ButtonStyle.link, url=url, row=3))
    return view


def feedback_view(meeting_id: str) -> ui.View:
    """Rating buttons and a comment button, for the feedback prompt."""
    view = ui.View(timeout=None)
    for score in range(1, 6):
        view.add_item(FeedbackScore(meeting_id, score))
    view.add_item(CommentButton(meeting_id))
    return view
