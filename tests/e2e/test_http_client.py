"""The bot with ``telegram.http_client = "httpx"`` (python-telegram-bot's own HTTPXRequest,
for operators behind a proxy): registration and a broadcast work as with the built-in client."""

from __future__ import annotations

from telegram.request import BaseRequest, HTTPXRequest

from bot.messenger.http import FastRequest
from bot.messenger.observed import ObservedRequest
from bot.messenger.requests import TelegramRequest
from bot.sandbox.scenarios import register_in_latvia
from tests.conftest import COORDINATOR_ID


def client(request: BaseRequest) -> BaseRequest:
    """The HTTP client under the wrappers (bot/messenger/requests.py, bot/messenger/observed.py)."""
    assert isinstance(request, TelegramRequest)
    inner = request.inner
    return inner.inner if isinstance(inner, ObservedRequest) else inner


async def test_registration_and_broadcast_over_httpx(sandbox, start_bot):
    bot = await start_bot(telegram={"http_client": "httpx"})
    assert isinstance(client(bot.app.bot.request), HTTPXRequest)
    assert isinstance(client(bot.broadcast_bot.request), HTTPXRequest)

    people = [sandbox.user(400 + i, f"H{i}", language_code="en") for i in range(2)]
    for u in people:
        await register_in_latvia(u, lang="en", place="Ogre")

    coord = sandbox.user(COORDINATOR_ID, "Kārlis", "Koordinators", language_code="en")
    await coord.send("/alert skills=first_aid areas=Ogre need=1 Sandbags at the Ogre bridge")
    preview = await coord.wait_for("Preview")
    assert "2 people will receive it" in preview.text
    await coord.press("🚀 Send to 2")
    await coord.wait_for("📤 Delivery")
    for u in people:
        msg = await u.wait_for("Sandbags at the Ogre bridge")
        assert msg.button_labels[0] == "✅ I can help"
    await people[0].press("I can help")
    await people[0].wait_for("You are confirmed")
    assert sandbox.count("sendMessage", 200) >= 2


async def test_the_builtin_client_is_the_default(start_bot):
    bot = await start_bot()
    assert isinstance(client(bot.app.bot.request), FastRequest)
    assert isinstance(client(bot.broadcast_bot.request), FastRequest)
