"""The Bot API HTTP client (bot/messenger/http.py) against a scripted local HTTP server:
keep-alive, response framing, stale connections, timeouts, the pool bound and TLS; and
make_request (bot/messenger/requests.py), which picks it or httpx by telegram.http_client."""

from __future__ import annotations

import asyncio
import json
import shutil
import ssl
import subprocess
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

from bot.messenger.errors import NotSent
from bot.messenger.http import FastRequest
from bot.messenger.requests import TelegramRequest, make_request
from bot.settings import ConfigError, HttpClient, TelegramSettings, load_settings


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]


Reply = Callable[[Seen, asyncio.StreamWriter], Awaitable[bool]]  # False: close the connection


@dataclass
class Server:
    reply: Reply
    seen: list[Seen] = field(default_factory=list)
    connections: int = 0
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ")
                headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                seen = Seen(method, path, headers, parse_qs(body.decode()))
                self.seen.append(seen)
                if not await self.reply(seen, writer):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def ok(body: bytes = b'{"ok":true,"result":true}', extra: str = "") -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
        + body
    )


async def keep_alive(seen: Seen, writer: asyncio.StreamWriter) -> bool:
    writer.write(ok(f'{{"ok":true,"result":"{seen.form.get("text", [""])[0]}"}}'.encode()))
    return True


# PTB marks RequestData @final, and builds one only from its private RequestParameter; the
# subclass overrides the one public property that requests read (url_encoded_parameters uses it).
class FormData(RequestData):  # type: ignore[misc]
    """Form parameters for ``BaseRequest`` through RequestData's public surface (PTB builds
    them from its private ``RequestParameter``): non-strings are sent as JSON, as PTB does."""

    __slots__ = ("_values",)

    def __init__(self, **params: object) -> None:
        super().__init__()
        self._values = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}

    @property
    def json_parameters(self) -> dict[str, str]:
        return dict(self._values)


def data(**params: object) -> RequestData:
    return FormData(**params)


@pytest.fixture
async def serve():
    servers: list[Server] = []

    async def start(reply: Reply, ssl_context: ssl.SSLContext | None = None) -> Server:
        server = await Server(reply).start(ssl_context)
        servers.append(server)
        return server

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def client():
    clients: list[FastRequest] = []

    async def make(**options) -> FastRequest:
        c = FastRequest(**options)
        await c.initialize()
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.shutdown()


async def test_requests_are_form_encoded_and_share_one_connection(serve, client):
    server = await serve(keep_alive)
    c = await client()
    url = f"http://127.0.0.1:{server.port}/botTOKEN/sendMessage"
    for i in range(5):
        status, body = await c.do_request(url, "POST", data(chat_id=7, text=f"Labdien & {i}"))
        assert (status, body) == (200, f'{{"ok":true,"result":"Labdien & {i}"}}'.encode())
    assert server.connections == 1 and c.opened == 1
    first = server.seen[0]
    assert first.method == "POST" and first.path == "/botTOKEN/sendMessage"
    assert first.headers["content-type"] == "application/x-www-form-urlencoded"
    assert first.headers["host"] == f"127.0.0.1:{server.port}"
    assert first.form == {"chat_id": ["7"], "text": ["Labdien & 0"]}


