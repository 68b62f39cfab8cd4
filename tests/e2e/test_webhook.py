"""Webhook mode through the sandbox: the bot registers its webhook with the secret, the
sandbox POSTs updates to PTB's webhook server on loopback, a forged request is refused,
updates that could not be delivered are retried, and polling takes over again afterwards.

(Registration, a restart mid-registration and an alert with answers also run in webhook mode:
tests/e2e/test_registration.py and tests/e2e/test_alert_flow.py.)"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from urllib.parse import urlsplit

import pytest

from bot.sandbox.webhook import CONFLICT
from tests.conftest import WEBHOOK_SECRET

WEBHOOK = pytest.mark.parametrize("telegram_mode", ["webhook"])


async def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url`` as an outsider would; the HTTP status of the answer."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = [f"POST {parts.path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}", "Connection: close"]
    head += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


def start_update(update_id: int, user_id: int, text: str = "/start") -> bytes:
    user = {"id": user_id, "is_bot": False, "first_name": "Mallory", "language_code": "en"}
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Mallory"},
        "from": user,
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def eventually(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


def rows_about(bot, external_id: int) -> int:
    """People and conversation rows of ``external_id``."""
    with sqlite3.connect(bot.settings.database.path) as conn:
        return sum(
            conn.execute(f"SELECT count(*) FROM {table} WHERE external_id = ?", (str(external_id),)).fetchone()[0]
            for table in ("people", "sessions")
        )


@WEBHOOK
async def test_the_webhook_is_set_with_the_secret_and_updates_arrive_by_post(sandbox, bot):
    info = sandbox.webhook.info(sandbox.pending_updates)
    assert info["url"] == bot.settings.telegram.webhook_url
    assert sandbox.webhook.secret == WEBHOOK_SECRET
    u = sandbox.user(701, "Ilze", language_code="en")
    await u.send("/help")
    await u.wait_for("/profile")
    assert sandbox.count("getUpdates") == 0 and sandbox.count("setWebhook", 200) == 1
    assert [a.status for a in sandbox.webhook.attempts] == [200]
    # a second instance cannot poll meanwhile, as with Telegram
    with pytest.raises(Exception, match="Conflict"):
        await bot.app.bot.get_updates(timeout=0)
    assert sandbox.count("getUpdates", 409) == 1 and CONFLICT.startswith("Conflict")


@WEBHOOK
async def test_a_request_without_the_right_secret_gets_403_and_changes_nothing(sandbox, bot):
    url = bot.settings.telegram.webhook_url
    mallory = sandbox.user(702, "Mallory", language_code="en")  # the chat exists; the bot has not heard of her
    wrong = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
    assert await post(url, start_update(900_000_001, mallory.id), wrong) == 403
    assert await post(url, start_update(900_000_002, mallory.id), {"Content-Type": "application/json"}) == 403
    await asyncio.sleep(0.5)
    assert mallory.messages == [] and rows_about(bot, mallory.id) == 0
    assert bot.metrics.registry.get_sample_value("sauciens_updates_total") == 0

    # the same request with the secret is taken: what was refused would have had an effect
    right = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    assert await post(url, start_update(900_000_003, mallory.id), right) == 200
    await mallory.wait_for()
    await eventually(lambda: bot.metrics.registry.get_sample_value("sauciens_updates_total") == 1)


@WEBHOOK
async def test_updates_are_retried_while_the_bot_is_down_and_delivered_once_it_is_back(sandbox, bot, start_bot):
    u = sandbox.user(703, "Pēteris", language_code="en")
    await bot.stop()  # the webhook stays set at Telegram: updates wait there
    await u.send("/help")
    await asyncio.sleep(0.4)
    info = sandbox.webhook.info(sandbox.pending_updates)
    assert info["pending_update_count"] == 1 and info["last_error_message"] == "Connection refused"
    failures = [a for a in sandbox.webhook.attempts if a.status != 200]
    assert len(failures) >= 2  # tried again, with pauses in between
    await start_bot()
    await u.wait_for("/profile")
    assert sandbox.webhook.attempts[-1].status == 200
    assert sandbox.webhook.info(sandbox.pending_updates)["pending_update_count"] == 0
    assert len(u.messages) == 1  # delivered once


@WEBHOOK
async def test_the_bot_refusing_an_update_is_retried(sandbox, bot):
    """A non-2xx answer (here: the webhook's path is wrong for a while) is no delivery."""
    correct = sandbox.webhook.url
    sandbox.webhook.url = correct.replace("/telegram/updates", "/elsewhere")
    u = sandbox.user(704, "Rūta", language_code="en")
    await u.send("/help")
    await asyncio.sleep(0.3)
    assert sandbox.webhook.info(0)["last_error_message"] == "Wrong response from the webhook: 404 Not Found"
    assert not u.messages
    sandbox.webhook.url = correct
    await u.wait_for("/profile", timeout=5)
    assert len(u.messages) == 1


@pytest.mark.parametrize("telegram_mode", ["polling"])
async def test_polling_after_webhook_mode_deletes_the_webhook(sandbox, start_bot, webhook_settings):
    first = await start_bot(telegram=webhook_settings)
    assert sandbox.webhook.active
    await first.stop()
    await start_bot()  # telegram.mode = "polling"
    assert not sandbox.webhook.active and sandbox.count("deleteWebhook", 200) >= 1
    u = sandbox.user(705, "Ints", language_code="en")
    await u.send("/help")
    await u.wait_for("/profile")
    assert sandbox.count("getUpdates", 200) >= 1
