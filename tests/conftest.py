"""Fixtures: the Bot API sandbox on loopback, and the real bot (PTB's network stack, a real
SQLite file) started against it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.app import Sauciens
from bot.sandbox.server import BotApiSandbox
from bot.settings import Settings, load_settings

TOKEN = "123456:SANDBOX-test-token"
COORDINATOR_ID = 9000
WEBHOOK_SECRET = "sandbox-webhook-secret_1"


def free_port() -> int:
    """A loopback port free right now (for listeners whose URL must be known in advance)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(sandbox: BotApiSandbox, db_path: Path, **overrides: dict) -> Settings:
    base: dict = {
        "telegram": {
            "token": TOKEN,
            "api_base_url": sandbox.base_url,
            "api_base_file_url": sandbox.base_file_url,
            "poll_timeout": 1,
        },
        "database": {"path": str(db_path)},
        "access": {"admin_ids": [COORDINATOR_ID], "organisation": "LAPAS"},
        # two-person approval is off unless a test turns it on (tests/e2e/test_approval.py)
        "alerts": {
            "tracking_update_seconds": 0.5,
            "remind_after_minutes": 0,
            "approval_for_critical": False,
            "approval_above": 1_000_000,
        },
        # tests go through registration faster than any person: the throttle is off unless a test turns it on
        "throttle": {"reply_interval_seconds": 0},
    }
    for section, values in overrides.items():
        base.setdefault(section, {}).update(values)
    return load_settings(None, **base)


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    sb = BotApiSandbox(TOKEN, chat_burst=30)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "sauciens.sqlite3"


@pytest.fixture
def telegram_mode() -> str:
    """How the bots of a test get updates; a test runs in webhook mode too with
    ``@pytest.mark.parametrize("telegram_mode", ["polling", "webhook"])``."""
    return "polling"


@pytest.fixture
def webhook_settings() -> dict:
    """Webhook mode on a free loopback port (the same one for every bot of the test)."""
    port = free_port()
    return {
        "mode": "webhook",
        "webhook_url": f"http://127.0.0.1:{port}/telegram/updates",
        "webhook_listen": f"127.0.0.1:{port}",
        "webhook_secret": WEBHOOK_SECRET,
    }


BotFactory = Callable[..., Awaitable[Sauciens]]


@pytest.fixture
async def start_bot(
    sandbox: BotApiSandbox, db_path: Path, telegram_mode: str, webhook_settings: dict
) -> AsyncIterator[BotFactory]:
    """``await start_bot(**settings_overrides)`` starts a bot (in ``telegram_mode``); all are
    stopped at the end."""
    running: list[Sauciens] = []

    async def factory(**overrides: dict) -> Sauciens:
        if telegram_mode == "webhook":
            overrides = {**overrides, "telegram": {**webhook_settings, **overrides.get("telegram", {})}}
        bot = Sauciens(make_settings(sandbox, db_path, **overrides))
        await bot.start()
        running.append(bot)
        return bot

    yield factory
    for bot in running:
        if bot.app.running:
            await bot.stop()


@pytest.fixture
async def bot(start_bot: BotFactory) -> Sauciens:
    return await start_bot()
