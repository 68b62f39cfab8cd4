"""Alerting: whom a draft reaches, sending it (queued messages), recording the answers
against the quota, follow-ups and closing; and the composer's draft, kept in the
coordinator's session. It speaks to the repositories and tells the outbox sender and the
tracking about what it did; it never talks to Telegram itself."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.application.audit import Audit
from bot.application.conversation import finish
from bot.application.stores import AlertMessageQueue, SessionStore
from bot.domain.alerts import (
    Alert,
    AlertDraft,
    Answer,
    AnswerStatus,
    Audience,
    AudienceFilter,
    DraftRef,
    Member,
    Response,
    RosterChange,
    RosterChangeKind,
    select_audience,
)
from bot.domain.audit import AuditAction
from bot.domain.coalition import Actor, reach_of
from bot.domain.outbox import OutboxKind
from bot.domain.people import Address, Person, Target, is_abroad_country
from bot.domain.sessions import Flow, Session, kept_by
from bot.logs import event

log = logging.getLogger(__name__)

ETA_CHOICES = ("30m", "2h")
DECLINE = "no"
COMPOSE = Flow.COMPOSE  # the composer's flow in the session
FOLLOWUP = Flow.FOLLOWUP  # a follow-up message being written
FOLLOWUP_LIMIT = 3500


class AlertStore(AlertMessageQueue, Protocol):
    """``db.alerts.AlertRepo``, as far as sending and answering go."""

    async def create(
        self,
        draft: AlertDraft,
        *,
        author: Address,
        author_name: str,
        author_language: str,
        organisation: str,
        organisation_id: int | None = None,
        recipients: Sequence[Member],
        remind_at: datetime | None,
    ) -> int: ...
    async def get(self, alert_id: int) -> Alert | None: ...
    async def answer(self, alert_id: int, address: Address, accepts: bool, eta: str | None) -> Answer: ...
    async def open_answers_of(self, address: Address) -> list[int]: ...
    async def enqueue_one(
        self, recipient_id: int, address: Address, kind: OutboxKind, params: dict[str, object]
    ) -> None: ...
    async def close(self, alert_id: int) -> int | None: ...
    async def enqueue_closed_edits(self, alert_id: int) -> int: ...


class Roster(Protocol):
    """``db.people.PeopleRepo``, as far as choosing an audience goes."""

    async def targets(self, audience: AudienceFilter, *, memberships: bool = True) -> list[Target]: ...
    async def countries_abroad(self) -> list[str]: ...


class OutboxControl(Protocol):
    """The outbox sender (``bot.domain.outbox.OutboxSender``)."""

    def wake(self) -> None: ...
    def alert_closed(self, alert_id: int) -> None: ...


class AlertWatch(Protocol):
    """The tracking (``bot.application.tracking.Tracking``): an alert's figures changed."""

    def alert_changed(self, alert_id: int | None) -> None: ...
    def roster_changed(self, alert_id: int, change: RosterChange) -> None: ...


class AlertTimers(Protocol):
    """The automatic reminder and the respond-by deadline (``tracking.Reminders``)."""

    def watch(self, alert_id: int, remind_at: datetime | None, respond_by: datetime | None) -> int: ...


@dataclass
class Closing:
    closed: bool
    thanked: int = 0
    released: int = 0


@dataclass(frozen=True)
class SentAlert:
    alert: Alert
    audience: Audience


@dataclass(frozen=True)
class Author:
    name: str
    organisation: str


def eta_of(choice: str) -> str | None:
    """The arrival time a tap's choice (``yes``, ``30m``, ``2h``, ``no``) promises."""
    return choice if choice in ETA_CHOICES else None


