"""The sandbox's webhooks, against a small receiver in the test: setWebhook's checks,
delivery by POST with the secret header, retries in order, getUpdates refused meanwhile."""

from __future__ import annotations

import asyncio
import json

import pytest
from telegram.error import BadRequest, Conflict

from bot.sandbox.server import BotApiSandbox
from tests.sandbox.test_sandbox import make_bot

SECRET = "s3cret_-token"


class Receiver:
    """An HTTP endpoint on loopback that records each POST and answers ``statuses`` in turn
    (then 200)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[dict[str, str], dict]] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self.arrived = asyncio.Event()

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                lines = head.split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers["content-length"]))
                self.received.append(({"path": lines[0].split()[1], **headers}, json.loads(body)))
                self.arrived.set()
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n".encode())
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def wait(self, count: int, timeout: float = 5.0) -> None:
        async def enough() -> None:
            while len(self.received) < count:
                self.arrived.clear()
                await self.arrived.wait()

        await asyncio.wait_for(enough(), timeout)


@pytest.fixture
async def sandbox():
    sb = BotApiSandbox(enforce_limits=False, webhook_retry_cap=0.2)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


@pytest.fixture
async def receiver():
    r = await Receiver(500, 403).start()
    try:
        yield r
    finally:
        await r.stop()


async def test_set_webhook_checks_the_url_and_the_secret(sandbox):
    bot = await make_bot(sandbox)
    try:
        with pytest.raises(BadRequest, match="(?i)https url must be provided"):
            await bot.set_webhook("http://example.org/hook")
        with pytest.raises(BadRequest, match="(?i)secret token contains unallowed characters"):
            await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="no spaces")
        info = await bot.get_webhook_info()
        assert (info.url, info.pending_update_count) == ("", 0)
    finally:
        await bot.shutdown()


async def test_updates_are_posted_with_the_secret_and_retried_in_order(sandbox, receiver):
    bot = await make_bot(sandbox)
    try:
        u = sandbox.user(10, "Anna")
        await u.send("first")
        await u.send("second")
        assert await bot.set_webhook(receiver.url, secret_token=SECRET, allowed_updates=["message"])
        await receiver.wait(4)  # 500, 403, then both updates
        texts = [body["message"]["text"] for _, body in receiver.received]
        assert texts == ["first", "first", "first", "second"]
        for headers, _ in receiver.received:
            assert headers["path"] == "/hook"
            assert headers["content-type"] == "application/json"
            assert headers["x-telegram-bot-api-secret-token"] == SECRET
        info = await bot.get_webhook_info()
        assert info.url == receiver.url and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
        assert info.allowed_updates == ("message",)
        assert [a.status for a in sandbox.webhook.attempts] == [500, 403, 200, 200]
        assert sandbox.pending_updates == 0
    finally:
        await bot.shutdown()


async def test_get_updates_is_refused_while_a_webhook_is_set(sandbox, receiver):
    bot = await make_bot(sandbox)
    other = await make_bot(sandbox)
    try:
        polling = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.1)
        await other.set_webhook(receiver.url)
        with pytest.raises(Conflict, match="(?i)terminated by setwebhook request"):
            await polling
        with pytest.raises(Conflict, match="(?i)can.t use getupdates method while webhook is active"):
            await bot.get_updates(timeout=0)
        await receiver.stop()  # nothing takes updates now
        u = sandbox.user(11, "Jānis")
        await u.send("kept")
        await other.delete_webhook()  # pending updates are kept unless dropped
        updates = await bot.get_updates(timeout=1)
        assert [upd.message.text for upd in updates if upd.message] == ["kept"]
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await bot.shutdown()
        await other.shutdown()
