"""PTB rate limiter for interactive traffic: counts each sent message against the shared
``SendBudget`` without waiting, waits out a 429 ``retry_after``, and tries again after a
passing network failure (5xx, a dropped connection), so a reply is not lost to a hiccup."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import TelegramError
from telegram.ext import BaseRateLimiter

from bot.domain.budget import SendBudget
from bot.logs import event
from bot.messenger.errors import ErrorKind, classify

log = logging.getLogger(__name__)
SEND_METHODS = frozenset({"sendMessage", "sendDocument", "sendLocation", "sendContact", "sendPhoto"})


class InteractiveRateLimiter(BaseRateLimiter[int]):
    def __init__(self, budget: SendBudget, max_retries: int = 4) -> None:
        self.budget = budget
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint in SEND_METHODS:
            await self.budget.acquire_interactive()
        for attempt in range(self.max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except TelegramError as exc:
                failure = classify(exc)
                if attempt == self.max_retries or failure.kind not in (ErrorKind.RETRY_AFTER, ErrorKind.NETWORK):
                    raise
                if failure.kind == ErrorKind.RETRY_AFTER:
                    event(
                        log,
                        "interactive_retry_after",
                        endpoint=endpoint,
                        seconds=round(failure.retry_after, 1),
                        level=logging.WARNING,
                    )
                    await asyncio.sleep(failure.retry_after)
                else:
                    event(log, "interactive_retry", endpoint=endpoint, error=type(exc).__name__, level=logging.WARNING)
                    await asyncio.sleep(0.3 * (attempt + 1))
        raise AssertionError("unreachable")
