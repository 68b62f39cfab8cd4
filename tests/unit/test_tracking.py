"""The tracking use cases through their ports: a recording scheduler and messenger, and an
in-memory store (the test's own implementations of the Protocols)."""

from __future__ import annotations

import builtins  # Store.list (the Protocol's name) shadows the type in the class's annotations
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.application.tracking import Callback, MessageFailed, Reminders, Tracking
from bot.domain.alerts import (
    Alert,
    AlertDraft,
    AlertStatus,
    ExportRow,
    Response,
    RosterChange,
    RosterChangeKind,
    RosterEntry,
    Tally,
)
from bot.domain.audit import AuditAction, AuditRole
from bot.domain.coalition import Actor
from bot.domain.outbox import OutboxKind
from bot.domain.people import Address


class Store:
    def __init__(self, alert: Alert) -> None:
        self.alert = alert
        self.figures = Tally(total=3, queued=3, none=3)
        self.where: tuple[str, int] | None = None
        self.all_messages: list[tuple[str, int, str]] = []
        self.answered: list[RosterEntry] = []
        self.reminded = self.deadline_done = False
        self.queued: list[tuple[OutboxKind, tuple[Response, ...], int | None]] = []

    async def get(self, alert_id: int) -> Alert | None:
        return self.alert if alert_id == self.alert.id else None

    async def list(self, only_open: bool = False, limit: int = 50) -> list[Alert]:
        return [self.alert] if self.alert.open or not only_open else []

    async def open_of(self, organisation_id: int | None, author: Address, limit: int = 50) -> builtins.list[Alert]:
        mine = self.alert.organisation_id == organisation_id or self.alert.author == author
        return [self.alert] if self.alert.open and mine else []

    async def tally(self, alert_id: int) -> Tally:
        return Tally(**vars(self.figures))

    async def tracking_message(self, alert_id: int) -> tuple[str, int] | None:
        return self.where

    async def tracking_messages(self, alert_id: int) -> builtins.list[tuple[str, int, str]]:
        return list(self.all_messages)

    async def set_tracking_message(self, alert_id: int, chat: str, message_id: int, language: str) -> None:
        self.where = (chat, message_id)
        self.all_messages.append((chat, message_id, language))

    async def roster(self, alert_id: int) -> builtins.list[RosterEntry]:
        return list(self.answered)

    async def export_rows(self, alert_id: int) -> builtins.list[ExportRow]:
        return []

    async def enqueue(
        self,
        alert_id: int,
        kind: OutboxKind,
        *,
        responses: tuple[Response, ...],
        params: dict[str, object] | None = None,
        priority: int = 1,
        max_reminders: int | None = None,
    ) -> int:
        self.queued.append((kind, responses, max_reminders))
        return 2

    async def mark_reminded(self, alert_id: int) -> None:
        self.reminded = True

    async def mark_deadline_done(self, alert_id: int) -> None:
        self.deadline_done = True

    async def schedules(self) -> builtins.list[tuple[int, datetime | None, datetime | None]]:
        return [(self.alert.id, datetime(2020, 1, 1, tzinfo=UTC), self.alert.draft.respond_by)]


class Messenger:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.edits: list[tuple[int, int, str]] = []
        self.names: list[tuple[str, ...]] = []
        self.deadlines: list[int] = []
        self.told: list[tuple[str, RosterChange]] = []
        self.held: list[float | None] = []
        self.fail = False
        self.next_id = 77

    async def send_tracking(
        self,
        chat: str,
        alert: Alert,
        tally: Tally,
        language: str,
        roster: Sequence[RosterEntry] = (),
        held_up_since: float | None = None,
    ) -> int:
        if self.fail:
            raise MessageFailed("Bad Gateway")
        self.sent.append((chat, language))
        self.held.append(held_up_since)
        self.next_id += 1
        return self.next_id - 1

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
        self.held.append(held_up_since)
        if self.fail:
            raise MessageFailed("Bad Request: message to edit not found")
        self.edits.append((message_id, tally.sent, language))
        self.names.append(tuple(e.name for e in roster))

    async def notify_roster_change(self, chat: str, alert: Alert, change: RosterChange, language: str) -> None:
        self.told.append((chat, change))

    async def notify_deadline(self, alert: Alert, tally: Tally) -> None:
        self.deadlines.append(alert.id)


