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
