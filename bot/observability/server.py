"""A small HTTP/1.0-style server on the bot's own event loop for ``GET /metrics`` and
``GET /healthz`` (one request per connection). It touches nothing itself: the metrics are
rendered from memory and the health check is the application's ``Health``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from prometheus_client import CONTENT_TYPE_LATEST

from bot.application.health import HealthReport
from bot.logs import event

log = logging.getLogger(__name__)

_HEAD_LIMIT = 16 * 1024
_READ_TIMEOUT = 10.0


class MonitoringServer:
    def __init__(
        self,
        metrics: Callable[[], bytes],
        health: Callable[[], Awaitable[HealthReport]],
        host: str,
        port: int,
    ) -> None:
        self._metrics = metrics
        self._health = health
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port, limit=_HEAD_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]  # the one chosen, for port 0
        event(log, "monitoring_listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _READ_TIMEOUT)
            status, ctype, body = await self._answer(head.decode("latin-1"))
            writer.write(
                f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1")
            )
            if not head.startswith(b"HEAD "):
                writer.write(body)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()

    async def _answer(self, head: str) -> tuple[HTTPStatus, str, bytes]:
        method, _, rest = head.partition(" ")
        path = rest.partition(" ")[0].partition("?")[0]
        if method not in ("GET", "HEAD"):
            return HTTPStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", b"GET only\n"
        if path == "/metrics":
            return HTTPStatus.OK, CONTENT_TYPE_LATEST, self._metrics()
        if path == "/healthz":
            report = await self._health()
            if not report.healthy:
                event(log, "unhealthy", reason=report.reason, level=logging.WARNING)
            status = HTTPStatus.OK if report.healthy else HTTPStatus.SERVICE_UNAVAILABLE
            return status, "text/plain; charset=utf-8", (report.reason + "\n").encode()
        return HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found: /metrics and /healthz are served\n"
