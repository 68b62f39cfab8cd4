"""Concurrent update processing that keeps each chat's updates in order.

PTB processes updates one at a time by default; a slow step for one person (composing an
alert for thousands) would then delay everyone. This processor runs up to ``max_concurrent``
updates at once but serialises those of the same chat (or user), FIFO: PTB creates one task
per update in arrival order and each first waits on its chat's lock.

``on_processed`` is told how long each update took, from its arrival here (PTB hands an
update over as soon as it has it) to the end of its handling, waiting included."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> object:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
    return ("other", None)


class PerChatOrderedProcessor(BaseUpdateProcessor):
    """PTB's own semaphore (``process_update`` is final) is set wide so that it never makes
    an update wait while holding a slot; the real bound is ``self._slots``, taken only after
    the chat's lock, so one busy chat cannot use up every slot."""

    _QUEUE_BOUND = 100_000

    def __init__(
        self,
        max_concurrent_updates: int = 64,
        on_processed: Callable[[float], None] | None = None,
        urgent: Callable[[object], bool] | None = None,
    ) -> None:
        super().__init__(self._QUEUE_BOUND)
        self.max_running = max_concurrent_updates
        self.on_processed = on_processed
        # updates that must not wait for a slot behind a surge (a tap on an alert): slots of their own
        self.urgent = urgent
        self._urgent_slots = asyncio.BoundedSemaphore(max_concurrent_updates)
        self._locks: dict[object, tuple[asyncio.Lock, int]] = {}
        self._slots = asyncio.BoundedSemaphore(max_concurrent_updates)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        received = time.monotonic()
        key = ordering_key(update)
        lock, waiting = self._locks.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[key] = (lock, waiting + 1)
        try:
            slots = self._urgent_slots if self.urgent is not None and self.urgent(update) else self._slots
            async with lock, slots:
                await coroutine
        finally:
            lock, waiting = self._locks[key]
            if waiting <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, waiting - 1)
            if self.on_processed is not None:
                self.on_processed(time.monotonic() - received)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
