"""Watching every answer of the Bot API without changing it: a ``BaseRequest`` that hands
each request to the client it wraps and tells observers the HTTP status that came back
(``None``: no answer, e.g. a refused or broken connection, a timeout).

The metrics (429s) are fed from here, for interactive replies, polling and broadcasts alike,
whatever the HTTP client (``telegram.http_client``); the reachability record is kept by
``TelegramRequest`` (bot/messenger/requests.py), which wraps this."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

#: Told the status of each answer (None: no answer).
AnswerObserver = Callable[[int | None], None]


class WrappedRequest(BaseRequest):
    """A ``BaseRequest`` around another, which does the HTTP: subclasses add what they watch
    or check around ``forward``."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def forward(
        self,
        url: str,
        method: str,
        request_data: RequestData | None,
        read_timeout: object,
        write_timeout: object,
        connect_timeout: object,
        pool_timeout: object,
    ) -> tuple[int, bytes]:
        return await self.inner.do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,  # type: ignore[arg-type]  # PTB's private ODVInput alias
            write_timeout=write_timeout,  # type: ignore[arg-type]
            connect_timeout=connect_timeout,  # type: ignore[arg-type]
            pool_timeout=pool_timeout,  # type: ignore[arg-type]
        )


class ObservedRequest(WrappedRequest):
    def __init__(self, inner: BaseRequest, observers: Sequence[AnswerObserver]) -> None:
        super().__init__(inner)
        self.observers = tuple(observers)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        try:
            status, payload = await self.forward(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        except NetworkError:  # TimedOut included
            self._tell(None)
            raise
        self._tell(status)
        return status, payload

    def _tell(self, status: int | None) -> None:
        for observer in self.observers:
            observer(status)
