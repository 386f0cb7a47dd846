"""Configuration errors name the variable; defaults match the README's table."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings


def test_defaults_need_no_environment_at_all() -> None:
    settings = Settings.from_env({})
    assert settings.provider == "jitsi"
    assert settings.db_path == "./convene.db"
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 3000)
    assert settings.jitsi_url == "https://meet.jit.si"
    assert not settings.slack_enabled and not settings.discord_enabled


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"CONVENE_PROVIDER": "zoom"}, "CONVENE_PROVIDER"),
        ({"CONVENE_HTTP_PORT": "http"}, "CONVENE_HTTP_PORT"),
        ({"CONVENE_SECRET_KEY": "hunter2"}, "CONVENE_SECRET_KEY"),
        ({"WHEREBY_API_URL": "api.whereby.dev"}, "WHEREBY_API_URL"),
        ({"DISCORD_GATEWAY_URL": "https://gateway"}, "DISCORD_GATEWAY_URL"),
        ({"DISCORD_GUILD_IDS": "123,abc"}, "DISCORD_GUILD_IDS"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(env)


def test_secret_values_never_appear_in_repr() -> None:
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-very-secret", "EDCAST_API_KEY": "k-123"})
    assert "xoxb-very-secret" not in repr(settings) and "k-123" not in repr(settings)


def test_metered_base_url_follows_the_app_name() -> None:
    settings = Settings.from_env({"METERED_APP": "acme", "METERED_SECRET_KEY": "s"})
    assert settings.metered_base_url == "https://acme.metered.live/api/v1"


def test_log_format_defaults_to_text_and_accepts_json() -> None:
    assert Settings.from_env({}).log_format == "text"
    assert Settings.from_env({"CONVENE_LOG_FORMAT": "JSON"}).log_format == "json"


@pytest.mark.parametrize(
    ("env", "shards"),
    [
        ({}, (None, None)),
        ({"DISCORD_SHARD_COUNT": "4"}, (4, None)),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "0,1,2"}, (4, (0, 1, 2))),
        ({"DISCORD_SHARD_COUNT": "8", "DISCORD_SHARD_IDS": "4-7"}, (8, (4, 5, 6, 7))),
        ({"DISCORD_SHARD_COUNT": "8", "DISCORD_SHARD_IDS": "6, 0-1"}, (8, (0, 1, 6))),
    ],
)
def test_discord_shards_take_lists_and_ranges(
    env: dict[str, str], shards: tuple[int | None, tuple[int, ...] | None]
) -> None:
    settings = Settings.from_env(env)
    assert (settings.discord_shard_count, settings.discord_shard_ids) == shards


@pytest.mark.parametrize(
    ("env", "variable", "says"),
    [
        ({"CONVENE_LOG_FORMAT": "yaml"}, "CONVENE_LOG_FORMAT", "text or json"),
        ({"DISCORD_SHARD_COUNT": "0"}, "DISCORD_SHARD_COUNT", "at least 1"),
        ({"DISCORD_SHARD_COUNT": "two"}, "DISCORD_SHARD_COUNT", "whole number"),
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS", "needs DISCORD_SHARD_COUNT"),
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "1,2"}, "DISCORD_SHARD_IDS", "0 to 1"),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "3-1"}, "DISCORD_SHARD_IDS", "0-3"),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "0,,1"}, "DISCORD_SHARD_IDS", "0,1,2"),
        ({"DISCORD_SHARD_COUNT": "4", "DISCORD_SHARD_IDS": "-1"}, "DISCORD_SHARD_IDS", "0-3"),
    ],
)
def test_bad_log_format_and_shards_get_one_sentence(
    env: dict[str, str], variable: str, says: str
) -> None:
    with pytest.raises(ConfigError, match=variable) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert says in message
    assert message.endswith(".") and message.count(". ") == 0  # one sentence
