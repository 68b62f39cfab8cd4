"""Two-person approval: an alert that needs a second person's approval (``needs_approval``) is
stored as a request instead of being sent, and shown to everyone who may decide it
(``coalition.may_decide``: the other coordinators and organisation admins of the author's
organisation, and the admins; never the author). The first approval sends it as the author's
alert; a rejection (with an optional reason) or the end of its time closes it. Every request
message then shows who decided, and the author is told.

Expiry is time-driven through the ``Scheduler``, which keeps nothing across a restart: the
schedule is rebuilt from the database at start-up (``rebuild``)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.application.alerting import Author, SentAlert
from bot.application.audit import Audit
from bot.application.conversation import finish, interrupt
from bot.application.stores import Languages, SessionStore
from bot.application.tracking import MessageFailed, Scheduler
from bot.domain.alerts import Alert, AlertDraft, Audience
from bot.domain.approval import Approval, ApprovalMessage, ApprovalStatus, clean_reason, needs_approval
from bot.domain.audit import AuditAction, AuditRole
from bot.domain.coalition import Actor, Coordinator, may_decide
from bot.domain.people import Address, Person
from bot.domain.sessions import Flow, Session
from bot.logs import event

log = logging.getLogger(__name__)

REASON_STEP = "reason"  # the step of Flow.REJECT: the reason is typed


class ApprovalStore(Protocol):
    """``db.approvals.ApprovalRepo``."""

    async def add(
        self,
        draft: AlertDraft,
        *,
        organisation_id: int | None,
        author: Address,
        author_name: str,
        author_language: str,
        sender: str,
        audience: int,
        created_at: datetime,
        expires_at: datetime,
    ) -> Approval: ...
    async def get(self, approval_id: int) -> Approval | None: ...
    async def pending(self) -> list[Approval]: ...
    async def decide(
        self,
        approval_id: int,
        status: ApprovalStatus,
        *,
        by: Address,
        by_name: str,
        now: datetime,
        reason: str | None = None,
    ) -> bool: ...
    async def reopen(self, approval_id: int) -> None: ...
    async def set_alert(self, approval_id: int, alert_id: int) -> None: ...
    async def expire(self, approval_id: int, now: datetime) -> bool: ...
    async def add_message(self, approval_id: int, message: ApprovalMessage) -> None: ...
    async def messages(self, approval_id: int) -> list[ApprovalMessage]: ...


class AlertSender(Protocol):
    """``bot.application.alerting.Alerting``: whom an alert reaches, who it is from, sending it."""

    async def audience_of(self, draft: AlertDraft, actor: Actor, now: datetime | None = None) -> Audience: ...
    def author_of(self, person: Person | None, messenger_name: str, actor: Actor) -> Author: ...
    async def send_alert(
        self, draft: AlertDraft, *, actor: Actor, author: Author, author_language: str = "lv"
    ) -> SentAlert: ...


class Actors(Protocol):
    """``bot.application.authorisation.Authorisation``."""

    async def actor(self, address: Address) -> Actor | None: ...
    def admins(self) -> frozenset[Address]: ...


class CoordinatorList(Protocol):
    """``db.organisations.CoordinatorRepo``, as far as finding who may decide goes."""

    async def of_organisation(self, organisation_id: int | None = None) -> list[Coordinator]: ...


class ApprovalMessenger(Protocol):
    """``bot.messenger.approval.TelegramApprovalMessenger``: every method raises ``MessageFailed``
    when the message could not be shown."""

    async def send_request(self, chat: str, approval: Approval, audience: Audience, language: str) -> int:
        """The request (the preview, the author, Approve and Reject) in ``chat``; the id of the
        message with the buttons."""

    async def show_decision(self, message: ApprovalMessage, approval: Approval) -> None:
        """A request message edited to show who decided (or that it expired), without buttons."""

    async def tell_author(self, approval: Approval, recipients: int | None) -> None:
        """The author hears the decision (``recipients``: how many the approved alert went to)."""


class AlertTracking(Protocol):
    """``bot.application.tracking.Tracking``: the author's tracking message of the sent alert."""

    async def show_tracking(self, alert: Alert, chat: str, language: str) -> None: ...


class Refusal(StrEnum):
    UNKNOWN = "unknown"  # no such request
    OWN = "own"  # the author cannot decide their own alert
    NOT_YOURS = "not_yours"  # not among those who may decide it (another organisation's)
    DECIDED = "decided"  # someone decided already (``approval`` says who)
    EXPIRED = "expired"
    AUTHOR_GONE = "author_gone"  # the author no longer coordinates: it cannot be sent as theirs


