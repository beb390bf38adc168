"""Configuration from the environment (bot.settings)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.errors import ConfigurationError
from bot.settings import SAMPLE_SITES, Settings, parse_duration


def test_empty_environment_gives_the_embedded_default():
    settings = Settings.from_env({})
    assert settings.anonymous and not settings.graph_enabled
    assert settings.port == 3978 and settings.host == "127.0.0.1"
    assert settings.database == Path("data/bcp.sqlite3")
    assert settings.sites == SAMPLE_SITES and SAMPLE_SITES.exists()
    assert settings.stale_after == timedelta(hours=3)


def test_app_id_turns_on_authentication_and_listens_on_all_interfaces():
    settings = Settings.from_env({"MicrosoftAppId": "abc", "MicrosoftAppPassword": "secret"})
    assert not settings.anonymous and settings.host == "0.0.0.0"
    assert "secret" not in repr(settings.describe())


@pytest.mark.parametrize(
    "text, expected",
    [("3h", timedelta(hours=3)), ("90m", timedelta(minutes=90)), ("1h30m", timedelta(minutes=90)),
     ("45s", timedelta(seconds=45)), ("180", timedelta(minutes=180))],
)
def test_durations(text, expected):
    assert parse_duration("X", text) == expected


@pytest.mark.parametrize(
    "env, named",
    [
        ({"PORT": "http"}, "PORT"),
        ({"BCP_STALE_AFTER": "soon"}, "BCP_STALE_AFTER"),
        ({"BCP_DEFAULT_LOCALE": "fr"}, "BCP_DEFAULT_LOCALE"),
        ({"BCP_TIMEZONE": "Mars/Base"}, "BCP_TIMEZONE"),
        ({"MicrosoftAppType": "Other"}, "MicrosoftAppType"),
    ],
)
def test_bad_setting_names_itself_and_what_is_accepted(env, named):
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env(env)


def test_id_lists_are_split_and_normalised():
    settings = Settings.from_env({"BCP_ADMINS": " AAA, bbb ,,", "BCP_HQ_USERS": "ccc"})
    assert settings.admins == {"aaa", "bbb"} and settings.hq_users == {"ccc"}
