"""Build a request, ask the service, answer the caller privately: every `/meet`
subcommand and the scheduling form end here.

Discord wants an answer within 3 s, so `slow` requests (they call a video provider)
defer at once, privately (a followup after a public defer cannot be ephemeral), and
answer with an ephemeral followup. A GrammarError while building becomes one private
sentence, shown literally (it quotes what was typed), and nothing is asked of the service.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from adapters.discord import render
from adapters.discord.context import GUILD_ONLY, Interaction, caller_for, service_of
from bot.requests import GrammarError, Request

Build = Callable[[ZoneInfo], Request]  # the caller's zone, to read times in


async def run(interaction: Interaction, build: Build, *, slow: bool) -> None:
    """Build the request (grammar errors answer at once), then answer privately."""
    caller = caller_for(interaction)
    if caller is None:
        await interaction.response.send_message(GUILD_ONLY, ephemeral=True)
        return
    service = service_of(interaction)
    try:
        request = build(await service.zone_for(caller))
    except GrammarError as exc:
        await interaction.response.send_message(f"⚠️ {render.literal(str(exc))}", ephemeral=True)
        return
    if slow:
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await service.handle(caller, request)
        await interaction.followup.send(render.reply_text(reply), ephemeral=True)
        return
    reply = await service.handle(caller, request)
    await interaction.response.send_message(render.reply_text(reply), ephemeral=True)