@dataclass(frozen=True)
class Refused:
    refusal: Refusal
    approval: Approval | None = None  # for DECIDED and EXPIRED: as it stands


@dataclass(frozen=True)
class Submitted:
    """Stored and shown: ``approvers`` may decide it, ``reached`` of them got the request now."""

    approval: Approval
    approvers: int
    reached: int


@dataclass(frozen=True)
class NoApprover:
    """Nobody but the author may decide it: nothing was stored or sent."""


@dataclass(frozen=True)
class Asked:
    """Reject was pressed: the reason is asked for; ``kept``: what the decider was doing (a
    draft being composed) waits for them until the rejection is done."""

    approval: Approval
    kept: bool = False


@dataclass(frozen=True)
class Decided:
    approval: Approval  # as decided
    sent: SentAlert | None = None  # approved: the alert as sent


class Approvals:
    def __init__(
        self,
        store: ApprovalStore,
        alerting: AlertSender,
        actors: Actors,
        coordinators: CoordinatorList,
        languages: Languages,
        sessions: SessionStore,
        messenger: ApprovalMessenger,
        tracking: AlertTracking,
        scheduler: Scheduler,
        audit: Audit,
        *,
        approval_above: int,
        approval_for_critical: bool,
        expires_minutes: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._alerting = alerting
        self._actors = actors
        self._coordinators = coordinators
        self._languages = languages
        self._sessions = sessions
        self._messenger = messenger
        self._tracking = tracking
        self._scheduler = scheduler
        self._audit = audit
        self._above = approval_above
        self._for_critical = approval_for_critical
        self._expires = timedelta(minutes=expires_minutes)
        self._clock = clock

    def needed(self, draft: AlertDraft, audience_size: int) -> bool:
        """Whether ``draft``, reaching ``audience_size`` people, waits for a second person."""
        return needs_approval(audience_size, draft.severity, self._above, self._for_critical)

    # ----- the author ------------------------------------------------------------------------

    async def submit(
        self, draft: AlertDraft, *, actor: Actor, author: Author, author_language: str, audience: Audience
    ) -> Submitted | NoApprover:
        """``actor`` pressed Send on ``draft`` (``audience``: its preview's, now): stored as a
        request and shown to everyone who may decide it, or nothing at all when nobody may."""
        deciders = await self._deciders(actor.organisation_id, actor.address)
        if not deciders:
            event(log, "approval_no_approver", user=actor.address.external_id, organisation=actor.organisation_code)
            return NoApprover()
        now = self._clock()
        approval = await self._store.add(
            draft,
            organisation_id=actor.organisation_id,
            author=actor.address,
            author_name=author.name,
            author_language=author_language,
            sender=author.organisation,
            audience=len(audience.recipients),
            created_at=now,
            expires_at=now + self._expires,
        )
        await self._audit.record(
            actor,
            AuditAction.ALERT_SUBMITTED,
            target(approval),
            recipients=approval.audience,
            approvers=len(deciders),
            severity=draft.severity,
            drill=draft.drill,
        )
        self._watch(approval)
        reached = 0
        for address in deciders:
            if await self._show_request(
                approval, audience, address.external_id, await self._languages.language_of(address)
            ):
                reached += 1
        event(
            log,
            "approval_submitted",
            approval=approval.id,
            user=actor.address.external_id,
            recipients=approval.audience,
            approvers=len(deciders),
            reached=reached,
        )
        return Submitted(approval, len(deciders), reached)

    # ----- those who decide ------------------------------------------------------------------

    async def approve(
        self, approval_id: int, actor: Actor, person: Person | None, messenger_name: str
    ) -> Decided | Refused:
        """``actor`` approves: the alert goes out as the author's (their scope, their tracking
        message), once, however many press at the same time."""
        checked = await self._decidable(approval_id, actor)
        if isinstance(checked, Refused):
            return checked
        approval, author = checked
        name = self._alerting.author_of(person, messenger_name, actor).name
        if not await self._store.decide(
            approval_id, ApprovalStatus.APPROVED, by=actor.address, by_name=name, now=self._clock()
        ):
            return await self._lost(approval_id)
        try:
            sent = await self._alerting.send_alert(
                approval.draft,
                actor=author,
                author=Author(approval.author_name, approval.sender),
                author_language=approval.author_language,
            )
        except BaseException:
            await self._store.reopen(approval_id)  # nothing went out: it can still be approved
            raise
        await self._store.set_alert(approval_id, sent.alert.id)
        decided = await self._store.get(approval_id)
        assert decided is not None
        recipients = len(sent.audience.recipients)
        await self._audit.record(
            actor, AuditAction.ALERT_APPROVED, target(decided), alert=sent.alert.id, recipients=recipients
        )
        event(
            log,
            "approval_approved",
            approval=approval_id,
            alert=sent.alert.id,
            by=actor.address.external_id,
            recipients=recipients,
        )
        await self._show_decision(decided)
        await self._tell_author(decided, recipients)
        await self._tracking.show_tracking(sent.alert, approval.author.external_id, approval.author_language)
        return Decided(decided, sent)

    async def start_rejecting(self, approval_id: int, actor: Actor) -> Asked | Refused:
        """Reject was pressed: if ``actor`` may reject it, their next text is the reason."""
        approval = await self._store.get(approval_id)
        refused = await self._check(approval, actor)
        if refused is not None:
            return refused
        assert approval is not None
        asking = Session(Flow.REJECT, REASON_STEP, {"approval": approval_id})
        return Asked(approval, kept=await interrupt(self._sessions, actor.address, asking))

    async def stop_rejecting(self, address: Address) -> None:
        """The reason is no longer asked for (who was asked no longer coordinates)."""
        await self._sessions.clear(address)

    @staticmethod
    def rejecting(session: Session) -> int:
        """The request whose rejection's reason is being typed (Flow.REJECT)."""
        return int(session.data.get("approval", 0))

    async def reject(
        self, approval_id: int, actor: Actor, person: Person | None, messenger_name: str, reason: str | None = None
    ) -> Decided | Refused:
        """``actor`` rejects, with an optional reason the author reads: nothing is sent."""
        session = await self._sessions.get(actor.address)
        if session is not None and session.flow == Flow.REJECT and self.rejecting(session) == approval_id:
            await finish(self._sessions, actor.address)
        approval = await self._store.get(approval_id)
        refused = await self._check(approval, actor)
        if refused is not None:
            return refused
        name = self._alerting.author_of(person, messenger_name, actor).name
        why = clean_reason(reason)
        if not await self._store.decide(
            approval_id, ApprovalStatus.REJECTED, by=actor.address, by_name=name, now=self._clock(), reason=why
        ):
            return await self._lost(approval_id)
        decided = await self._store.get(approval_id)
        assert decided is not None
        await self._audit.record(
            actor, AuditAction.ALERT_REJECTED, target(decided), recipients=decided.audience, reason=why is not None
        )
        event(log, "approval_rejected", approval=approval_id, by=actor.address.external_id, reason=int(why is not None))
        await self._show_decision(decided)
        await self._tell_author(decided, None)
        return Decided(decided)

    async def pending_for(self, actor: Actor) -> list[Approval]:
        """The requests waiting for ``actor``: pending, in time, and theirs to decide."""
        now = self._clock()
        return [
            a
            for a in await self._store.pending()
            if not a.overdue(now) and may_decide(actor, a.organisation_id, a.author)
        ]

    async def show_again(self, approval_id: int, actor: Actor, language: str) -> Approval | Refused:
        """The request (from /pending) once more in ``actor``'s chat, with its buttons."""
        checked = await self._decidable(approval_id, actor)
        if isinstance(checked, Refused):
            return checked
        approval, author = checked
        audience = await self._alerting.audience_of(approval.draft, author)
        await self._show_request(approval, audience, actor.address.external_id, language)
        return approval

    # ----- time --------------------------------------------------------------------------------

    async def expire(self, approval_id: int) -> bool:
        """A request nobody decided in time: marked expired, its messages say so, its author is
        told. False when it was decided (or is not due yet)."""
        if not await self._store.expire(approval_id, self._clock()):
            return False
        approval = await self._store.get(approval_id)
        assert approval is not None
        await self._audit.record_as(
            AuditRole.SYSTEM,
            AuditAction.APPROVAL_EXPIRED,
            target(approval),
            approval.organisation_code,
            recipients=approval.audience,
        )
        event(log, "approval_expired", approval=approval_id)
        await self._show_decision(approval)
        await self._tell_author(approval, None)
        return True

    async def rebuild(self) -> int:
        """Every pending request's expiry, from the database (after a start); overdue ones
        expire at once."""
        pending = await self._store.pending()
        for approval in pending:
            self._watch(approval)
        event(log, "approvals_rebuilt", pending=len(pending))
        admins = len(self._actors.admins())
        if self._for_critical and admins < 2:
            # an admin's own critical alert may be decided by another admin only (may_decide):
            # nobody could approve it, and the operator should know before a crisis
            event(
                log,
                "approval_impossible",
                admins=admins,
                level=logging.WARNING,
                hint="add a second admin, or set alerts.approval_for_critical = false",
            )
        return len(pending)

    def _watch(self, approval: Approval) -> None:
        approval_id = approval.id

        async def expire_when_due() -> None:
            await self.expire(approval_id)

        when = max(approval.expires_at, self._clock())
        self._scheduler.run_once(when, expire_when_due, name=f"approval:{approval_id}")

    # ----- the rules behind them ---------------------------------------------------------------

    async def _decidable(self, approval_id: int, actor: Actor) -> tuple[Approval, Actor] | Refused:
        """The request ``actor`` may decide now, and its author as they act now (a request
        whose author is no longer a coordinator cannot be decided)."""
        approval = await self._store.get(approval_id)
        refused = await self._check(approval, actor)
        if refused is not None:
            return refused
        assert approval is not None
        author = await self._actors.actor(approval.author)
        if author is None:
            event(log, "approval_author_gone", approval=approval_id, level=logging.WARNING)
            return Refused(Refusal.AUTHOR_GONE, approval)
        return approval, author

    async def _check(self, approval: Approval | None, actor: Actor) -> Refused | None:
        """Whether ``actor`` may decide ``approval`` now; a refusal changes nothing (except
        that a request whose time is up expires now rather than at the job)."""
        if approval is None:
            return Refused(Refusal.UNKNOWN)
        if actor.address == approval.author:
            return Refused(Refusal.OWN, approval)
        if not may_decide(actor, approval.organisation_id, approval.author):
            event(log, "approval_refused", approval=approval.id, user=actor.address.external_id, reason="not_yours")
            return Refused(Refusal.NOT_YOURS)
        if approval.status == ApprovalStatus.EXPIRED:
            return Refused(Refusal.EXPIRED, approval)
        if not approval.pending:
            return Refused(Refusal.DECIDED, approval)
        if approval.overdue(self._clock()):
            await self.expire(approval.id)
            return Refused(Refusal.EXPIRED, await self._store.get(approval.id))
        return None

    async def _lost(self, approval_id: int) -> Refused:
        """The decision's UPDATE found the request no longer pending: someone was faster, or
        its time ran out."""
        approval = await self._store.get(approval_id)
        if approval is not None and approval.pending:  # overdue, not marked yet
            await self.expire(approval_id)
            approval = await self._store.get(approval_id)
        expired = approval is not None and approval.status == ApprovalStatus.EXPIRED
        return Refused(Refusal.EXPIRED if expired else Refusal.DECIDED, approval)

    async def _deciders(self, organisation_id: int | None, author: Address) -> list[Address]:
        """Everyone who may decide an alert of ``organisation_id`` by ``author``: admins first."""
        candidates: list[Actor] = [Actor.admin(a) for a in sorted(self._actors.admins(), key=_by_id)]
        if organisation_id is not None:
            candidates += [Actor.of(c) for c in await self._coordinators.of_organisation(organisation_id)]
        return _unique(c.address for c in candidates if may_decide(c, organisation_id, author))

    async def _show_request(self, approval: Approval, audience: Audience, chat: str, language: str) -> bool:
        try:
            message_id = await self._messenger.send_request(chat, approval, audience, language)
        except MessageFailed as exc:
            event(log, "approval_request_failed", approval=approval.id, chat=chat, error=exc.reason)
            return False
        await self._store.add_message(approval.id, ApprovalMessage(chat, message_id, language))
        return True

    async def _show_decision(self, approval: Approval) -> None:
        messages = await self._store.messages(approval.id)
        failed = 0
        for message in messages:
            try:
                await self._messenger.show_decision(message, approval)
            except MessageFailed as exc:
                failed += 1
                event(log, "approval_edit_failed", approval=approval.id, error=exc.reason, level=logging.WARNING)
        event(log, "approval_messages_edited", approval=approval.id, messages=len(messages), failed=failed)

    async def _tell_author(self, approval: Approval, recipients: int | None) -> None:
        try:
            await self._messenger.tell_author(approval, recipients)
        except MessageFailed as exc:
            event(log, "approval_author_not_told", approval=approval.id, error=exc.reason, level=logging.WARNING)


def target(approval: Approval) -> str:
    """The audit trail's target of a request."""
    return f"approval:{approval.id}"


def _by_id(address: Address) -> tuple[str, str]:
    return address.channel, address.external_id


def _unique(addresses: Iterable[Address]) -> list[Address]:
    return list(dict.fromkeys(addresses))
