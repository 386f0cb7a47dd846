"""Who is asking, as Discord verified it, and which service answers.

Everything about the caller comes from the interaction Discord signed and
delivered (its member and resolved permissions), never from ids carried in a
button's custom_id or an option value.
"""

from __future__ import annotations

import discord

from bot.models import Caller
from bot.service import MeetingService

PLATFORM = "discord"
GUILD_ONLY = "convene works inside a server's channels, not in direct messages."

Interaction = discord.Interaction[discord.Client]
"""What every handler receives. The client is always a ConveneClient, but discord.py's
callbacks are generic over any Client, so handlers accept any and check (`service_of`)."""


def service_of(interaction: Interaction) -> MeetingService:
    """The service the receiving client was built with (see platform.ConveneClient)."""
    service = getattr(interaction.client, "service", None)
    if not isinstance(service, MeetingService):
        raise RuntimeError("this discord.Client was not built by adapters.discord.platform")
    return service


def is_admin(interaction: Interaction) -> bool:
    """Manage Server (or Administrator) as Discord resolved it for this member here."""
    perms = interaction.permissions
    return bool(perms.manage_guild or perms.administrator)


def caller_for(interaction: Interaction) -> Caller | None:
    """The neutral Caller, or None outside a guild channel."""
    if interaction.guild_id is None or interaction.channel_id is None:
        return None
    user = interaction.user
    return Caller(
        platform=PLATFORM,
        workspace_id=str(interaction.guild_id),
        channel_id=str(interaction.channel_id),
        user_id=str(user.id),
        user_name=user.display_name,
        is_admin=is_admin(interaction),
    )
