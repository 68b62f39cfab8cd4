"""The application's ``Scheduler`` on PTB's JobQueue (which keeps nothing across a restart:
the tracking use cases rebuild their schedule at start-up)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram.ext import CallbackContext, JobQueue

from bot.application.tracking import Callback


class JobQueueScheduler:
    def __init__(self, job_queue: JobQueue[Any] | None) -> None:
        assert job_queue is not None, "python-telegram-bot[job-queue] is needed"
        self._jobs = job_queue

    def run_once(self, when: datetime, callback: Callback, name: str) -> None:
        self._jobs.run_once(_job(callback), when, name=name)

    def run_repeating(self, interval: float, callback: Callback, name: str, first: float = 0.0) -> None:
        self._jobs.run_repeating(_job(callback), interval=interval, first=first, name=name)


def _job(callback: Callback) -> Any:
    async def run(context: CallbackContext[Any, Any, Any, Any]) -> None:
        await callback()

    return run
