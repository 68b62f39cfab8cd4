"""Settings: a TOML file, environment overrides with ``__`` nesting, defaults, and errors
that name the key (and never echo a secret)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, load_settings

TOKEN = "123456789:AAE-secret_token-value"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in list(os.environ):
        if key.startswith("SAUCIENS_"):
            monkeypatch.delenv(key)


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, "utf-8")
    return path


def test_defaults():
    s = load_settings(None)
    assert s.broadcast.messages_per_second == 30
    assert s.broadcast.paid is False and s.broadcast.max_in_flight == 256
    assert s.broadcast.give_up_after_minutes == 1440 and s.broadcast.max_backoff_seconds == 60
    assert s.telegram.token is None
    assert s.telegram.api_base_url == "https://api.telegram.org/bot"
    assert s.telegram.poll_timeout == 10
    assert s.database.path == Path("var/sauciens.sqlite3")
    assert s.access.admin_ids == [] and s.access.organisation == ""
    assert s.alerts.remind_after_minutes == 30 and s.alerts.tracking_update_seconds == 3
    assert (s.logging.level, s.logging.format) == ("INFO", "text")


def test_toml_file_is_read(tmp_path):
    path = toml(
        tmp_path,
        f"""
[telegram]
token = "{TOKEN}"
poll_timeout = 20
[database]
path = "data/x.sqlite3"
[access]
admin_ids = [1, 2]
organisation = "LAPAS"
[broadcast]
messages_per_second = 12.5
[logging]
level = "debug"
format = "json"
""",
    )
    s = load_settings(path, required=True)
    assert s.telegram.token is not None and s.telegram.token.get_secret_value() == TOKEN
    assert s.require_token() == TOKEN
    assert s.telegram.poll_timeout == 20
    assert s.database.path == Path("data/x.sqlite3")
    assert s.access.admin_ids == [1, 2] and s.access.organisation == "LAPAS"
    assert s.broadcast.messages_per_second == 12.5
    assert s.broadcast.max_in_flight == 256  # not in the file: the default
    assert (s.logging.level, s.logging.format) == ("DEBUG", "json")
    assert TOKEN not in repr(s) and TOKEN not in str(s.model_dump())


def test_environment_overrides_the_file_with_double_underscore_nesting(tmp_path, monkeypatch):
    path = toml(tmp_path, "[broadcast]\nmessages_per_second = 10\npaid = false\n[access]\nadmin_ids = [1]\n")
    monkeypatch.setenv("SAUCIENS_BROADCAST__MESSAGES_PER_SECOND", "100")
    monkeypatch.setenv("SAUCIENS_ACCESS__ADMIN_IDS", "[7, 8]")
    monkeypatch.setenv("SAUCIENS_TELEGRAM__TOKEN", TOKEN)
    monkeypatch.setenv("SAUCIENS_DATABASE__PATH", str(tmp_path / "env.sqlite3"))
    s = load_settings(path, required=True)
    assert s.broadcast.messages_per_second == 100
    assert s.broadcast.paid is False  # the rest of the section still comes from the file
    assert s.access.admin_ids == [7, 8]
    assert s.require_token() == TOKEN
    assert s.database.path == tmp_path / "env.sqlite3"


def test_a_missing_default_file_is_fine_a_named_one_is_an_error(tmp_path):
    assert load_settings(tmp_path / "config.toml").broadcast.messages_per_second == 30
    with pytest.raises(ConfigError, match="config file .*missing.toml not found"):
        load_settings(tmp_path / "missing.toml", required=True)


@pytest.mark.parametrize(
    ("env", "file", "key", "env_name"),
    [
        (
            {"SAUCIENS_BROADCAST__MESSAGES_PER_SECOND": "abc"},
            "",
            "broadcast.messages_per_second",
            "SAUCIENS_BROADCAST__MESSAGES_PER_SECOND",
        ),
        ({"SAUCIENS_BROADCAST__MESSAGES_PER_SECOND": "0"}, "", "broadcast.messages_per_second", None),
        ({"SAUCIENS_TELEGRAM__POLL_TIMEOUT": "99"}, "", "telegram.poll_timeout", "SAUCIENS_TELEGRAM__POLL_TIMEOUT"),
        ({}, '[telegram]\ntokn = "x"\n', "telegram.tokn: unknown key", None),
        ({}, "[nonsense]\na = 1\n", "nonsense: unknown key", None),
        ({}, '[logging]\nlevel = "LOUD"\n', "logging.level", None),
        ({}, '[access]\nadmin_ids = "me"\n', "access.admin_ids", None),
        ({"SAUCIENS_TELEGRAM__TOKEN": "not-a-token"}, "", "telegram.token", "SAUCIENS_TELEGRAM__TOKEN"),
    ],
)
def test_errors_name_the_key_in_one_line(tmp_path, monkeypatch, env, file, key, env_name):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_settings(toml(tmp_path, file), required=True)
    message = str(info.value)
    assert key in message and "\n" not in message
    if env_name:
        assert env_name in message


def test_a_bad_token_is_never_echoed(monkeypatch):
    secret = "AAAAsecret-but-wrong-shape"
    monkeypatch.setenv("SAUCIENS_TELEGRAM__TOKEN", secret)
    with pytest.raises(ConfigError) as info:
        load_settings(None)
    assert "telegram.token" in str(info.value) and secret not in str(info.value)


def test_toml_syntax_error_names_the_file(tmp_path):
    path = toml(tmp_path, "[telegram\n")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings(path, required=True)


def test_a_missing_token_is_said_when_it_is_needed():
    s = load_settings(None)
    with pytest.raises(ConfigError, match="telegram.token is required"):
        s.require_token()


def test_overrides_in_code_win(tmp_path):
    path = toml(tmp_path, "[broadcast]\nmessages_per_second = 10\n")
    s = load_settings(path, broadcast={"messages_per_second": 5})
    assert isinstance(s, Settings) and s.broadcast.messages_per_second == 5


def test_the_removed_max_attempts_says_what_replaced_it():
    with pytest.raises(ConfigError, match="max_attempts was removed.*give_up_after_minutes"):
        load_settings(None, broadcast={"max_attempts": 6})
