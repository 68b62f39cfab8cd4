"""The sandbox's HTTP side: an HTTP/1.1 server on asyncio streams (keep-alive, chunked
bodies) and the parsing of Bot API parameters from JSON, multipart or urlencoded bodies."""

from __future__ import annotations

import asyncio
import builtins  # the parameter getters are named after the types they return
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote

from .errors import bad

log = logging.getLogger(__name__)

#: A payload that means "close the connection without answering".
DROP = object()

#: (HTTP method, target, headers, body, arrival time, reader) -> (status, payload, content type)
Handler = Callable[[str, str, dict[str, str], bytes, float, asyncio.StreamReader], Awaitable[tuple[int, Any, str]]]


class ClientGone(Exception):
    """The client closed the connection while its request was held."""


class Params:
    """Request parameters from JSON, multipart or urlencoded bodies.

    Form values are strings; JSON-typed parameters (reply_markup, ...) arrive as JSON
    strings there, so typed getters decode them as needed.
    """

    def __init__(self, data: dict[str, Any], files: dict[str, tuple[str, bytes, str]]):
        self.data = data
        self.files = files

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None or name in self.files

    def str(self, name: str, default: str | None = None) -> str | None:
        v = self.data.get(name)
        if v is None:
            return default
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return str(v)

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int | None:
        v = self.data.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v
        try:
            return int(str(v).strip())
        except ValueError:
            try:
                f = float(str(v))
                if f.is_integer():
                    return int(f)
            except ValueError:
                pass
            raise bad(f"invalid {name} specified") from None

    def float(self, name: builtins.str) -> builtins.float | None:
        v = self.data.get(name)
        if v is None or v == "":
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            raise bad(f"invalid {name} specified") from None

    def bool(self, name: builtins.str) -> builtins.bool:
        v = self.data.get(name)
        if isinstance(v, str):
            return v.strip().lower() in ("true", "1")
        return bool(v)

    def json(self, name: builtins.str) -> Any:
        v = self.data.get(name)
        if isinstance(v, str):
            if v == "":
                return None
            try:
                return json.loads(v)
            except ValueError:
                if name == "reply_markup":
                    raise bad("can't parse reply keyboard markup JSON object") from None
                raise bad(f"can't parse {name} JSON object") from None
        return v

    def chat_id(self) -> builtins.int | builtins.str | None:
        v = self.data.get("chat_id")
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return v
        s = str(v).strip()
        try:
            return int(s)
        except ValueError:
            return s


def parse_content_disposition(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r';\s*([A-Za-z0-9_\-*]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)', ";" + value.split(";", 1)[-1]):
        key = m.group(1).lower()
        val = m.group(3) if m.group(3) is not None else m.group(2).strip()
        if key.endswith("*"):
            # RFC 5987: utf-8''percent-encoded
            enc, _, rest = val.partition("''")
            try:
                val = unquote(rest, encoding=enc or "utf-8")
            except LookupError:
                val = unquote(rest)
            key = key[:-1]
        else:
            val = val.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n").replace('\\"', '"')
        out[key] = val
    return out


def parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise bad("invalid multipart body: no boundary")
    boundary = b"--" + m.group(1).encode("latin-1")
    data: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = parse_content_disposition(headers.get("content-disposition", ""))
        name = disp.get("name")
        if name is None:
            continue
        if "filename" in disp:
            files[name] = (disp["filename"], content, headers.get("content-type", "application/octet-stream"))
        else:
            data[name] = content.decode("utf-8", "replace")
    return data, files


def parse_params(headers: dict[str, str], body: bytes, query: str) -> Params:
    data: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    if query:
        data.update(parse_qsl(query, keep_blank_values=True))
    ctype = headers.get("content-type", "")
    lct = ctype.lower()
    if body:
        if lct.startswith("application/json"):
            try:
                obj = json.loads(body)
            except ValueError:
                raise bad("can't parse JSON") from None
            if not isinstance(obj, dict):
                raise bad("JSON object expected")
            data.update(obj)
        elif lct.startswith("multipart/form-data"):
            d, files = parse_multipart(body, ctype)
            data.update(d)
        else:
            data.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return Params(data, files)


