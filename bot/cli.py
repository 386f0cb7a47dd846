"""The `convene` command: run the bot, list providers, check credentials."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from bot import __version__
from bot.config import ConfigError, Settings
from bot.observability import configure_logging
from storage.db import DatabaseError

if TYPE_CHECKING:
    from bot.app import ConveneApp

AppBuilder = Callable[[Settings], "ConveneApp"]
PlatformCheck = Callable[[Settings], Awaitable[str | None]]  # one line, or None: nothing to say


def main(
    argv: Sequence[str] | None = None,
    *,
    build_app: AppBuilder | None = None,
    checks: Sequence[PlatformCheck] = (),
) -> int:
    """`build_app` and `checks` come from the composition root (adapters.main), which
    knows the platforms; without them `convene run` cannot start any and `convene
    check` tests the provider alone."""
    parser = argparse.ArgumentParser(
        prog="convene",
        description="A meeting bot for Slack and Discord. With no platform credentials, "
        "`convene run` starts a console bot on Jitsi.",
    )
    parser.add_argument("--version", action="version", version=f"convene {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="start every platform whose credentials are set")
    commands.add_parser("providers", help="list video providers, their set-up and capabilities")
    commands.add_parser("check", help="test the default provider's credentials with one call")
    migrate = commands.add_parser(
        "migrate", help="bring CONVENE_DB's schema up to date, then exit (convene run does too)"
    )
    migrate.add_argument(
        "--copy-from",
        metavar="SQLITE_FILE",
        help="first copy an SQLite deployment's data into the PostgreSQL database CONVENE_DB names",
    )
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    _load_dotenv()
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_format, level, settings.secret_values(), stream=sys.stderr)
        if args.command == "run":
            if build_app is None:
                raise ConfigError("no platforms are wired in; start convene with `convene run`.")
            return _run(build_app, settings)
        if args.command == "providers":
            return _providers(settings)
        if args.command == "check":
            return asyncio.run(_check(settings, checks))
        if args.command == "migrate":
            return asyncio.run(_migrate(settings, args.copy_from))
    except (ConfigError, DatabaseError) as exc:
        print(f"convene: {exc}", file=sys.stderr)
        return 2
    return 0


def _run(build_app: AppBuilder, settings: Settings) -> int:
    async def serve() -> None:
        await build_app(settings).run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


async def _migrate(settings: Settings, copy_from: str | None) -> int:
    """Migrate CONVENE_DB; with `copy_from`, move an SQLite deployment into it."""
    from storage.engine import PostgresStore, open_store

    store = open_store(settings.db_path)
    try:
        await store.open()
        if copy_from:
            if not isinstance(store, PostgresStore):
                raise ConfigError(
                    "--copy-from copies into PostgreSQL: set CONVENE_DB to a postgresql:// URL."
                )
            from storage.copy import copy_sqlite

            counts = await copy_sqlite(copy_from, store)
            copied = ", ".join(f"{rows} {table}" for table, rows in counts.items() if rows)
            print(f"convene: copied {copied or 'nothing'} from {copy_from}.")
        print(f"convene: the {store.dialect} database is up to date.")
    finally:
        await store.close()
    return 0


def _providers(settings: Settings) -> int:
    """Print one row per provider: configured or which variable is missing, and capabilities."""
    from bot.ports import system_clock
    from bot.providers import LABELS, ProviderPool
    from bot.providers.http import make_client

    pool = ProviderPool(settings, make_client(), system_clock)
    print(f"{'provider':<10} {'status':<40} capabilities")
    for name, label in LABELS.items():
        missing = pool.missing(name)
        if missing:
            status, features = f"set {' and '.join(missing)}", "-"
        else:
            capabilities = pool.get(name).capabilities
            features = ", ".join(
                field.replace("_", " ") for field, on in vars(capabilities).items() if on
            )
            status = "ready" + (" (default)" if name == settings.provider else "")
        print(f"{label:<10} {status:<40} {features or 'join link only'}")
    return 0


async def _check(settings: Settings, checks: Sequence[PlatformCheck] = ()) -> int:
    """One harmless authenticated call to the default provider, reported in plain words,
    then one line from each platform check that has something to say (informational:
    a platform feature that is off does not fail the check)."""
    from bot.ports import system_clock
    from bot.providers import LABELS, ProviderPool
    from bot.providers.errors import ProviderError
    from bot.providers.http import make_client

    label = LABELS[settings.provider]
    async with make_client() as client:
        try:
            await ProviderPool(settings, client, system_clock).get(settings.provider).check()
        except ProviderError as exc:
            print(f"{label}: {exc}")
            code = 1
        else:
            print(f"{label}: ready; the provider accepted convene's credentials.")
            code = 0
    for check in checks:
        line = await check(settings)
        if line:
            print(line)
    return code


def _load_dotenv() -> None:
    """Read ./.env if present; real environment variables win."""
    from dotenv import load_dotenv

    load_dotenv(override=False)
