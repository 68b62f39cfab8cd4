"""The one place that picks and wraps the HTTP client for the Bot API (``telegram.http_client``).

``builtin`` is bot/messenger/http.py's ``FastRequest`` (little CPU per request, direct
connections only); ``httpx`` is python-telegram-bot's ``HTTPXRequest``, which honours the
proxy environment variables (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``). Both get the
same pool size and timeouts, and both are wrapped in ``TelegramRequest``, which

- tells the bot's ``Reachability`` after every request whether the Bot API answered
  (any HTTP answer below 500 counts) or not (no answer, or a 5xx);
- raises ``ServerError`` for a 5xx and ``NotSent`` for a request that surely did not leave
  (bot/messenger/errors.py), so that the layers above know which failures are safe to
  retry; it never retries anything itself;
- and, with ``observers``, tells them the HTTP status of every answer (bot/messenger/observed.py:
  the metrics count 429s there).

``PollingRequest`` is the one for ``getUpdates``, which is safe to repeat (the same offset
gives the same updates): while Telegram is unreachable it asks again every
``retry_seconds`` within one long poll instead of failing, so python-telegram-bot's
polling loop never grows its back-off (1.5× per failure, up to 30 s, which is why replies
took 23 s to resume after an outage) and the first poll after an outage is at most
``retry_seconds`` late."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from http import HTTPStatus

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.domain.reachability import Reachability
from bot.logs import event
from bot.messenger.errors import NotSent, ServerError
from bot.messenger.http import FastRequest, Timeout
from bot.messenger.observed import AnswerObserver, ObservedRequest, WrappedRequest
from bot.settings import HttpClient, TelegramSettings

__all__ = ["PollingRequest", "TelegramRequest", "make_request"]

log = logging.getLogger(__name__)

# httpx errors raised before any byte of the request left (PTB wraps them in NetworkError/TimedOut)
_HTTPX_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class TelegramRequest(WrappedRequest):
    """A ``BaseRequest`` around another: see the module's docstring."""

    def __init__(self, inner: BaseRequest, reachability: Reachability | None = None) -> None:
        super().__init__(inner)
        self.reachability = reachability

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
        asked_at = time.time()
        try:
            status, body = await self.forward(
                url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
            )
        except NetworkError as exc:
            self._failed(exc, asked_at)
            if not isinstance(exc, NotSent) and isinstance(exc.__cause__, _HTTPX_NOT_SENT):
                raise NotSent(exc.message) from exc
            raise
        if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            self._failed(None, asked_at)
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Server error"
            raise ServerError(status, f"{phrase} ({status})")
        if self.reachability is not None:
            was_down = self.reachability.unreachable_since
            self.reachability.answered(time.time())
            if was_down is not None:
                event(log, "telegram_reachable", after_seconds=round(time.time() - was_down, 1))
        return status, body

    def _failed(self, exc: NetworkError | None, asked_at: float) -> None:
        if self.reachability is None:
            return
        was_reachable = self.reachability.reachable
        self.reachability.failed(time.time(), asked_at)
        if was_reachable and not self.reachability.reachable:
            error = type(exc).__name__ if exc is not None else "ServerError"
            event(log, "telegram_unreachable", error=error, level=logging.WARNING)


class PollingRequest(TelegramRequest):
    """``TelegramRequest`` for ``getUpdates``: see the module's docstring."""

    def __init__(
        self, inner: BaseRequest, reachability: Reachability | None = None, retry_seconds: float = 1.0
    ) -> None:
        super().__init__(inner, reachability)
        self.retry_seconds = retry_seconds

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
        budget = read_timeout if isinstance(read_timeout, int | float) else self.read_timeout
        deadline = time.monotonic() + max(self.retry_seconds, float(budget or 10.0))
        while True:
            try:
                return await super().do_request(
                    url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
                )
            except (NotSent, ServerError) as exc:
                if time.monotonic() + self.retry_seconds >= deadline:
                    # a timeout makes PTB poll again at once, without growing its back-off
                    raise TimedOut(f"Telegram unreachable during the whole poll: {exc.message}") from exc
                await asyncio.sleep(self.retry_seconds)


def make_request(
    telegram: TelegramSettings,
    connections: int,
    *,
    reachability: Reachability | None = None,
    polling: bool = False,
    observers: Sequence[AnswerObserver] = (),
    connect_timeout: float | None = 5.0,
    read_timeout: float | None = 5.0,
    write_timeout: float | None = 5.0,
    pool_timeout: float | None = 10.0,
) -> TelegramRequest:
    """A ``BaseRequest`` with at most ``connections`` connections to the Bot API, reporting
    to ``reachability`` and ``observers``; ``polling``: the one for ``getUpdates``."""
    if connections < 1:
        raise ValueError("connections must be at least 1")
    inner: BaseRequest
    if telegram.http_client is HttpClient.HTTPX:
        inner = HTTPXRequest(
            connection_pool_size=connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )
    else:
        inner = FastRequest(
            connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )
    if observers:
        inner = ObservedRequest(inner, observers)
    if polling:
        return PollingRequest(inner, reachability)
    return TelegramRequest(inner, reachability)