def error_payload(status: int, description: str, retry_after: int | None = None) -> bytes:
    d: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        d["parameters"] = {"retry_after": retry_after}
    return json.dumps(d, ensure_ascii=False).encode()


async def unless_client_gone(coro: Any, reader: asyncio.StreamReader) -> Any:
    """Await ``coro`` but give up (raise ClientGone) if the client closes the connection.

    Used for requests that are held for a long time (long polling, "timeout" faults), so
    that an abandoned request does not linger and act on later events.
    """
    task = asyncio.ensure_future(coro)
    eof = asyncio.ensure_future(reader.read(1))
    try:
        await asyncio.wait({task, eof}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        eof.cancel()
        raise
    if task.done():
        if not eof.done():
            eof.cancel()
            try:
                await eof
            except asyncio.CancelledError:
                pass
        elif eof.result():  # pragma: no cover - pipelining is not supported
            raise ClientGone()
        return task.result()
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
    raise ClientGone()


class HttpServer:
    """Serves connections on loopback and hands each request to ``handler``."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._server: asyncio.base_events.Server | None = None
        self._conn_tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._address: tuple[str, int] = ("127.0.0.1", 0)
        self._refusing = False
        self.stopping = False

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); returns the port."""
        self.stopping = False
        self._server = await asyncio.start_server(self._on_connection, host, port, limit=1 << 20, backlog=2048)
        self._address = (host, self._server.sockets[0].getsockname()[1])
        self._refusing = False
        return self._address[1]

    async def refuse(self) -> None:
        """Stop listening and reset the open connections: clients get "connection refused"
        until ``accept`` (an outage of the network or of Telegram's front end)."""
        if self._server is None or self._refusing:
            return
        self._refusing = True
        self._server.close()
        for w in list(self._writers):
            transport = w.transport
            if hasattr(transport, "abort"):
                transport.abort()  # a reset, not an orderly close
        await self._server.wait_closed()

    async def accept(self) -> None:
        """Listen again on the same address after ``refuse``."""
        if self._server is None or not self._refusing:
            return
        host, port = self._address
        self._server = await asyncio.start_server(self._on_connection, host, port, limit=1 << 20, backlog=2048)
        self._refusing = False

    @property
    def running(self) -> bool:
        return self._server is not None

    async def stop(self) -> None:
        if self._server is None:
            return
        self.stopping = True
        self._server.close()
        for w in list(self._writers):
            try:
                w.close()
            except Exception:  # pragma: no cover
                pass
        tasks = [t for t in self._conn_tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2)
        except TimeoutError:  # pragma: no cover
            pass
        self._server = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:  # pragma: no cover - bug in the sandbox itself
            log.exception("sandbox connection handler crashed")
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._conn_tasks.discard(task)
            try:
                writer.close()
            except Exception:  # pragma: no cover
                pass

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not self.stopping:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) < 3:
                return
            http_method, target, version = parts[0], parts[1], parts[2]
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if not line:
                    continue
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            body = b""
            if "content-length" in headers:
                n = int(headers["content-length"])
                if n:
                    body = await reader.readexactly(n)
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        # trailers until empty line
                        while (await reader.readuntil(b"\r\n")) != b"\r\n":
                            pass
                        break
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                body = b"".join(chunks)
            arrived = time.monotonic()
            status, payload, ctype = await self._handler(http_method, target, headers, body, arrived, reader)
            if payload is DROP:
                writer.close()
                return
            keep_alive = headers.get("connection", "").lower() != "close" and version != "HTTP/1.0"
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:  # pragma: no cover
                phrase = "Error"
            head_out = (
                f"HTTP/1.1 {status} {phrase}\r\n"
                f"Content-Type: {ctype}\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
            ).encode("latin-1")
            writer.write(head_out + payload)
            await writer.drain()
            if not keep_alive:
                return
