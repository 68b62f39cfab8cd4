"""Configuration: a TOML file read by pydantic-settings, every key overridable from the
environment with the prefix ``SAUCIENS_`` and ``__`` for nesting
(``SAUCIENS_TELEGRAM__TOKEN``)."""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{6,}$")


class ConfigError(Exception):
    """A configuration problem, said in one line that names the key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpClient(StrEnum):
    """Which HTTP client talks to the Bot API (``telegram.http_client``)."""

    BUILTIN = "builtin"  # bot/messenger/http.py: little CPU per request, no proxies
    HTTPX = "httpx"  # python-telegram-bot's HTTPXRequest: honours HTTPS_PROXY / ALL_PROXY


class TelegramMode(StrEnum):
    """How updates reach the bot (``telegram.mode``)."""

    POLLING = "polling"  # the bot asks with getUpdates (long polling)
    WEBHOOK = "webhook"  # Telegram POSTs each update to ``telegram.webhook_url``


# Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_port(value: str) -> tuple[str, int]:
    """``"host:port"`` (``"[::1]:8443"`` for IPv6) as (host, port); ValueError if it is not one."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, e.g. 127.0.0.1:8443, not {value!r}")
    return host, int(port)


class TelegramSettings(_Section):
    token: SecretStr | None = None
    api_base_url: str = "https://api.telegram.org/bot"
    api_base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: int = Field(default=10, ge=0, le=50)
    http_client: HttpClient = HttpClient.BUILTIN
    mode: TelegramMode = TelegramMode.POLLING
    # Checked (with validate_default) against ``mode``, declared above them.
    webhook_url: str = Field(default="", validate_default=True)
    webhook_listen: str = "127.0.0.1:8443"
    webhook_secret: SecretStr = Field(default=SecretStr(""), validate_default=True)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            if info.data.get("mode") == TelegramMode.WEBHOOK:
                raise ValueError('required when telegram.mode = "webhook" (the public https:// URL of the bot)')
            return value
        parts = urlsplit(value)
        if parts.scheme == "http" and parts.hostname is not None and is_loopback(parts.hostname):
            return value
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL (plain http:// only for a loopback address)")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _webhook_listen(cls, value: str) -> str:
        host_port(value)
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        secret = value.get_secret_value()
        if not secret:
            if info.data.get("mode") == TelegramMode.WEBHOOK:
                raise ValueError('required when telegram.mode = "webhook" (1-256 of A-Z a-z 0-9 _ -)')
            return value
        if not WEBHOOK_SECRET_RE.match(secret):
            # Never echo the value: it is a secret.
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @property
    def webhook_address(self) -> tuple[str, int]:
        """``webhook_listen`` as (host, port)."""
        return host_port(self.webhook_listen)

    @field_validator("token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TOKEN_RE.match(value.get_secret_value()):
            # Never echo the value: it is a secret.
            raise ValueError("does not look like a bot token from @BotFather (digits:letters)")
        return value


class DatabaseSettings(_Section):
    # A relative path is taken from the config file's folder (from the current directory when no
    # file is read); ``load_settings`` makes it absolute.
    path: Path = Path("var/sauciens.sqlite3")

    def resolved(self, base: Path) -> DatabaseSettings:
        if str(self.path) == ":memory:" or self.path.is_absolute():
            return self
        return self.model_copy(update={"path": (base / self.path.expanduser()).absolute()})


class AccessSettings(_Section):
    admin_ids: list[int] = Field(default_factory=list)
    organisation: str = ""


class BroadcastSettings(_Section):
    messages_per_second: float = Field(default=30.0, gt=0, le=1000)
    paid: bool = False
    # the most requests in flight; the sender uses rate × round trip + a margin of them
    max_in_flight: int = Field(default=256, ge=1, le=1024)
    # a message that keeps failing for passing reasons is retried until it is this old
    give_up_after_minutes: int = Field(default=1440, ge=1)
    # the longest wait between two attempts (and between two probes while Telegram is unreachable)
    max_backoff_seconds: float = Field(default=60.0, ge=0.1, le=3600)

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: object) -> object:
        if isinstance(data, dict) and "max_attempts" in data:
            raise ValueError(
                "max_attempts was removed: messages are retried until they are delivered, their alert "
                "closes or give_up_after_minutes passes; delete the line"
            )
        return data


class AlertSettings(_Section):
    remind_after_minutes: int = Field(default=30, ge=0)
    tracking_update_seconds: float = Field(default=3.0, ge=0.5)
    # a second coordinator approves an alert to more people than this before it is sent
    approval_above: int = Field(default=300, ge=0)
    # ... and every critical alert
    approval_for_critical: bool = True
    # an approval request nobody decided expires after this many minutes
    approval_expires_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)


