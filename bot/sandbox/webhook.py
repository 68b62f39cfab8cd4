"""Webhook delivery in the sandbox, as Telegram does it: after ``setWebhook`` every update is
POSTed as JSON to the webhook's URL with the ``X-Telegram-Bot-Api-Secret-Token`` header;
an update counts as delivered only on a 2xx answer. Anything else (another status, a refused
or broken connection, no answer in time) is noted as the webhook's last error
(``getWebhookInfo``) and the same update is tried again with growing pauses, in order, until
it is taken or the webhook is deleted. While a webhook is set, ``getUpdates`` answers 409.

Updates are delivered one at a time, oldest first, over one keep-alive connection.
Plain ``http://`` is accepted for loopback addresses only (as for a local Bot API server);
the sandbox does not speak TLS to webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from .errors import bad

SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


@dataclass(frozen=True)
class WebhookAttempt:
    """One POST of an update to the webhook (status 0: no HTTP answer)."""

    time: float  # time.monotonic()
    update_id: int
    status: int
    error: str | None = None


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoAnswer(Exception):
    pass


class WebhookDelivery:
    """The webhook of one sandbox. ``next_update`` gives the oldest undelivered update (or
    None), ``confirm`` removes it once delivered, ``changed`` gives an event set when new
    updates arrive (the sandbox's own queue and signal)."""

    def __init__(
        self,
        next_update: Callable[[], dict[str, Any] | None],
        confirm: Callable[[dict[str, Any]], None],
        changed: Callable[[], asyncio.Event],
        *,
        retry_first: float = 0.05,
        retry_cap: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self._next_update = next_update
        self._confirm = confirm
        self._changed = changed
        self.retry_first = retry_first
        self.retry_cap = retry_cap
        self.timeout = timeout
        self.url = ""
        self.secret: str | None = None
        self.max_connections = 40
        self.allowed_updates: list[str] | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self.attempts: list[WebhookAttempt] = []
        self._task: asyncio.Task[None] | None = None
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    # ---------------------------------------------------------------- Bot API side
    def set(self, url: str, secret: str | None, max_connections: int | None, allowed: list[str] | None) -> None:
        if not url:
            self.delete()
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad("bad webhook: Failed to resolve host: Name or service not known")
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if parts.scheme == "https":
            raise bad("bad webhook: the sandbox delivers to http:// loopback addresses only")
        if secret is not None and secret != "" and not SECRET_RE.match(secret):
            raise bad("secret token contains unallowed characters")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise bad("bad webhook: max_connections must be between 1 and 100")
        if url != self.url:
            self._disconnect()
            self.last_error_date = self.last_error_message = None
        self.url = url
        self.secret = secret or None
        self.max_connections = max_connections or 40
        self.allowed_updates = allowed
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="sandbox-webhook")

    def delete(self) -> None:
        self.url = ""
        self.secret = None
        self.last_error_date = self.last_error_message = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._disconnect()

    def info(self, pending: int) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url, "has_custom_certificate": False, "pending_update_count": pending}
        if self.url:
            out["max_connections"] = self.max_connections
            out["ip_address"] = "127.0.0.1"
            if self.allowed_updates is not None:
                out["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            out["last_error_date"] = self.last_error_date
            out["last_error_message"] = self.last_error_message
        return out

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._disconnect()

    # ---------------------------------------------------------------- delivery
    async def _run(self) -> None:
        failures = 0
        while self.url:
            update = self._next_update()
            if update is None:
                await self._changed().wait()
                continue
            status, error = await self._post(update)
            self.attempts.append(WebhookAttempt(time.monotonic(), update["update_id"], status, error))
            if 200 <= status < 300:
                failures = 0
                self._confirm(update)
                continue
            failures += 1
            self.last_error_date = int(time.time())
            self.last_error_message = error or f"Wrong response from the webhook: {status}"
            await asyncio.sleep(min(self.retry_cap, self.retry_first * 2 ** (failures - 1)))

    async def _post(self, update: dict[str, Any]) -> tuple[int, str | None]:
        parts = urlsplit(self.url)
        body = json.dumps(update, ensure_ascii=False).encode()
        head = [
            f"POST {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
            f"Host: {parts.netloc}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            "Connection: keep-alive",
        ]
        if self.secret is not None:
            head.append(f"X-Telegram-Bot-Api-Secret-Token: {self.secret}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            return await asyncio.wait_for(self._exchange(parts.hostname or "", parts.port or 80, request), self.timeout)
        except TimeoutError:
            self._disconnect()
            return 0, "Read timeout expired"
        except ConnectionRefusedError:
            self._disconnect()
            return 0, "Connection refused"
        except (OSError, _NoAnswer, asyncio.IncompleteReadError, ValueError):
            self._disconnect()
            return 0, "Connection reset by peer"

    async def _exchange(self, host: str, port: int, request: bytes) -> tuple[int, str | None]:
        reused = self._conn is not None
        try:
            status = await self._once(host, port, request)
        except (ConnectionError, asyncio.IncompleteReadError, _NoAnswer):
            self._disconnect()
            if not reused:
                raise
            # a kept-alive connection the other side had closed: once more, on a new one
            status = await self._once(host, port, request)
        if 200 <= status < 300:
            return status, None
        try:
            phrase = " " + HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        return status, f"Wrong response from the webhook: {status}{phrase}"

    async def _once(self, host: str, port: int, request: bytes) -> int:
        if self._conn is None:
            self._conn = await asyncio.open_connection(host, port)
        reader, writer = self._conn
        writer.write(request)
        await writer.drain()
        status, keep = await self._read_answer(reader)
        if not keep:
            self._disconnect()
        return status

    @staticmethod
    async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[1].isdigit():
            raise _NoAnswer()
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await reader.read()
            return int(parts[1]), False
        return int(parts[1]), headers.get("connection", "").lower() != "close"

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._conn[1].close()
            self._conn = None
