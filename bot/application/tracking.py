"""Following an alert: the coordinator's live tracking message (edited when the figures
change, at most once an interval), the open alerts, the export; reminders to those who have
not answered (on request, and once automatically) and the respond-by deadline.

Time-driven work goes through a ``Scheduler`` (PTB's JobQueue in ``bot.messenger.scheduler``),
which keeps nothing across a restart: the schedule is rebuilt from the database at start-up.
Messages to the coordinator go through a ``TrackingMessenger`` (``bot.messenger.tracking``)."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import astuple, replace
from datetime import UTC, datetime
from typing import Protocol

from bot.application.audit import AuditTrail
from bot.application.authorisation import AlertAccess, AlertRefusal
from bot.application.stores import AlertMessageQueue
from bot.domain.alerts import Alert, AlertStatus, ExportRow, Response, RosterChange, RosterEntry, Tally
from bot.domain.audit import AuditAction, AuditRole
from bot.domain.coalition import Actor, may_act_on_alert, phone_shown
from bot.domain.outbox import Job, OutboxKind, Result
from bot.domain.people import Address
from bot.logs import event

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]


class Scheduler(Protocol):
    def run_once(self, when: datetime, callback: Callback, name: str) -> None: ...
    def run_repeating(self, interval: float, callback: Callback, name: str, first: float = 0.0) -> None: ...


class MessageFailed(Exception):
    """The messenger could not show a message (its reason, for the log)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TrackingMessenger(Protocol):
    async def send_tracking(
        self,
        chat: str,
        alert: Alert,
        tally: Tally,
        language: str,
        roster: Sequence[RosterEntry] = (),
        held_up_since: float | None = None,
    ) -> int:
        """Send the tracking message (figures and who is coming) to ``chat``; its message id.
        ``held_up_since``: delivery is held up since then (Telegram unreachable). Raises
        ``MessageFailed``."""

    async def edit_tracking(
        self,
        chat: str,
        message_id: int,
        alert: Alert,
        tally: Tally,
        language: str,
        roster: Sequence[RosterEntry] = (),
        held_up_since: float | None = None,
    ) -> None:
        """Show the new figures (the same ones are no error); raises ``MessageFailed``."""

    async def notify_deadline(self, alert: Alert, tally: Tally) -> None:
        """Tell the alert's author that its answer time is over."""

    async def notify_roster_change(self, chat: str, alert: Alert, change: RosterChange, language: str) -> None:
        """One short line to the coordinator: someone withdrew, or moved up from standby."""


class TrackingStore(Protocol):
    """``db.alerts.AlertRepo``, as far as following an alert goes."""

    async def get(self, alert_id: int) -> Alert | None: ...
    async def list(self, only_open: bool = False, limit: int = 50) -> list[Alert]: ...
    async def open_of(self, organisation_id: int | None, author: Address, limit: int = 50) -> builtins.list[Alert]: ...
    async def tally(self, alert_id: int) -> Tally: ...
    async def tracking_message(self, alert_id: int) -> tuple[str, int] | None: ...
    async def tracking_messages(self, alert_id: int) -> builtins.list[tuple[str, int, str]]: ...
    async def set_tracking_message(self, alert_id: int, chat: str, message_id: int, language: str) -> None: ...
    async def export_rows(self, alert_id: int) -> builtins.list[ExportRow]: ...
    async def roster(self, alert_id: int) -> builtins.list[RosterEntry]: ...


class ReminderStore(AlertMessageQueue, Protocol):
    async def get(self, alert_id: int) -> Alert | None: ...
    async def tally(self, alert_id: int) -> Tally: ...
    async def mark_reminded(self, alert_id: int) -> None: ...
    async def mark_deadline_done(self, alert_id: int) -> None: ...
    async def schedules(self) -> list[tuple[int, datetime | None, datetime | None]]: ...


class OutboxWake(Protocol):
    def wake(self) -> None: ...


class DeliveryState(Protocol):
    """The outbox sender, as far as the tracking message tells of it."""

    @property
    def held_up_since(self) -> float | None: ...


