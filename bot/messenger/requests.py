"""The one place that picks the HTTP client for the Bot API (``telegram.http_client``).

``builtin`` is bot/messenger/http.py's ``FastRequest`` (little CPU per request, direct
connections only); ``httpx`` is python-telegram-bot's ``HTTPXRequest``, which honours the
proxy environment variables (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``). Both get the
same pool size and timeouts. With ``observers``, every answer is also reported to them
(bot/messenger/observed.py)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram.request import BaseRequest, HTTPXRequest

from bot.messenger.http import FastRequest
from bot.messenger.observed import AnswerObserver, ObservedRequest
from bot.settings import HttpClient, TelegramSettings

__all__ = ["make_request"]


def make_request(
    telegram: TelegramSettings,
    connections: int,
    *,
    connect_timeout: float | None = 5.0,
    read_timeout: float | None = 5.0,
    write_timeout: float | None = 5.0,
    pool_timeout: float | None = 10.0,
    observers: Sequence[AnswerObserver] = (),
) -> BaseRequest:
    """A ``BaseRequest`` with at most ``connections`` connections to the Bot API."""
    if connections < 1:
        raise ValueError("connections must be at least 1")
    request = _client(telegram, connections, connect_timeout, read_timeout, write_timeout, pool_timeout)
    return ObservedRequest(request, observers) if observers else request


def _client(
    telegram: TelegramSettings,
    connections: int,
    connect_timeout: float | None,
    read_timeout: float | None,
    write_timeout: float | None,
    pool_timeout: float | None,
) -> BaseRequest:
    if telegram.http_client is HttpClient.HTTPX:
        return HTTPXRequest(
            connection_pool_size=connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
        )
    return FastRequest(
        connections,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        write_timeout=write_timeout,
        pool_timeout=pool_timeout,
    )
