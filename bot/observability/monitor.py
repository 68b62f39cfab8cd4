"""Keeps the monitoring going while the bot runs: every ``refresh_seconds`` the gauges read
from the database are refreshed (in the loop, through aiosqlite's thread, so a scrape only
reads memory), and when Telegram has said nothing for a while (a quiet bot in webhook mode
asks it nothing) it is asked ``getMe``, so that ``/healthz`` tells a quiet bot from a cut
off one. Serves /metrics and /healthz on ``metrics.listen``."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.application.health import Health, HealthReport
from bot.domain.reachability import Reachability
from bot.domain.stats import StoredCounts
from bot.logs import event
from bot.observability.metrics import Metrics
from bot.observability.server import MonitoringServer
from bot.settings import ConfigError

log = logging.getLogger(__name__)


class CountSource(Protocol):
    """Where the counts come from (``db.stats.StatsRepo``)."""

    async def counts(self) -> StoredCounts: ...


class Monitor:
    def __init__(
        self,
        metrics: Metrics,
        health: Health,
        counts: CountSource,
        reachability: Reachability,
        probe_telegram: Callable[[], Awaitable[object]],
        *,
        host: str,
        port: int,
        refresh_seconds: float,
    ) -> None:
        self.metrics = metrics
        self.health = health
        self._counts = counts
        self._reachability = reachability
        self._probe_telegram = probe_telegram
        self.refresh_seconds = refresh_seconds
        self.server = MonitoringServer(metrics.exposition, self.check_health, host, port)
        self._task: asyncio.Task[None] | None = None

    async def check_health(self) -> HealthReport:
        return await self.health.check(time.time())

    async def start(self) -> None:
        await self.refresh()
        try:
            await self.server.start()
        except OSError as exc:
            raise ConfigError(
                f"metrics.listen: cannot listen on {self.server.host}:{self.server.port}: {exc.strerror or exc}"
            ) from None
        self._task = asyncio.create_task(self._run(), name="monitoring")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        await self.server.stop()

    async def refresh(self) -> None:
        self.metrics.set_counts(await self._counts.counts())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.refresh()
            except Exception as exc:
                event(log, "metrics_refresh_failed", error=type(exc).__name__, level=logging.WARNING)
            last_ok = self._reachability.last_ok
            if last_ok is None or time.time() - last_ok > self.health.telegram_silence_seconds / 3:
                try:
                    await self._probe_telegram()
                except Exception as exc:  # the answer (or none) is recorded by the HTTP layer
                    event(log, "telegram_probe_failed", error=type(exc).__name__)