# language, figures, status, who answered how, delivery held up since: what the message shows
_Shown = tuple[str, tuple[int, ...], AlertStatus, tuple[tuple[str, str, str], ...], float | None]


def _roster_key(roster: Sequence[RosterEntry]) -> tuple[tuple[str, str, str], ...]:
    return tuple((e.address.external_id, e.response, e.eta or "") for e in roster)


class Tracking:
    def __init__(
        self,
        alerts: TrackingStore,
        messenger: TrackingMessenger,
        scheduler: Scheduler,
        delivery: DeliveryState | None = None,
        *,
        audit: AuditTrail,
    ) -> None:
        """``delivery``: the tracking messages say when it is held up (``held_up_since``);
        ``audit``: where exports are recorded."""
        self._alerts = alerts
        self._messenger = messenger
        self._scheduler = scheduler
        self._changed: set[int] = set()
        self._shown: dict[int, _Shown] = {}
        self._lang: dict[int, str] = {}  # alert id -> language of the tracking message's reader
        self._closed_shown: set[int] = set()  # closed alerts whose every tracking message says so
        self._roster_changes: list[tuple[int, RosterChange]] = []
        self._pending: dict[int, tuple[str, str]] = {}  # alert id -> (chat, language): not shown yet
        self._delivery = delivery
        self._audit = audit
        self._access = AlertAccess(alerts)

    def delivery_changed(self) -> None:
        """Delivery was held up, or resumed: every tracking message shown is brought up to date."""
        self._changed.update(self._shown)

    def _held_up(self, tally: Tally) -> float | None:
        since = self._delivery.held_up_since if self._delivery is not None else None
        return since if tally.queued else None

    def alert_changed(self, alert_id: int | None) -> None:
        """Its tracking message is edited at the next refresh."""
        if alert_id is not None:
            self._changed.add(alert_id)

    def roster_changed(self, alert_id: int, change: RosterChange) -> None:
        """Someone withdrew or moved up: the coordinator is told at the next refresh (not in
        the volunteer's tap)."""
        self._roster_changes.append((alert_id, change))
        self.alert_changed(alert_id)

    def message_recorded(self, job: Job, result: Result) -> None:
        """The outbox sender recorded what became of a message (its ``on_recorded``)."""
        self.alert_changed(job.alert_id)

    async def start(self, interval: float) -> None:
        """Every open alert's tracking message is brought up to date, then refreshed every
        ``interval`` seconds while it changes."""
        for alert in await self._alerts.list(only_open=True):
            self.alert_changed(alert.id)
        self._scheduler.run_repeating(interval, self.refresh, name="tracking", first=0.5)

    async def alert_for(self, actor: Actor, alert_id: int) -> Alert | AlertRefusal:
        """The alert ``actor`` asks to act on (follow, remind, close, export...), or why they
        may not: every coordinator's command and button about an alert starts here."""
        return await self._access.alert_for(actor, alert_id)

    async def open_alerts(self, actor: Actor) -> list[tuple[Alert, Tally]]:
        """The open alerts ``actor`` may follow (/alerts): an admin's are all of them."""
        if actor.is_admin:
            alerts = await self._alerts.list(only_open=True)
        else:
            alerts = await self._alerts.open_of(actor.organisation_id, actor.address)
        mine = [a for a in alerts if may_act_on_alert(actor, a.organisation_id, a.author)]
        return [(a, await self._alerts.tally(a.id)) for a in mine]

    async def roster(self, alert: Alert) -> list[RosterEntry]:
        """Everyone who answered the alert (``/roster``), phone numbers only where the person
        lets the alert's organisation see them (``phone_shown``)."""
        entries = [
            e if phone_shown(alert.organisation_id, e.member_of, e.phone_visible_to) else replace(e, phone=None)
            for e in await self._alerts.roster(alert.id)
        ]
        event(log, "roster_shown", alert=alert.id, entries=len(entries))
        return entries

    async def show_tracking(self, alert: Alert, chat: str, language: str) -> None:
        """Send ``alert``'s tracking message to ``chat``; later edits go to this one, in
        ``language``, and only when something changed. Closing the alert edits every one."""
        tally = await self._alerts.tally(alert.id)
        roster = await self._alerts.roster(alert.id)
        held = self._held_up(tally)
        try:
            message_id = await self._messenger.send_tracking(chat, alert, tally, language, roster, held)
        except MessageFailed as exc:  # Telegram unreachable: shown at a later refresh
            self._pending[alert.id] = (chat, language)
            event(log, "tracking_show_failed", alert=alert.id, error=exc.reason, level=logging.WARNING)
            return
        self._pending.pop(alert.id, None)
        # set before the new message is recorded, which a refresh may read meanwhile
        self._lang[alert.id] = language
        self._shown[alert.id] = (language, astuple(tally), alert.status, _roster_key(roster), held)
        await self._alerts.set_tracking_message(alert.id, chat, message_id, language)

    async def refresh(self) -> None:
        """Show the tracking messages that could not be sent yet, tell the coordinators who
        withdrew or moved up, and edit the tracking messages of alerts that changed."""
        for alert_id, (chat, language) in list(self._pending.items()):
            alert = await self._alerts.get(alert_id)
            if alert is None:
                self._pending.pop(alert_id, None)
                continue
            await self.show_tracking(alert, chat, language)
        changes, self._roster_changes = self._roster_changes, []
        for alert_id, change in changes:
            await self._tell(alert_id, change)
        changed = list(self._changed)
        self._changed.clear()
        for alert_id in changed:
            try:
                await self._update(alert_id)
            except MessageFailed as exc:
                event(log, "tracking_update_failed", alert=alert_id, error=exc.reason, level=logging.WARNING)

    async def _tell(self, alert_id: int, change: RosterChange) -> None:
        alert = await self._alerts.get(alert_id)
        if alert is None:
            return
        where = await self._alerts.tracking_message(alert_id)
        chat = where[0] if where else alert.author_external_id
        try:
            await self._messenger.notify_roster_change(
                chat, alert, change, self._lang.get(alert_id, alert.author_language)
            )
        except MessageFailed as exc:
            event(log, "roster_change_failed", alert=alert_id, error=exc.reason, level=logging.WARNING)
            return
        event(log, "roster_change_told", alert=alert_id, change=change.kind)

    async def _update(self, alert_id: int) -> None:
        alert = await self._alerts.get(alert_id)
        if alert is None:
            return
        if not alert.open and alert_id not in self._closed_shown:
            await self._close_all(alert)
            return
        where = await self._alerts.tracking_message(alert_id)
        if where is None:
            return
        chat, message_id = where
        language = self._lang.get(alert_id, alert.author_language)
        tally = await self._alerts.tally(alert_id)
        roster = await self._alerts.roster(alert_id)
        held = self._held_up(tally)
        shown = (language, astuple(tally), alert.status, _roster_key(roster), held)
        if self._shown.get(alert_id) == shown:
            return
        try:
            await self._messenger.edit_tracking(chat, message_id, alert, tally, language, roster, held)
        except MessageFailed:
            self._changed.add(alert_id)  # tried again at the next refresh
            raise
        self._shown[alert_id] = shown

    async def _close_all(self, alert: Alert) -> None:
        """Every tracking message of a closed alert shows it closed, without buttons (a failed
        edit is tried again at the next change)."""
        tally = await self._alerts.tally(alert.id)
        roster = await self._alerts.roster(alert.id)
        failed = 0
        messages = await self._alerts.tracking_messages(alert.id)
        for chat, message_id, language in messages:
            try:
                await self._messenger.edit_tracking(chat, message_id, alert, tally, language, roster)
            except MessageFailed as exc:
                failed += 1
                event(log, "tracking_update_failed", alert=alert.id, error=exc.reason, level=logging.WARNING)
        if failed == 0:
            self._closed_shown.add(alert.id)
            language = self._lang.get(alert.id, alert.author_language)
            self._shown[alert.id] = (language, astuple(tally), alert.status, _roster_key(roster), None)
        event(log, "tracking_closed", alert=alert.id, messages=len(messages), failed=failed)

    async def export_alert(self, alert: Alert, actor: Actor) -> list[ExportRow]:
        """Every recipient of the alert for ``actor`` (/export), phone numbers only where the
        person lets the alert's organisation see them (``phone_shown``); recorded in the audit trail."""
        rows = await self._alerts.export_rows(alert.id)
        hidden = 0
        for row in rows:
            if row.phone and not phone_shown(alert.organisation_id, row.member_of, row.phone_visible_to):
                row.phone = None
                hidden += 1
        event(log, "alert_exported", alert=alert.id, rows=len(rows), phones_hidden=hidden)
        await self._audit.record_for(
            actor, AuditAction.EXPORT, f"alert:{alert.id}", alert.organisation_code, rows=len(rows)
        )
        return rows