class PrivacySettings(_Section):
    # answers and delivery rows of alerts closed longer ago than this are anonymised (daily)
    retention_days: int = Field(default=365, ge=1)


class TalkbackSettings(_Section):
    # A volunteer may send at most max_messages to coordinators within window_minutes.
    max_messages: int = Field(default=5, ge=1, le=1000)
    window_minutes: float = Field(default=10.0, gt=0, le=24 * 60)


class ThrottleSettings(_Section):
    # a newcomer (or a flooding volunteer) gets at most one reply this often, in seconds; 0: off
    reply_interval_seconds: float = Field(default=3.0, ge=0, le=60)
    # a registered volunteer is flooding after more than this many updates within flood_window_seconds
    flood_messages: int = Field(default=10, ge=1)
    flood_window_seconds: float = Field(default=10.0, gt=0)
    # the same text or button again within this many seconds is answered once
    repeat_window_seconds: float = Field(default=30.0, ge=0)


class MetricsSettings(_Section):
    # host:port of the /metrics and /healthz listener; empty: off.
    listen: str = ""
    # The gauges read from the database are refreshed this often (seconds).
    refresh_seconds: float = Field(default=15.0, ge=0.1, le=3600)
    # /healthz fails once Telegram has not answered for this long (seconds).
    telegram_silence_seconds: float = Field(default=60.0, ge=0.1)

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        if value:
            host_port(value)
        return value

    @property
    def address(self) -> tuple[str, int] | None:
        """``listen`` as (host, port), or None when metrics are off."""
        return host_port(self.listen) if self.listen else None


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SAUCIENS_", env_nested_delimiter="__", extra="forbid")

    telegram: TelegramSettings = Field(default_factory=TelegramSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    access: AccessSettings = Field(default_factory=AccessSettings)
    broadcast: BroadcastSettings = Field(default_factory=BroadcastSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    talkback: TalkbackSettings = Field(default_factory=TalkbackSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    throttle: ThrottleSettings = Field(default_factory=ThrottleSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)

    def require_token(self) -> str:
        if self.telegram.token is None:
            raise ConfigError(
                "telegram.token is required: put the token from @BotFather in the config file "
                "or in SAUCIENS_TELEGRAM__TOKEN"
            )
        return self.telegram.token.get_secret_value()


def load_settings(path: Path | None, *, required: bool = False, **overrides: Any) -> Settings:
    """Read settings from ``path`` (TOML) and the environment; ``overrides`` are sections (dicts or
    section models) that pydantic validates like the file's.

    A missing file is an error only when ``required`` (the user named it explicitly). A relative
    ``database.path`` (from the file, the environment or the default) is resolved against the
    file's folder, or the current directory when no file is read, so it does not depend on where
    the program was started from."""
    toml_file: Path | None = None
    if path is not None:
        if path.exists():
            toml_file = path
        elif required:
            raise ConfigError(f"config file {path} not found (copy config.example.toml to start)")

    class _FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=toml_file)

    try:
        settings = _FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    except ValueError as exc:  # TOML syntax errors
        raise ConfigError(f"{toml_file}: {exc}") from None
    final = Settings.model_validate(settings.model_dump())
    base = toml_file.parent.resolve() if toml_file is not None else Path.cwd()
    return final.model_copy(update={"database": final.database.resolved(base)})


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"])
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    env = "SAUCIENS_" + "__".join(str(p) for p in err["loc"]).upper()
    return f"invalid configuration: {key}: {msg} (config file or {env}){more}"
