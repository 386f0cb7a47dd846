"""The composition root: the one place that knows both the core and the platforms.

`bot/` never imports `adapters`; this module builds a `ConveneApp` and hands
it the platforms whose credentials are set (the console when there are none).
The `convene` command starts here and passes `build_app` to `bot.cli`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TextIO

from bot import cli
from bot.app import ConveneApp
from bot.config import Settings
from bot.ports import Platform
from bot.service import MeetingService
from storage.engine import Store


def configured_platforms(
    settings: Settings, service: MeetingService, store: Store, stdin: TextIO | None = None
) -> list[Platform]:
    """Slack and Discord when their credentials are set; otherwise the console.
    A platform's libraries are imported only when it is used."""
    platforms: list[Platform] = []
    if settings.slack_enabled:
        from adapters.slack.platform import build as build_slack

        platforms.append(build_slack(settings, service, store))
    if settings.discord_enabled:
        from adapters.discord.platform import build as build_discord

        platforms.append(build_discord(settings, service))
    if not platforms:
        from adapters.console.platform import ConsolePlatform

        platforms.append(ConsolePlatform(service, stdin=stdin))
    return platforms


def build_app(settings: Settings, *, stdin: TextIO | None = None, **inject: Any) -> ConveneApp:
    """The app with its platforms; `inject` goes to ConveneApp (clock, client, providers)."""
    app = ConveneApp(settings, **inject)
    for platform in configured_platforms(settings, app.service, app.store, stdin):
        app.add_platform(platform)
    return app


async def slack_calls_check(settings: Settings) -> str | None:
    """`convene check`'s line on Slack's call card (its scopes), when Slack is set up."""
    if not settings.slack_enabled:
        return None
    from adapters.slack.calls import calls_check

    return await calls_check(settings)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, build_app=build_app, checks=(slack_calls_check,))


if __name__ == "__main__":
    raise SystemExit(main())