class Reminders:
    """Reminders to those who have not answered, and the respond-by deadline."""

    def __init__(
        self,
        alerts: ReminderStore,
        outbox: OutboxWake,
        messenger: TrackingMessenger,
        scheduler: Scheduler,
        audit: AuditTrail,
    ) -> None:
        self._alerts = alerts
        self._outbox = outbox
        self._messenger = messenger
        self._scheduler = scheduler
        self._audit = audit

    async def remind(self, alert_id: int, actor: Actor | None = None) -> int:
        """Queue a reminder to everyone who got the alert and has not answered: ``actor``'s,
        or (None) the automatic one, which reaches each person once."""
        automatic = actor is None
        count = await self._alerts.enqueue(
            alert_id, OutboxKind.REMINDER, responses=(Response.NONE,), max_reminders=1 if automatic else None
        )
        if automatic:
            await self._alerts.mark_reminded(alert_id)
        event(log, "reminders_queued", alert=alert_id, count=count, automatic=int(automatic))
        target, alert = f"alert:{alert_id}", await self._alerts.get(alert_id)
        code = alert.organisation_code if alert is not None else ""
        if actor is None:
            await self._audit.record_as(AuditRole.SYSTEM, AuditAction.REMINDER_SENT, target, code, recipients=count)
        else:
            await self._audit.record_for(actor, AuditAction.REMINDER_SENT, target, code, recipients=count)
        self._outbox.wake()
        return count

    def watch(self, alert_id: int, remind_at: datetime | None, respond_by: datetime | None) -> int:
        """Schedule an alert's automatic reminder and its deadline; how many were scheduled."""
        now = datetime.now(UTC)
        count = 0
        if remind_at is not None:
            self._scheduler.run_once(max(remind_at, now), self._reminder(alert_id), name=f"remind:{alert_id}")
            count += 1
        if respond_by is not None:
            self._scheduler.run_once(max(respond_by, now), self._deadline(alert_id), name=f"deadline:{alert_id}")
            count += 1
        return count

    async def rebuild(self) -> int:
        """The schedule of the open alerts, from the database (after a start)."""
        scheduled = 0
        for alert_id, remind_at, respond_by in await self._alerts.schedules():
            scheduled += self.watch(alert_id, remind_at, respond_by)
        event(log, "schedule_rebuilt", jobs=scheduled)
        return scheduled

    def _reminder(self, alert_id: int) -> Callback:
        async def remind_automatically() -> None:
            alert = await self._alerts.get(alert_id)
            if alert is None or not alert.open:
                return
            await self.remind(alert_id)

        return remind_automatically

    def _deadline(self, alert_id: int) -> Callback:
        async def deadline_reached() -> None:
            alert = await self._alerts.get(alert_id)
            if alert is None:
                return
            await self._alerts.mark_deadline_done(alert_id)
            if not alert.open:
                return
            tally = await self._alerts.tally(alert_id)
            await self._messenger.notify_deadline(alert, tally)
            event(log, "deadline_reached", alert=alert_id, accepted=tally.accepted)

        return deadline_reached