class Scheduler:
    def __init__(self) -> None:
        self.once: dict[str, tuple[datetime, Callback]] = {}
        self.repeating: dict[str, tuple[float, Callback]] = {}

    def run_once(self, when: datetime, callback: Callback, name: str) -> None:
        self.once[name] = (when, callback)

    def run_repeating(self, interval: float, callback: Callback, name: str, first: float = 0.0) -> None:
        self.repeating[name] = (interval, callback)


class Outbox:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


class Trail:
    """The audit trail (``bot.application.audit.AuditTrail``): what was recorded."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, AuditAction, str, dict[str, object]]] = []

    async def record(self, actor: Actor, action: AuditAction, target: str = "", **details: object) -> None:
        self.recorded.append((actor.address.external_id, actor.role.value, action, target, details))

    async def record_for(
        self, actor: Actor, action: AuditAction, target: str, organisation: str, **details: object
    ) -> None:
        self.recorded.append((actor.address.external_id, actor.role.value, action, target, details))

    async def record_as(
        self, role: AuditRole, action: AuditAction, target: str = "", organisation: str = "", **details: object
    ) -> None:
        self.recorded.append(("", role.value, action, target, details))


def an_alert(respond_by: datetime | None = None) -> Alert:
    draft = AlertDraft(texts={"lv": "Smilšu maisi"}, respond_by=respond_by)
    return Alert(5, draft, "Kārlis", "LAPAS", datetime(2020, 1, 1, tzinfo=UTC), author_external_id="9000")


async def test_the_tracking_message_is_edited_only_when_its_figures_change():
    store, messenger, scheduler = Store(an_alert()), Messenger(), Scheduler()
    tracking = Tracking(store, messenger, scheduler, audit=Trail())
    await tracking.start(0.5)
    assert scheduler.repeating["tracking"][0] == 0.5
    await tracking.show_tracking(store.alert, "9000", "en")
    assert messenger.sent == [("9000", "en")] and store.where == ("9000", 77)
    await tracking.refresh()  # marked changed at start, but it shows these figures already
    assert messenger.edits == []
    store.figures.sent, store.figures.queued = 2, 1
    await tracking.refresh()  # nothing said it changed
    assert messenger.edits == []
    tracking.alert_changed(5)
    tracking.alert_changed(5)
    await tracking.refresh()
    assert messenger.edits == [(77, 2, "en")]  # once, in the reader's language
    # who is coming: a new answer with the same figures still changes the message
    store.answered = [RosterEntry("Anna", Response.ACCEPTED, "30m", None, None, Address.telegram(1))]
    tracking.alert_changed(5)
    await tracking.refresh()
    assert messenger.edits[-1] == (77, 2, "en") and messenger.names[-1] == ("Anna",)
    tracking.roster_changed(5, RosterChange(RosterChangeKind.WITHDREW, "Anna"))
    await tracking.refresh()
    assert messenger.told == [("9000", RosterChange(RosterChangeKind.WITHDREW, "Anna"))]
    await tracking.show_tracking(store.alert, "9000", "lv")  # a second tracking message (/status)
    assert store.all_messages == [("9000", 77, "en"), ("9000", 78, "lv")]
    store.alert.status = AlertStatus.CLOSED
    tracking.alert_changed(5)
    messenger.fail = True
    await tracking.refresh()  # logged, not raised
    messenger.fail = False
    edits = len(messenger.edits)
    tracking.alert_changed(5)
    await tracking.refresh()  # not shown yet, so tried again: every tracking message, each in its language
    assert messenger.edits[edits:] == [(77, 2, "en"), (78, 2, "lv")]
    tracking.alert_changed(5)
    await tracking.refresh()
    assert len(messenger.edits) == edits + 2  # closed once


async def test_an_export_is_recorded_with_who_made_it():
    store, trail = Store(an_alert()), Trail()
    tracking = Tracking(store, Messenger(), Scheduler(), audit=trail)
    rows = await tracking.export_alert(store.alert, Actor.admin(Address.telegram(9000)))
    assert trail.recorded == [("9000", "admin", AuditAction.EXPORT, "alert:5", {"rows": len(rows)})]


class Delivery:
    held_up_since: float | None = None


async def test_the_tracking_message_says_when_delivery_is_held_up_and_waits_to_be_shown():
    store, messenger, scheduler = Store(an_alert()), Messenger(), Scheduler()
    delivery = Delivery()
    tracking = Tracking(store, messenger, scheduler, delivery, audit=Trail())
    store.figures.queued = 3
    messenger.fail = True  # Telegram unreachable as the alert is sent: nothing raised, shown later
    delivery.held_up_since = 1_700_000_000.0
    await tracking.show_tracking(store.alert, "9000", "en")
    assert messenger.sent == [] and store.where is None
    await tracking.refresh()
    messenger.fail = False
    await tracking.refresh()
    assert messenger.sent == [("9000", "en")] and messenger.held[-1] == 1_700_000_000.0
    await tracking.refresh()  # nothing changed
    assert len(messenger.held) == 1 and messenger.edits == []
    delivery.held_up_since = None  # sending resumed
    tracking.delivery_changed()
    await tracking.refresh()
    assert messenger.held[-1] is None and messenger.edits
    store.figures.queued = 0  # nothing waiting: no line, even if held up
    delivery.held_up_since = 1_700_000_100.0
    tracking.delivery_changed()
    await tracking.refresh()
    assert messenger.held[-1] is None


def test_the_held_up_line_in_the_tracking_text():
    from bot.i18n import translator
    from bot.messenger.alert_render import tracking_text

    alert, t = an_alert(), translator("en")
    since = datetime(2026, 3, 1, 12, 2, tzinfo=UTC).timestamp()  # 14:02 in Riga
    held = tracking_text(alert, Tally(total=281, queued=167, sent=114), t, "Europe/Riga", held_up_since=since)
    assert "⚠️ Telegram unreachable since 14:02 — 167 waiting, retrying" in held
    assert "unreachable" not in tracking_text(alert, Tally(total=281, queued=167, sent=114), t, "Europe/Riga")
    done = tracking_text(alert, Tally(total=281, queued=0, sent=281), t, "Europe/Riga", held_up_since=since)
    assert "unreachable" not in done
    lv = tracking_text(
        alert, Tally(total=281, queued=1, sent=280), translator("lv"), "Europe/Riga", held_up_since=since
    )
    assert "Telegram nav sasniedzams kopš 14:02 — 1 ziņa gaida" in lv


async def test_reminders_and_deadlines_are_scheduled_and_rebuilt():
    soon = datetime.now(UTC) + timedelta(hours=1)
    store, messenger, scheduler, outbox = Store(an_alert(respond_by=soon)), Messenger(), Scheduler(), Outbox()
    trail = Trail()
    reminders = Reminders(store, outbox, messenger, scheduler, trail)
    assert await reminders.rebuild() == 2
    when, remind = scheduler.once["remind:5"]
    assert when > datetime(2020, 1, 1, tzinfo=UTC)  # a time already past runs at once
    assert scheduler.once["deadline:5"][0] == soon
    await remind()
    assert store.queued == [(OutboxKind.REMINDER, (Response.NONE,), 1)] and store.reminded and outbox.woken == 1
    assert trail.recorded == [
        ("", "system", AuditAction.REMINDER_SENT, "alert:5", {"recipients": 2})
    ]  # the fake queues two
    await scheduler.once["deadline:5"][1]()
    assert store.deadline_done and messenger.deadlines == [5]


async def test_nothing_automatic_happens_to_a_closed_alert():
    store, messenger, scheduler, outbox = (
        Store(an_alert(respond_by=datetime.now(UTC))),
        Messenger(),
        Scheduler(),
        Outbox(),
    )
    reminders = Reminders(store, outbox, messenger, scheduler, Trail())
    reminders.watch(5, datetime.now(UTC), store.alert.draft.respond_by)
    store.alert.status = AlertStatus.CLOSED
    await scheduler.once["remind:5"][1]()
    await scheduler.once["deadline:5"][1]()
    assert store.queued == [] and messenger.deadlines == []
    assert store.deadline_done  # and it is not scheduled again at the next start
