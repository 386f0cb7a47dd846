"""DiscordMessenger: the service's public voice in a Discord channel.

Error tree (what the service and lifecycle see; the text is safe to show):
- 403 Missing Access/Permissions, 404 Unknown Channel/Message, a user who does
  not accept DMs → DeliveryError(permanent=True): retrying cannot help.
- 429 never surfaces: discord.py waits for the bucket and retries by itself.
- any other HTTP error, a dropped connection, a timeout → DeliveryError(permanent=False).
No Discord exception text is passed on: it may echo the request.

Mentions. Every message is sent with an explicit `allowed_mentions`: cards with none
(the tally names people without pinging them), notices with exactly the users the
notice mentions (`Notice.mentions`, real snowflakes only), never @everyone, @here or
a role, whatever a title says.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TypeVar

import aiohttp
import discord
from discord.utils import MISSING

from adapters.discord import render
from adapters.discord.views import card_view, feedback_view
from bot.messages import Card, Notice, NoticeKind, Private
from bot.models import Place
from bot.ports import DeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")
CANNOT_DM = 50007  # Discord's code for "Cannot send messages to this user"
NO_MENTIONS = discord.AllowedMentions.none()


def only_users(user_ids: tuple[str, ...]) -> discord.AllowedMentions:
    """Pings for exactly these users (snowflakes already checked), no one else."""
    return discord.AllowedMentions(
        everyone=False,
        roles=False,
        replied_user=False,
        users=[discord.Object(int(user_id)) for user_id in user_ids],
    )


async def deliver(action: Awaitable[T], what: str) -> T:
    """Await a Discord call, turning its failures into DeliveryError sentences."""
    try:
        return await action
    except discord.Forbidden as exc:
        log.warning("Discord refused to %s (HTTP 403, code %s)", what, exc.code)
        if exc.code == CANNOT_DM:
            raise DeliveryError(
                "convene cannot send you a direct message: allow direct messages from this "
                "server's members in your privacy settings.",
                permanent=True,
            ) from None
        raise DeliveryError(
            f"convene is not allowed to {what} here; give it the View Channel, Send Messages "
            "and Embed Links permissions in this channel.",
            permanent=True,
        ) from None
    except discord.NotFound as exc:
        log.warning("Discord could not %s (HTTP 404, code %s)", what, exc.code)
        raise DeliveryError(
            f"convene could not {what}: the channel or message no longer exists.", permanent=True
        ) from None
    except discord.HTTPException as exc:
        log.warning("Discord failed to %s (HTTP %s, code %s)", what, exc.status, exc.code)
        raise DeliveryError(
            f"Discord did not let convene {what} just now (HTTP {exc.status}); it will try again."
        ) from None
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        log.warning("could not reach Discord to %s: %s", what, type(exc).__name__)
        raise DeliveryError(
            f"convene could not reach Discord to {what}; it will try again."
        ) from None


class DiscordMessenger:
    """Posts through the client's REST session; needs no gateway state or cache."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    def _channel(self, place: Place) -> discord.PartialMessageable:
        guild_id = int(place.workspace_id) if place.workspace_id.isdigit() else None
        return self._client.get_partial_messageable(int(place.channel_id), guild_id=guild_id)

    @staticmethod
    def is_user_id(user_id: str) -> bool:
        """A Discord user id: who may be mentioned, messaged or asked for feedback."""
        return render.is_user_id(user_id)

    async def post_card(self, place: Place, card: Card) -> str | None:
        channel = self._channel(place)
        view = card_view(card)
        embed = render.card_embed(card)
        send = channel.send(
            embed=embed, view=MISSING if view is None else view, allowed_mentions=NO_MENTIONS
        )
        message = await deliver(send, "post the meeting card")
        return str(message.id)

    async def update_card(self, place: Place, message_ref: str, card: Card) -> None:
        message = self._channel(place).get_partial_message(int(message_ref))
        # view=None sends an empty component list: Join/End/Cancel disappear.
        edit = message.edit(
            embed=render.card_embed(card), view=card_view(card), allowed_mentions=NO_MENTIONS
        )
        await deliver(edit, "update the meeting card")

    async def post_notice(self, place: Place, notice: Notice, thread_ref: str | None) -> None:
        mentions = only_users(render.mentioned(notice.mentions))
        reference = None
        if thread_ref and thread_ref.isdigit():
            reference = discord.MessageReference(
                message_id=int(thread_ref),
                channel_id=int(place.channel_id),
                fail_if_not_exists=False,
            )
        channel = self._channel(place)
        text = render.notice_text(notice)
        # A feedback prompt carries the rating buttons and "Add a comment".
        view = feedback_view(notice.meeting_id) if notice.kind is NoticeKind.FEEDBACK else MISSING
        if reference is None:
            send = channel.send(text, allowed_mentions=mentions, view=view)
        else:
            send = channel.send(text, reference=reference, allowed_mentions=mentions, view=view)
        await deliver(send, "post in this channel")

    async def send_private(self, place: Place, user_id: str, note: Private) -> None:
        """A direct message: outside an interaction Discord has no ephemeral messages.

        A feedback note carries the rating buttons. People known only by a provider's
        participant name (not a Discord user id) cannot be messaged and are skipped.
        """
        if not render.is_user_id(user_id):
            log.info("no direct message: %r is not a Discord user id", user_id[:40])
            return
        dm = await deliver(
            self._client.create_dm(discord.Object(int(user_id))), "open a direct message"
        )
        meeting_id = note.feedback_meeting_id
        view = feedback_view(meeting_id) if meeting_id else MISSING
        send = dm.send(render.private_text(note), view=view, allowed_mentions=NO_MENTIONS)
        await deliver(send, "send you a direct message")

    async def send_direct(self, place: Place, user_id: str, note: Private) -> None:
        """A private reminder: on Discord every private note outside an interaction is
        already a direct message."""
        await self.send_private(place, user_id, note)
