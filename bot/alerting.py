"""The alerting service: turns a coordinator's draft into queued messages, records answers
against the quota, and queues reminders, follow-ups and closing notices. It speaks to the
repositories and wakes the outbox sender; it never talks to Telegram itself."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.domain.alerts import AlertDraft, Audience, select_audience
from bot.domain.outbox import (
    CLOSED,
    EDIT_ANSWER,
    FOLLOWUP,
    PROMOTED,
    REMINDER,
    STANDBY_RELEASED,
    Job,
    OutboxSender,
    Result,
)
from bot.domain.people import Address
from bot.settings import Settings
from db.alerts import AlertRepo, Answer
from db.outbox import OutboxRepo
from db.people import PeopleRepo

log = logging.getLogger(__name__)

ETA_CHOICES = ("30m", "2h")


@dataclass
class Closing:
    closed: bool
    thanked: int = 0
    released: int = 0


class AlertService:
    def __init__(self, settings: Settings, people: PeopleRepo, alerts: AlertRepo, outbox: OutboxRepo) -> None:
        self.settings = settings
        self.people = people
        self.alerts = alerts
        self.outbox = outbox
        self.sender: OutboxSender | None = None
        self.dirty: set[int] = set()
        # Set by the wiring: schedules the automatic reminder and the respond-by deadline.
        self.scheduler: Callable[[int, datetime | None, datetime | None], object] | None = None

    def _wake(self) -> None:
        if self.sender is not None:
            self.sender.wake()

    def on_recorded(self, job: Job, result: Result) -> None:
        if job.alert_id is not None:
            self.dirty.add(job.alert_id)

    async def audience(self, draft: AlertDraft, now: datetime | None = None) -> Audience:
        people = await self.people.active()
        return select_audience(people, draft.audience, draft.severity, now or datetime.now(UTC))

    async def send(
        self, draft: AlertDraft, *, author: Address, author_name: str, organisation: str, author_language: str = "lv"
    ) -> tuple[int, Audience]:
        now = datetime.now(UTC)
        audience = await self.audience(draft, now)
        minutes = self.settings.alerts.remind_after_minutes
        remind_at = now + timedelta(minutes=minutes) if minutes > 0 else None
        alert_id = await self.alerts.create(
            draft,
            author=author,
            author_name=author_name,
            author_language=author_language,
            organisation=organisation,
            recipients=audience.recipients,
            remind_at=remind_at,
        )
        log.info(
            "event=alert_created alert=%d recipients=%d paused=%d blocked=%d quiet=%d severity=%s need=%s drill=%d",
            alert_id,
            len(audience.recipients),
            audience.paused,
            audience.blocked,
            audience.quiet,
            draft.severity,
            draft.need if draft.need is not None else "-",
            int(draft.drill),
        )
        self.dirty.add(alert_id)
        self._wake()
        if self.scheduler is not None:
            self.scheduler(alert_id, remind_at, draft.respond_by)
        return alert_id, audience

    async def answer(self, alert_id: int, address: Address, choice: str) -> Answer:
        accepts = choice != "no"
        eta = choice if choice in ETA_CHOICES else None
        result = await self.alerts.answer(alert_id, address, accepts, eta)
        if result.status == "ok":
            self.dirty.add(alert_id)
            log.info(
                "event=answer alert=%d user=%s response=%s previous=%s",
                alert_id,
                address.external_id,
                result.response,
                result.previous,
            )
            if result.promoted is not None:
                recipient_id, promoted, _lang = result.promoted
                await self.alerts.enqueue_one(recipient_id, promoted, PROMOTED, {"alert_id": alert_id})
                # and their alert message shows "confirmed" instead of "standby"
                await self.alerts.enqueue_one(recipient_id, promoted, EDIT_ANSWER, {"alert_id": alert_id})
                log.info("event=standby_promoted alert=%d user=%s", alert_id, promoted.external_id)
                self._wake()
        return result

    async def remind(self, alert_id: int, automatic: bool) -> int:
        count = await self.alerts.enqueue(
            alert_id, REMINDER, responses=("none",), max_reminders=1 if automatic else None
        )
        if automatic:
            await self.alerts.mark_reminded(alert_id)
        log.info("event=reminders_queued alert=%d count=%d automatic=%d", alert_id, count, int(automatic))
        self._wake()
        return count

    async def followup(
        self, alert_id: int, text: str | None = None, location: tuple[float, float] | None = None
    ) -> int:
        params: dict[str, object] = (
            {"text": text} if text else {"latitude": location[0], "longitude": location[1]} if location else {}
        )
        count = await self.alerts.enqueue(alert_id, FOLLOWUP, responses=("accepted",), params=params)
        log.info("event=followup_queued alert=%d count=%d location=%d", alert_id, count, int(location is not None))
        self._wake()
        return count

    async def close(self, alert_id: int) -> Closing:
        cancelled = await self.alerts.close(alert_id)
        if cancelled is None:
            return Closing(False)
        if self.sender is not None:
            self.sender.alert_closed(alert_id)
        thanked = await self.alerts.enqueue(alert_id, CLOSED, responses=("accepted",), priority=0)
        released = await self.alerts.enqueue(alert_id, STANDBY_RELEASED, responses=("standby",), priority=0)
        edits = await self.alerts.enqueue_closed_edits(alert_id)
        self.dirty.add(alert_id)
        log.info(
            "event=alert_closed alert=%d thanked=%d released=%d edits=%d unsent_cancelled=%d",
            alert_id,
            thanked,
            released,
            edits,
            cancelled,
        )
        self._wake()
        return Closing(True, thanked, released)
