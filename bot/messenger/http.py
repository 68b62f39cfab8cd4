"""A small HTTP/1.1 client for the Bot API, as python-telegram-bot's ``BaseRequest``.

Why not PTB's default (httpx): measured on this project's 2-core target, httpx spends
about 1.6 ms of CPU per request even when spread over several pools (12 ms in one shared
pool), while this client spends about 0.3 ms; a burst of a thousand button taps, two
requests each, is CPU-bound in the HTTP client otherwise (bench/README.md). The Bot API
needs little of HTTP: form-encoded POSTs to one host, JSON answers, keep-alive. So:

- a pool of keep-alive connections per origin (``connections`` at most), most recently
  used first; ``https`` verifies certificates (certifi's bundle when present, as httpx);
- answers framed by ``Content-Length``, chunked transfer encoding or the end of the
  connection;
- PTB's timeouts: connect, write, read (the whole answer) and pool (waiting for a free
  connection); anything that goes wrong on the wire discards the connection;
- every Bot API call is a POST, so a request is never sent twice unless it surely did not
  arrive. ``NotSent`` (bot/messenger/errors.py) says it surely did not: no connection could
  be made (refused, unreachable, connect timeout) or none was free (pool timeout). Once the
  whole request has been handed to the operating system it may have arrived, whatever
  happens next (no answer, a reset, a read timeout): that is a ``NetworkError`` (``TimedOut``
  for the read timeout), and it is not repeated here. The one repeat: a reused keep-alive
  connection that fails while the request is being written (the server had closed it, so
  the request never arrived whole) is replaced by a new connection and the request sent on
  that;
- uploads (multipart: ``/mydata``, ``/export``) go to ``uploads``, by default PTB's
  ``HTTPXRequest``; they are rare and not worth a multipart encoder here.

HTTP proxies are not supported: the bot connects to ``telegram.api_base_url`` directly.
Behind a proxy, set ``telegram.http_client = "httpx"`` (bot/messenger/requests.py).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.messenger.errors import NotSent, NotSentTimeout

_READ_LIMIT = 1 << 20  # longest header block; bodies are read by length
_MAX_HEADER_LINES = 200


#: A timeout argument of ``BaseRequest.do_request``: seconds, None (no limit) or
#: ``BaseRequest.DEFAULT_NONE`` (the request's own default). PTB spells the type with a
#: private alias (``ODVInput[float]``); ``object`` is the public supertype of it.
Timeout = float | None | object


def _or_default(value: Timeout, default: float | None) -> float | None:
    """A timeout argument resolved: ``BaseRequest.DEFAULT_NONE`` means ``default``."""
    if value is BaseRequest.DEFAULT_NONE:
        return default
    if value is None or isinstance(value, int | float):
        return value
    raise TypeError(f"a timeout must be a number of seconds or None, not {type(value).__name__}")


class _ServerClosed(Exception):
    """The server closed a connection before sending anything back."""


class _NotWritten(Exception):
    """The connection failed before the whole request was handed to the operating system:
    the server cannot have received it whole, so it cannot have acted on it."""


def default_ssl_context() -> ssl.SSLContext:
    try:
        import certifi  # installed with httpx, which python-telegram-bot requires
    except ImportError:  # pragma: no cover - depends on the environment
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def usable(self, now: float, max_idle: float) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and self.reader.exception() is None
            and now - self.idle_since < max_idle
        )

    def close(self) -> None:
        self.writer.close()


@dataclass(eq=False)
class _Pool:
    host: str
    port: int
    tls: bool
    slots: asyncio.Semaphore
    idle: list[_Connection] = field(default_factory=list)


@dataclass
class Response:
    status: int
    body: bytes
    keep_alive: bool


class FastRequest(BaseRequest):
    """``BaseRequest`` over asyncio streams; see the module's docstring."""

    def __init__(
        self,
        connections: int = 64,
        *,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 10.0,
        max_idle_seconds: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        uploads: BaseRequest | None = None,
    ) -> None:
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self.connections = connections
        self._timeouts = (connect_timeout, read_timeout, write_timeout, pool_timeout)
        self._max_idle = max_idle_seconds
        self._ssl = ssl_context
        self._uploads = uploads or HTTPXRequest(
            connection_pool_size=2,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        self._pools: dict[tuple[str, str, int], _Pool] = {}
        self._closed = True
        self.opened = 0  # connections opened, for tests and benchmarks

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts[1]

    async def initialize(self) -> None:
        self._closed = False
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        self._closed = True
        for pool in self._pools.values():
            while pool.idle:
                pool.idle.pop().close()
        self._pools.clear()
        await self._uploads.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._closed:
            raise RuntimeError("This FastRequest is not initialized!")
        if request_data is not None and request_data.contains_files:
            given = {
                name: _or_default(value, None)
                for name, value in (
                    ("read_timeout", read_timeout),
                    ("write_timeout", write_timeout),
                    ("connect_timeout", connect_timeout),
                    ("pool_timeout", pool_timeout),
                )
                if value is not BaseRequest.DEFAULT_NONE
            }  # the others keep the upload client's own defaults
            return await self._uploads.do_request(url, method, request_data, **given)
        default_connect, default_read, default_write, default_pool = self._timeouts
        timeouts = (
            _or_default(connect_timeout, default_connect),
            _or_default(read_timeout, default_read),
            _or_default(write_timeout, default_write),
        )
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NetworkError(f"unsupported URL scheme {parts.scheme!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = request_data.url_encoded_parameters().encode() if request_data is not None else b""
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nUser-Agent: {self.USER_AGENT}\r\n"
            f"Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        pool = self._pool(parts.scheme, parts.hostname, port, tls)
        await self._acquire(pool, _or_default(pool_timeout, default_pool))
        try:
            response = await self._exchange(pool, head + body, timeouts)
        finally:
            pool.slots.release()
        return response.status, response.body

    def _pool(self, scheme: str, host: str, port: int, tls: bool) -> _Pool:
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = _Pool(host, port, tls, asyncio.Semaphore(self.connections))
        return pool

    @staticmethod
    async def _acquire(pool: _Pool, timeout: float | None) -> None:
        try:
            async with asyncio.timeout(timeout):
                await pool.slots.acquire()
        except TimeoutError as exc:
            raise NotSentTimeout(
                "Pool timeout: all connections are busy. The request was *not* sent to Telegram."
            ) from exc

    async def _exchange(self, pool: _Pool, request: bytes, timeouts: tuple[float | None, ...]) -> Response:
        connect_timeout, read_timeout, write_timeout = timeouts
        conn = await self._idle_connection(pool)
        reused = conn is not None
        while True:
            if conn is None:
                conn = await self._connect(pool, connect_timeout)
            try:
                response = await self._send(conn, request, write_timeout, read_timeout)
            except _NotWritten as exc:
                conn.close()
                conn = None
                if reused:
                    reused = False
                    continue  # a keep-alive connection the server had closed: the request never arrived
                raise NotSent(f"Connection lost before the request was sent: {exc.__cause__!r}") from exc
            except _ServerClosed as exc:
                conn.close()
                raise NetworkError(
                    "Server disconnected without sending a response; the request may have arrived"
                ) from exc
            except TimeoutError as exc:
                conn.close()
                raise TimedOut("Timed out waiting for Telegram's answer; the request may have arrived") from exc
            except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                conn.close()
                raise NetworkError(f"{type(exc).__name__}: {exc}") from exc
            except BaseException:  # cancelled mid-exchange: the connection's state is unknown
                conn.close()
                raise
            if response.keep_alive and not self._closed:
                conn.idle_since = time.monotonic()
                pool.idle.append(conn)
            else:
                conn.close()
            return response

    async def _idle_connection(self, pool: _Pool) -> _Connection | None:
        """The most recently used idle connection that is still open, if any. The event loop
        runs once first, so that a close the server sent meanwhile is seen."""
        if not pool.idle:
            return None
        await asyncio.sleep(0)
        now = time.monotonic()
        while pool.idle:
            candidate = pool.idle.pop()
            if candidate.usable(now, self._max_idle):
                return candidate
            candidate.close()
        return None

    async def _connect(self, pool: _Pool, timeout: float | None) -> _Connection:
        context = None
        if pool.tls:
            if self._ssl is None:
                self._ssl = default_ssl_context()
            context = self._ssl
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    pool.host,
                    pool.port,
                    ssl=context,
                    server_hostname=pool.host if context else None,
                    limit=_READ_LIMIT,
                )
        except TimeoutError as exc:
            raise NotSentTimeout("Timed out connecting to Telegram. The request was *not* sent.") from exc
        except OSError as exc:
            raise NotSent(f"{type(exc).__name__}: {exc}. The request was *not* sent.") from exc
        self.opened += 1
        return _Connection(reader, writer)

    @staticmethod
    async def _send(
        conn: _Connection, request: bytes, write_timeout: float | None, read_timeout: float | None
    ) -> Response:
        if not conn.usable(time.monotonic(), float("inf")):
            raise _NotWritten
        try:
            conn.writer.write(request)
            async with asyncio.timeout(write_timeout):
                await conn.writer.drain()
        except (ConnectionResetError, BrokenPipeError, TimeoutError) as exc:
            # the connection was lost before the request could be written, or the operating
            # system did not take all of it in time: the server has no whole request to act on
            raise _NotWritten from exc
        async with asyncio.timeout(read_timeout):
            return await read_response(conn.reader)


async def read_response(reader: asyncio.StreamReader) -> Response:
    """One HTTP/1.1 response: the status, the whole body, and whether the connection can be
    used again. Raises ``_ServerClosed`` when the connection ends before the first byte."""
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise _ServerClosed from exc
            raise
        except ConnectionResetError as exc:
            raise _ServerClosed from exc
        lines = head[:-4].split(b"\r\n")
        version, _, rest = lines[0].partition(b" ")
        status = int(rest[:3])
        if not version.startswith(b"HTTP/1.") or len(lines) > _MAX_HEADER_LINES:
            raise ValueError("not an HTTP/1.x response")
        headers: dict[bytes, bytes] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise ValueError("malformed header line")
            key = name.strip().lower()
            headers[key] = headers[key] + b"," + value.strip() if key in headers else value.strip()
        if 100 <= status < 200:
            continue  # 100 Continue and the like: the real answer follows
        break
    connection = headers.get(b"connection", b"").lower()
    keep_alive = b"close" not in connection if version == b"HTTP/1.1" else b"keep-alive" in connection
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        body = await _read_chunked(reader)
    elif b"content-length" in headers:
        length = int(headers[b"content-length"].split(b",")[0])
        if length < 0:
            raise ValueError("negative Content-Length")
        body = await reader.readexactly(length)
    elif status in (204, 304):
        body = b""
    else:
        body = await reader.read()
        keep_alive = False
    return Response(status, body, keep_alive)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        chunk = await reader.readexactly(size + 2)
        if chunk[-2:] != b"\r\n":
            raise ValueError("malformed chunk")
        chunks.append(chunk[:-2])
