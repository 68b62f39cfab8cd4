"""CPU per Bot API request for a few HTTP clients behind python-telegram-bot's ``BaseRequest``.

``python -m bench.http_clients`` starts a small HTTP/1.1 server in another process (every
answer 50 ms late, like a round trip to Telegram), then sends 2,000 form-encoded
editMessageText-like requests, 64 at a time, through ``BaseRequest.post`` with each client
and prints the CPU time of this process per request. aiohttp is measured only when it is
installed (it is not a dependency of Sauciens). Results: bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from itertools import cycle
from typing import Any

from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.messenger.http import FastRequest, Timeout

BODY = (
    b'{"ok":true,"result":{"message_id":5,"date":1700000000,"chat":{"id":1,"type":"private","first_name":"A"},'
    b'"text":"hello there","reply_markup":{"inline_keyboard":[[{"text":"yes","callback_data":"ans:1:yes"}]]}}}'
)

SERVER = f"""
import asyncio, sys
BODY = {BODY!r}
async def handle(r, w):
    try:
        while True:
            head = await r.readuntil(b"\\r\\n\\r\\n")
            n = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            if n:
                await r.readexactly(n)
            await asyncio.sleep(0.05)
            w.write(b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(BODY) + BODY)
    except (asyncio.IncompleteReadError, ConnectionError):
        w.close()
async def main():
    s = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1000)
    print(s.sockets[0].getsockname()[1], flush=True)
    async with s:
        await s.serve_forever()
asyncio.run(main())
"""


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


class SpreadHttpx(BaseRequest):
    """httpx spread over several small pools, round robin (the bot's set-up before http.py)."""

    def __init__(self, pools: int = 16, size: int = 4) -> None:
        self._pools = [HTTPXRequest(connection_pool_size=size) for _ in range(pools)]
        self._next = cycle(self._pools)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        for p in self._pools:
            await p.initialize()

    async def shutdown(self) -> None:
        for p in self._pools:
            await p.shutdown()

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
        timeouts: dict[str, Any] = {  # passed on as they came (PTB types them with a private alias)
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        return await next(self._next).do_request(url, method, request_data, **timeouts)


class Aiohttp(BaseRequest):
    def __init__(self, limit: int = 64) -> None:
        import aiohttp

        self._aiohttp = aiohttp
        self._limit = limit
        self._session: Any = None

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        self._session = self._aiohttp.ClientSession(connector=self._aiohttp.TCPConnector(limit=self._limit))

    async def shutdown(self) -> None:
        await self._session.close()

    async def do_request(  # the timeouts are aiohttp's defaults: this only measures CPU per request
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        write_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        connect_timeout: Timeout = BaseRequest.DEFAULT_NONE,
        pool_timeout: Timeout = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        data = request_data.url_encoded_parameters() if request_data else None
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with self._session.request(method, url, data=data, headers=headers) as r:
            return r.status, await r.read()


def clients() -> dict[str, Any]:
    found = {
        "httpx, one pool of 128": lambda: HTTPXRequest(connection_pool_size=128),
        "httpx, 16 pools of 4": SpreadHttpx,
        "bot/messenger/http.py": lambda: FastRequest(64),
    }
    try:
        import aiohttp  # noqa: F401  (optional: measured only when installed)
    except ImportError:
        pass
    else:
        found["aiohttp"] = Aiohttp
    return found


async def measure(make: Any, url: str, n: int, concurrency: int) -> tuple[float, float]:
    req = make()
    await req.initialize()
    params = FormData(
        chat_id=12345,
        message_id=5,
        text="✅ Jūs esat apstiprināts. Paldies! " * 5,
        parse_mode="HTML",
        reply_markup='{"inline_keyboard":[[{"text":"yes","callback_data":"ans:1:yes"}]]}',
    )
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            await req.post(url, request_data=params)

    await asyncio.gather(*(one() for _ in range(50)))  # warm up: connections open
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(one() for _ in range(n)))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    await req.shutdown()
    return cpu, wall


async def run(port: int, n: int, concurrency: int) -> None:
    url = f"http://127.0.0.1:{port}/bot123:ABC/editMessageText"
    print(f"{n} requests, {concurrency} at a time, 50 ms answers")
    print("| client | CPU per request | wall |\n|---|---|---|")
    for name, make in clients().items():
        cpu, wall = await measure(make, url, n, concurrency)
        print(f"| {name} | {cpu / n * 1000:.2f} ms | {wall:.1f} s |", flush=True)


def main(n: int, concurrency: int) -> None:
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        asyncio.run(run(port, n, concurrency))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--concurrency", type=int, default=64)
    a = p.parse_args()
    main(a.requests, a.concurrency)