class Alerting:
    def __init__(
        self,
        people: Roster,
        alerts: AlertStore,
        outbox: OutboxControl,
        tracking: AlertWatch,
        timers: AlertTimers,
        audit: Audit,
        *,
        remind_after_minutes: int,
        organisation: str,
    ) -> None:
        self._people = people
        self._alerts = alerts
        self._outbox = outbox
        self._tracking = tracking
        self._timers = timers
        self._audit = audit
        self._remind_after = remind_after_minutes
        self._organisation = organisation

    async def audience_of(self, draft: AlertDraft, actor: Actor, now: datetime | None = None) -> Audience:
        """Whom ``draft`` reaches if ``actor`` sends it now (only people they may reach)."""
        reach = reach_of(actor)
        # whom someone belongs to matters only where reach is asked (not for admins, who reach
        # everyone): a national roster's memberships are then not read at all
        candidates = await self._people.targets(draft.audience, memberships=reach is not None)
        audience = select_audience(candidates, draft.audience, draft.severity, now or datetime.now(UTC), reach)
        for person_id, problem in audience.invalid:
            event(log, "audience_person_skipped", person=person_id, reason=problem, level=logging.WARNING)
        return audience

    async def countries_abroad(self) -> list[str]:
        """The countries people abroad live in, for the composer's list (ISO codes only)."""
        return [c for c in await self._people.countries_abroad() if is_abroad_country(c)]

    def author_of(self, person: Person | None, messenger_name: str, actor: Actor) -> Author:
        """Who an alert is from: the coordinator's registered name (else the name their
        messenger shows), and the organisation they send for (an admin: the configured
        organisation, else their own)."""
        name = (person.name if person and person.name else None) or messenger_name
        if actor.organisation is not None:
            return Author(name, actor.organisation.name)
        organisation = self._organisation or (person.organisation if person else None) or ""
        return Author(name, organisation)

    async def send_alert(
        self,
        draft: AlertDraft,
        *,
        actor: Actor,
        author: Author,
        author_language: str = "lv",
        audience: Audience | None = None,
    ) -> SentAlert:
        """Create the alert for everyone ``actor`` may reach in its audience, and queue it
        (``audience``: as counted at the press that sends it, else counted now)."""
        now = datetime.now(UTC)
        if audience is None:
            audience = await self.audience_of(draft, actor, now)
        remind_at = now + timedelta(minutes=self._remind_after) if self._remind_after > 0 else None
        alert_id = await self._alerts.create(
            draft,
            author=actor.address,
            author_name=author.name,
            author_language=author_language,
            organisation=author.organisation,
            organisation_id=actor.organisation_id,
            recipients=audience.recipients,
            remind_at=remind_at,
        )
        event(
            log,
            "alert_created",
            alert=alert_id,
            recipients=len(audience.recipients),
            paused=audience.paused,
            blocked=audience.blocked,
            quiet=audience.quiet,
            severity=draft.severity,
            need=draft.need if draft.need is not None else "-",
            drill=int(draft.drill),
        )
        await self._audit.record(
            actor,
            AuditAction.ALERT_SENT,
            f"alert:{alert_id}",
            recipients=len(audience.recipients),
            out_of_scope=audience.out_of_scope,
            severity=draft.severity,
            drill=draft.drill,
        )
        self._tracking.alert_changed(alert_id)
        self._outbox.wake()
        self._timers.watch(alert_id, remind_at, draft.respond_by)
        alert = await self._alerts.get(alert_id)
        assert alert is not None
        return SentAlert(alert, audience)

    async def record_answer(self, alert_id: int, address: Address, choice: str) -> Answer:
        accepts = choice != DECLINE
        result = await self._alerts.answer(alert_id, address, accepts, eta_of(choice))
        if result.status == AnswerStatus.OK:
            self._tracking.alert_changed(alert_id)
            event(
                log,
                "answer",
                alert=alert_id,
                user=address.external_id,
                response=result.response,
                previous=result.previous,
            )
            if result.withdrew:
                self._tracking.roster_changed(alert_id, RosterChange(RosterChangeKind.WITHDREW, result.name or "?"))
            if result.promoted is not None:
                promoted = result.promoted
                change = RosterChange(RosterChangeKind.PROMOTED, promoted.name or "?")
                self._tracking.roster_changed(alert_id, change)
                params: dict[str, object] = {"alert_id": alert_id}
                await self._alerts.enqueue_one(promoted.recipient_id, promoted.address, OutboxKind.PROMOTED, params)
                # and their alert message shows "confirmed" instead of "standby"
                await self._alerts.enqueue_one(promoted.recipient_id, promoted.address, OutboxKind.EDIT_ANSWER, params)
                event(log, "standby_promoted", alert=alert_id, user=promoted.address.external_id)
                self._outbox.wake()
        return result

    async def withdraw(self, address: Address) -> int:
        """``address`` is leaving (/forget): in every open alert they accepted or are on standby
        for, their place is freed as if they had tapped "I can't" (the first standby person
        moves up, the tracking is told). The number of alerts withdrawn from."""
        alert_ids = await self._alerts.open_answers_of(address)
        for alert_id in alert_ids:
            await self.record_answer(alert_id, address, DECLINE)
        return len(alert_ids)

    async def follow_up(
        self, alert_id: int, actor: Actor, text: str | None = None, location: tuple[float, float] | None = None
    ) -> int:
        """A message (or a location) from ``actor`` to everyone who accepted."""
        params: dict[str, object] = (
            {"text": text} if text else {"latitude": location[0], "longitude": location[1]} if location else {}
        )
        count = await self._alerts.enqueue(alert_id, OutboxKind.FOLLOWUP, responses=(Response.ACCEPTED,), params=params)
        event(log, "followup_queued", alert=alert_id, count=count, location=int(location is not None))
        await self._audit.record_for(
            actor,
            AuditAction.FOLLOWUP_SENT,
            f"alert:{alert_id}",
            await self._organisation_code(alert_id),
            recipients=count,
            location=location is not None,
        )
        self._outbox.wake()
        return count

    async def _organisation_code(self, alert_id: int) -> str:
        """The code of the organisation an alert was sent for: actions on it are audited under it."""
        alert = await self._alerts.get(alert_id)
        return alert.organisation_code if alert is not None else ""

    async def close_alert(self, alert_id: int, actor: Actor) -> Closing:
        cancelled = await self._alerts.close(alert_id)
        if cancelled is None:
            return Closing(False)
        self._outbox.alert_closed(alert_id)
        thanked = await self._alerts.enqueue(alert_id, OutboxKind.CLOSED, responses=(Response.ACCEPTED,), priority=0)
        released = await self._alerts.enqueue(
            alert_id, OutboxKind.STANDBY_RELEASED, responses=(Response.STANDBY,), priority=0
        )
        edits = await self._alerts.enqueue_closed_edits(alert_id)
        self._tracking.alert_changed(alert_id)
        event(
            log,
            "alert_closed",
            alert=alert_id,
            thanked=thanked,
            released=released,
            edits=edits,
            unsent_cancelled=cancelled,
        )
        await self._audit.record_for(
            actor,
            AuditAction.ALERT_CLOSED,
            f"alert:{alert_id}",
            await self._organisation_code(alert_id),
            thanked=thanked,
            released=released,
            unsent=cancelled,
        )
        self._outbox.wake()
        return Closing(True, thanked, released)


