"""PTB rate limiter for interactive traffic: counts each sent or edited message against the
shared ``SendBudget`` (edits count as sends do at Telegram) on its interactive side, which
gets half the rate while a broadcast is queued and all of it otherwise (in paid mode, the
free-rate lane it shares with the sender's edits), waits out a 429 ``retry_after``
(pausing the broadcast too), and tries again only when that cannot duplicate anything: after
a 5xx, a 429, or a failure that surely did not send the request (no connection). A timeout
or a connection lost after the request went out is not retried here: the request may have
arrived (bot/messenger/errors.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram.error import TelegramError
from telegram.ext import BaseRateLimiter

from bot.domain.budget import SendBudget
from bot.logs import event
from bot.messenger.errors import SAFE_TO_RESEND, ErrorKind, classify

log = logging.getLogger(__name__)
# The methods Telegram counts against its message limits (lower case: Bot API method names
# are case-insensitive, and bot/messenger/raw.py calls editmessagetext in lower case).
COUNTED_METHODS = frozenset(
    name.lower()
    for name in (
        "sendMessage",
        "sendDocument",
        "sendLocation",
        "sendContact",
        "sendPhoto",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
    )
)


# Set by the input boundary (handlers.boundary) for the update being handled when its replies
# go first (a registered volunteer answering an alert, a coordinator). PTB handles each update
# in a task of its own, so the value holds for exactly that update's requests.
URGENT: ContextVar[bool] = ContextVar("urgent_reply", default=False)


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
        counted = endpoint.lower() in COUNTED_METHODS
        for attempt in range(self.max_retries + 1):
            if counted:
                await self.budget.acquire_interactive(URGENT.get())
            try:
                return await callback(*args, **kwargs)
            except TelegramError as exc:
                failure = classify(exc)
                if failure.kind == ErrorKind.RETRY_AFTER:
                    self.budget.pause(failure.retry_after)  # everyone waits, the broadcast too
                if attempt == self.max_retries or failure.kind not in SAFE_TO_RESEND:
                    raise
                if failure.kind == ErrorKind.RETRY_AFTER:
                    event(
                        log,
                        "interactive_retry_after",
                        endpoint=endpoint,
                        seconds=round(failure.retry_after, 1),
                        level=logging.WARNING,
                    )
                    if not counted:  # a counted call waits the pause out when it takes its token
                        await asyncio.sleep(self.budget.paused_for())
                else:
                    event(log, "interactive_retry", endpoint=endpoint, error=type(exc).__name__, level=logging.WARNING)
                    await asyncio.sleep(0.3 * (attempt + 1))
        raise AssertionError("unreachable")
