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
    assert s.database.path == Path.cwd() / "var" / "sauciens.sqlite3"  # no config file: the current folder
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
    assert s.database.path == tmp_path / "data" / "x.sqlite3"  # relative to the config file's folder
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


def test_webhook_and_metrics_defaults():
    s = load_settings(None)
    assert s.telegram.mode == "polling" and s.telegram.webhook_url == ""
    assert s.telegram.webhook_address == ("127.0.0.1", 8443)
    assert s.telegram.webhook_secret.get_secret_value() == ""
    assert s.metrics.listen == "" and s.metrics.address is None
    assert (s.metrics.refresh_seconds, s.metrics.telegram_silence_seconds) == (15, 60)


def test_webhook_mode(tmp_path):
    path = toml(
        tmp_path,
        '[telegram]\nmode = "webhook"\nwebhook_url = "https://bot.example.org/tg/hook"\n'
        'webhook_listen = "0.0.0.0:8080"\nwebhook_secret = "abc-DEF_123"\n[metrics]\nlisten = "[::1]:9464"\n',
    )
    s = load_settings(path, required=True)
    assert s.telegram.mode == "webhook" and s.telegram.webhook_address == ("0.0.0.0", 8080)
    assert s.telegram.webhook_secret.get_secret_value() == "abc-DEF_123"
    assert s.metrics.address == ("::1", 9464)


@pytest.mark.parametrize(
    ("telegram", "key", "says"),
    [
        (
            {"mode": "webhook", "webhook_secret": "abc"},
            "telegram.webhook_url",
            'required when telegram.mode = "webhook"',
        ),
        (
            {"mode": "webhook", "webhook_url": "https://bot.example.org/hook"},
            "telegram.webhook_secret",
            'required when telegram.mode = "webhook"',
        ),
        ({"webhook_url": "http://bot.example.org/hook"}, "telegram.webhook_url", "plain http:// only for a loopback"),
        ({"webhook_url": "ftp://127.0.0.1/hook"}, "telegram.webhook_url", "must be an https:// URL"),
        ({"webhook_listen": "8443"}, "telegram.webhook_listen", "expected host:port"),
        ({"mode": "pull"}, "telegram.mode", "'polling' or 'webhook'"),
    ],
)
def test_webhook_errors_name_the_key(telegram, key, says):
    with pytest.raises(ConfigError) as info:
        load_settings(None, telegram=telegram)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"invalid configuration: {key}: ") and says in message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8443/hook", "http://localhost/hook", "http://[::1]:80/x"])
def test_plain_http_webhooks_are_accepted_on_loopback(url):
    s = load_settings(None, telegram={"mode": "webhook", "webhook_url": url, "webhook_secret": "x"})
    assert s.telegram.webhook_url == url


def test_a_bad_webhook_secret_is_never_echoed():
    with pytest.raises(ConfigError) as info:
        load_settings(None, telegram={"webhook_secret": "has spaces in it"})
    assert "telegram.webhook_secret" in str(info.value) and "has spaces" not in str(info.value)


def test_metrics_listen_is_checked():
    with pytest.raises(ConfigError, match=r"^invalid configuration: metrics.listen: .*expected host:port"):
        load_settings(None, metrics={"listen": "9464"})


def test_a_relative_database_path_is_taken_from_the_config_files_folder(tmp_path, monkeypatch):
    tmp_path = tmp_path.resolve()
    conf = tmp_path / "etc"
    conf.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    path = conf / "config.toml"
    path.write_text('[database]\npath = "db/bot.sqlite3"\n', "utf-8")
    assert load_settings(path, required=True).database.path == conf / "db" / "bot.sqlite3"
    path.write_text("", "utf-8")  # the default, from the file's folder too
    assert load_settings(path, required=True).database.path == conf / "var" / "sauciens.sqlite3"
    monkeypatch.setenv("SAUCIENS_DATABASE__PATH", "from-env.sqlite3")
    assert load_settings(path, required=True).database.path == conf / "from-env.sqlite3"
    monkeypatch.setenv("SAUCIENS_DATABASE__PATH", str(tmp_path / "abs.sqlite3"))
    assert load_settings(path, required=True).database.path == tmp_path / "abs.sqlite3"
    monkeypatch.delenv("SAUCIENS_DATABASE__PATH")
    relative_config = Path("..") / "etc" / "config.toml"  # a relative --config, from the current folder
    assert load_settings(relative_config, required=True).database.path == conf / "var" / "sauciens.sqlite3"
    assert load_settings(None).database.path == elsewhere / "var" / "sauciens.sqlite3"
    assert load_settings(None, database={"path": ":memory:"}).database.path == Path(":memory:")


def test_the_removed_max_attempts_says_what_replaced_it():
    with pytest.raises(ConfigError, match="max_attempts was removed.*give_up_after_minutes"):
        load_settings(None, broadcast={"max_attempts": 6})