async def test_concurrent_requests_are_bounded_by_the_pool(serve, client):
    async def slow(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(0.05)
        writer.write(ok())
        return True

    server = await serve(slow)
    c = await client(connections=4)
    url = f"http://127.0.0.1:{server.port}/botT/getMe"
    results = await asyncio.gather(*(c.do_request(url, "POST", data(n=i)) for i in range(20)))
    assert all(status == 200 for status, _ in results)
    assert server.connections == 4 and len(server.seen) == 20


@pytest.mark.parametrize(
    "response",
    [
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"ok"\r\n0E;ext=1\r\n:true,"result"\r\n6\r\n:true}\r\n0\r\nX-Trailer: 1\r\n\r\n',
        b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 25\r\n\r\n{"ok":true,"result":true}',
    ],
    ids=["chunked", "100-continue"],
)
async def test_response_framing(serve, client, response):
    async def reply(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(response)
        return True

    server = await serve(reply)
    c = await client()
    url = f"http://127.0.0.1:{server.port}/botT/getMe"
    for _ in range(2):
        assert await c.do_request(url, "POST") == (200, b'{"ok":true,"result":true}')
    assert server.connections == 1  # the connection stayed usable after each framing


async def test_connection_close_and_read_to_end(serve, client):
    async def reply(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if len(seen.form):
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}")
        else:
            writer.write(b"HTTP/1.0 502 Bad Gateway\r\n\r\nupstream gone")
        return False

    server = await serve(reply)
    c = await client()
    url = f"http://127.0.0.1:{server.port}/botT/x"
    assert await c.do_request(url, "POST", data(a=1)) == (200, b"{}")
    assert await c.do_request(url, "POST") == (502, b"upstream gone")
    assert server.connections == 2 and c.opened == 2


async def test_a_stale_keep_alive_connection_is_replaced_without_losing_the_request(serve, client):
    async def answer_once(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok())  # keep-alive promised, but the server then closes (idle timeout)
        return False

    server = await serve(answer_once)
    c = await client()
    url = f"http://127.0.0.1:{server.port}/botT/sendMessage"
    assert (await c.do_request(url, "POST", data(text="one")))[0] == 200
    await asyncio.sleep(0.05)
    assert (await c.do_request(url, "POST", data(text="two")))[0] == 200
    assert [s.form["text"] for s in server.seen] == [["one"], ["two"]]


async def test_a_request_that_reached_the_server_is_never_sent_again(serve, client):
    """Every Bot API call is a POST: a request that was handed over whole and then got no
    answer may have been carried out, so the client does not send it again (issue 7); the
    caller's own retry policy decides."""
    calls = 0

    async def flaky(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        nonlocal calls
        calls += 1
        if calls == 1:
            writer.write(ok())
            return True
        return False  # the second request arrives, then the connection closes without an answer

    server = await serve(flaky)
    c = await client()
    url = f"http://127.0.0.1:{server.port}/botT/sendMessage"
    assert (await c.do_request(url, "POST"))[0] == 200
    with pytest.raises(NetworkError, match="may have arrived") as raised:
        await c.do_request(url, "POST", data(text="two"))
    assert not isinstance(raised.value, NotSent)
    assert calls == 2 and [s.form.get("text") for s in server.seen] == [None, ["two"]]

    dropping = await serve(flaky)  # (calls is past 1: it drops everything)
    with pytest.raises(NetworkError, match="may have arrived"):
        await c.do_request(f"http://127.0.0.1:{dropping.port}/botT/sendMessage", "POST")
    assert len(dropping.seen) == 1


async def test_a_connection_that_cannot_be_made_is_not_sent(serve, client):
    """Connection refused: ``NotSent``, which callers may retry without risk."""
    server = await serve(keep_alive)
    port = server.port
    await server.stop()
    c = await client()
    with pytest.raises(NotSent):
        await c.do_request(f"http://127.0.0.1:{port}/botT/sendMessage", "POST")


async def test_a_keep_alive_connection_closed_under_the_request_is_replaced(serve, client):
    """A pooled connection that was reset while idle is found out before anything is written
    on it: the request goes out once, on a new connection."""
    server = await serve(keep_alive)
    c = await client()
    url = f"http://127.0.0.1:{server.port}/botT/sendMessage"
    assert (await c.do_request(url, "POST"))[0] == 200
    pool = next(iter(c._pools.values()))
    conn = pool.idle[-1]
    conn.writer.transport.abort()  # as if reset by the server, noticed only now
    assert (await c.do_request(url, "POST", data(text="again")))[0] == 200
    assert [s.form.get("text") for s in server.seen] == [None, ["again"]]
    assert c.opened == 2


async def test_timeouts(serve, client):
    release = asyncio.Event()

    async def hang(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        await release.wait()
        writer.write(ok())
        return True

    server = await serve(hang)
    c = await client(connections=1, read_timeout=0.2, pool_timeout=0.1)
    url = f"http://127.0.0.1:{server.port}/botT/getMe"
    with pytest.raises(TimedOut):
        await c.do_request(url, "POST")
    hanging = asyncio.create_task(c.do_request(url, "POST", read_timeout=5.0))
    await asyncio.sleep(0.05)
    with pytest.raises(TimedOut, match="Pool timeout"):
        await c.do_request(url, "POST")
    release.set()
    assert (await hanging)[0] == 200
    assert server.connections == 2  # the timed-out connection was not reused


async def test_unreachable_server_is_a_network_error(client):
    c = await client()
    with pytest.raises(NetworkError) as info:
        await c.do_request("http://127.0.0.1:9/botT/getMe", "POST")
    assert not isinstance(info.value, TimedOut)


async def test_garbage_is_a_network_error(serve, client):
    async def garbage(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        return True

    server = await serve(garbage)
    c = await client()
    with pytest.raises(NetworkError):
        await c.do_request(f"http://127.0.0.1:{server.port}/botT/getMe", "POST")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            d / "key.pem",
            "-out",
            d / "cert.pem",
        ],
        check=True,
        capture_output=True,
    )
    return d / "cert.pem", d / "key.pem"


async def test_https_verifies_the_certificate(serve, client, certificate):
    cert, key = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    server = await serve(keep_alive, server_ctx)
    url = f"https://localhost:{server.port}/botT/sendMessage"
    trusting = await client(ssl_context=ssl.create_default_context(cafile=str(cert)))
    for _ in range(2):
        assert await trusting.do_request(url, "POST", data(text="drošs")) == (
            200,
            '{"ok":true,"result":"drošs"}'.encode(),
        )
    assert trusting.opened == 1
    default = await client()  # the public CA bundle does not know this certificate
    with pytest.raises(NetworkError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        await default.do_request(url, "POST")


# ----- the factory: telegram.http_client ----------------------------------------------------


@pytest.mark.parametrize(("choice", "kind"), [("builtin", FastRequest), ("httpx", HTTPXRequest)])
async def test_make_request_gives_the_chosen_client_with_the_pool_size_and_timeouts(serve, choice, kind):
    async def slow_or_silent(seen: Seen, writer: asyncio.StreamWriter) -> bool:
        if seen.form.get("silent"):
            await asyncio.sleep(5)  # never answers within the read timeout
        await asyncio.sleep(0.05)
        writer.write(ok())
        return True

    server = await serve(slow_or_silent)
    settings = load_settings(None, telegram={"http_client": choice})
    request = make_request(settings.telegram, 3, read_timeout=0.5, pool_timeout=5.0)
    assert type(request) is TelegramRequest and type(request.inner) is kind
    assert request.read_timeout == 0.5
    await request.initialize()
    try:
        url = f"http://127.0.0.1:{server.port}/botT/getMe"
        results = await asyncio.gather(*(request.do_request(url, "POST", data(n=i)) for i in range(12)))
        assert all(status == 200 for status, _ in results)
        assert server.connections == 3 and len(server.seen) == 12
        with pytest.raises(TimedOut):
            await request.do_request(url, "POST", data(silent=1))
    finally:
        await request.shutdown()


def test_the_builtin_client_is_the_default_and_the_choice_is_checked(monkeypatch):
    assert load_settings(None).telegram.http_client is HttpClient.BUILTIN
    assert isinstance(make_request(load_settings(None).telegram, 1).inner, FastRequest)
    monkeypatch.setenv("SAUCIENS_TELEGRAM__HTTP_CLIENT", "httpx")
    assert load_settings(None).telegram.http_client is HttpClient.HTTPX
    monkeypatch.setenv("SAUCIENS_TELEGRAM__HTTP_CLIENT", "aiohttp")
    with pytest.raises(ConfigError, match="telegram.http_client"):
        load_settings(None)
    with pytest.raises(ValueError, match="at least 1"):
        make_request(TelegramSettings(http_client=HttpClient.HTTPX), 0)