class Drafts:
    """What a coordinator is writing, kept in their session so that a restart keeps it: the
    alert being composed (flow ``compose``) or a follow-up (flow ``followup``)."""

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def current(self, address: Address) -> Session | None:
        """The person's session. A draft that a rejection's reason or a reply interrupted
        (``bot.application.conversation.interrupt``) is theirs again as soon as they press one
        of its buttons: the question is dropped (the request still waits, no reply is sent)."""
        session = await self._sessions.get(address)
        if session is not None and session.flow != COMPOSE:
            kept = kept_by(session)
            if kept is not None and kept.flow == COMPOSE:
                return await finish(self._sessions, address)
        return session

    async def compose(self, address: Address, draft: AlertDraft, step: str) -> DraftRef:
        """A new draft (it replaces any other: the other's previews are out of date)."""
        ref = DraftRef(secrets.token_hex(4), 1)
        data = {"draft": draft.to_dict(), "id": ref.id, "version": ref.version}
        await self._sessions.set(address, Session(COMPOSE, step, data))
        return ref

    async def save(self, address: Address, session: Session, draft: AlertDraft, step: str | None = None) -> None:
        """Keep ``draft``; a change makes it a new version (and older previews out of date)."""
        saved = draft.to_dict()
        if saved != session.data.get("draft"):
            session.data["version"] = int(session.data.get("version", 1)) + 1
        session.data["draft"] = saved
        if step is not None:
            session.step = step
        await self._sessions.set(address, session)

    async def move_to(self, address: Address, step: str) -> None:
        """The draft stays as it is, at ``step``."""
        session = await self._sessions.get(address)
        if session is not None and session.flow == COMPOSE:
            session.step = step
            await self._sessions.set(address, session)

    async def write_follow_up(self, address: Address, alert_id: int) -> None:
        await self._sessions.set(address, Session(FOLLOWUP, "text", {"alert_id": alert_id}))

    async def discard(self, address: Address) -> None:
        await self._sessions.clear(address)

    @staticmethod
    def ref_of(session: Session) -> DraftRef:
        """A session saved before drafts had ids reads as draft "-", version 1."""
        return DraftRef(str(session.data.get("id", "-")), int(session.data.get("version", 1)))

    @staticmethod
    def draft_of(session: Session) -> AlertDraft:
        return AlertDraft.from_dict(session.data.get("draft", {}))

    @staticmethod
    def follow_up_alert(session: Session) -> int:
        return int(session.data["alert_id"])
