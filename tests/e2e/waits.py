"""Waiting for state that signals nothing a test could await (the database, another process):
poll it, and fail with what was awaited once the time is up, instead of hanging."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0, every: float = 0.02
) -> None:
    """Return once ``check()`` is true; raise AssertionError naming ``what`` after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() >= deadline:
            raise AssertionError(f"not within {timeout:g} s: {what}")
        await asyncio.sleep(every)
