"""The interactive bot's HTTP requests, spread over several small httpx pools.

httpcore's pool does work proportional to (queued requests × connections) for every
request, so one pool shared by dozens of concurrent updates costs far more CPU per request
than several small ones (bench/README.md has the measurements). Each request goes to the
next pool in turn."""

from __future__ import annotations

from itertools import cycle

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData


class SpreadRequest(BaseRequest):
    def __init__(self, pools: int = 16, connections_per_pool: int = 4, **httpx_options: float) -> None:
        self._pools = [
            HTTPXRequest(connection_pool_size=connections_per_pool, **httpx_options) for _ in range(pools)
        ]
        self._next = cycle(self._pools)

    @property
    def read_timeout(self) -> float | None:
        return self._pools[0].read_timeout

    async def initialize(self) -> None:
        for pool in self._pools:
            await pool.initialize()

    async def shutdown(self) -> None:
        for pool in self._pools:
            await pool.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        return await next(self._next).do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
