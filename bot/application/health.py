"""Whether the bot is healthy, for ``/healthz``: the database takes a write, and Telegram
answered within the last ``telegram_silence_seconds``. Otherwise one line says why."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from bot.domain.reachability import Reachability
from bot.logs import event

log = logging.getLogger(__name__)


class WriteProbe(Protocol):
    """A tiny write in a transaction of its own (``db.health.HealthRepo``)."""

    async def touch(self, at: float) -> None: ...


@dataclass(frozen=True)
class HealthReport:
    healthy: bool
    reason: str  # "ok", or what is wrong, in one line


class Health:
    def __init__(
        self,
        probe: WriteProbe,
        reachability: Reachability,
        *,
        telegram_silence_seconds: float = 60.0,
        database_timeout: float = 2.0,
    ) -> None:
        self._probe = probe
        self._reachability = reachability
        self.telegram_silence_seconds = telegram_silence_seconds
        self.database_timeout = database_timeout
        self._write: asyncio.Task[None] | None = None

    async def check(self, now: float) -> HealthReport:
        """``now``: ``time.time()``. The database's answer is awaited at most
        ``database_timeout`` seconds; a write that takes longer is left to finish on its own
        (never cancelled halfway through its transaction) and the next check waits for it."""
        problems = [p for p in (await self._database(now), self._telegram(now)) if p]
        if problems:
            return HealthReport(False, "; ".join(problems))
        return HealthReport(True, "ok")

    async def _database(self, now: float) -> str | None:
        if self._write is None or self._write.done():
            self._write = asyncio.create_task(self._probe.touch(now), name="health-write")
        write = self._write
        done, _ = await asyncio.wait({write}, timeout=self.database_timeout)
        if not done:
            return f"database not writable (no answer within {self.database_timeout:g} s)"
        error = write.exception()
        if error is not None:
            event(log, "health_database_not_writable", error=type(error).__name__, detail=str(error))
            return "database not writable"
        return None

    def _telegram(self, now: float) -> str | None:
        r = self._reachability
        if r.last_ok is None:
            return "telegram has not answered since the start"
        silent = now - r.last_ok
        if silent <= self.telegram_silence_seconds:
            return None
        if r.unreachable_since is None:  # nothing was asked meanwhile
            return f"telegram has not answered for {silent:.0f} s"
        return f"telegram unreachable for {max(0.0, now - r.unreachable_since):.0f} s"
