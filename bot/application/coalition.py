"""The coalition's organisations and the people who coordinate for them: adding organisations
and coordinators (the command line), invite links (``/invite``, opened with ``/start <code>``),
an organisation's volunteers joining through its link, listing and revoking coordinators.

Who may do what is decided by the rules in ``bot.domain.coalition`` and nowhere else; every
consequential action is written to the audit trail (``bot.application.audit``), with ids only.
An actor of ``None`` is the operator at the command line."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

from bot.application.audit import Audit
from bot.application.stores import Languages
from bot.domain.audit import AuditAction, AuditRole
from bot.domain.coalition import (
    Actor,
    Coordinator,
    Invite,
    InviteKind,
    InviteState,
    MembershipSource,
    Organisation,
    Scope,
    StoredRole,
    fits_organisation,
    granted_scope,
    invite_expiry,
    invite_state,
    may_grant,
    may_invite,
    may_revoke,
    new_invite_code,
    valid_invite_code,
    valid_org_code,
    valid_org_name,
)
from bot.domain.outbox import Notice
from bot.domain.people import Address, Person
from bot.logs import event

log = logging.getLogger(__name__)

PENDING_LIMIT = 10_000  # volunteers' links opened before consent, remembered in memory only


class OrganisationStore(Protocol):
    """``db.organisations.OrganisationRepo``."""

    async def add(self, code: str, name: str, scope: Scope) -> Organisation: ...
    async def rename(self, org_id: int, name: str) -> None: ...
    async def by_code(self, code: str) -> Organisation | None: ...
    async def get(self, org_id: int) -> Organisation | None: ...
    async def all(self) -> list[Organisation]: ...


class CoordinatorStore(Protocol):
    """``db.organisations.CoordinatorRepo``."""

    async def get(self, address: Address) -> Coordinator | None: ...
    async def put(
        self,
        address: Address,
        organisation_id: int,
        role: StoredRole,
        scope: Scope,
        *,
        name: str | None = None,
        added_by: str | None = None,
    ) -> bool: ...
    async def revoke(self, address: Address) -> Coordinator | None: ...
    async def of_organisation(self, organisation_id: int | None = None) -> list[Coordinator]: ...


class InviteStore(Protocol):
    """``db.invites.InviteRepo``."""

    async def add(self, invite: Invite) -> None: ...
    async def get(self, code: str) -> Invite | None: ...
    async def use(self, code: str, by: str, at: datetime) -> bool: ...
    async def volunteers_links(self, organisation_id: int) -> list[Invite]: ...


class Member(Protocol):
    """``db.memberships.Membership``."""

    @property
    def organisation(self) -> Organisation: ...


class MembershipStore(Protocol):
    """``db.memberships.MembershipRepo``, as far as joining goes."""

    async def of(self, address: Address) -> Sequence[Member]: ...
    async def join(
        self, address: Address, organisation_id: int, source: MembershipSource, *, phone_visible: bool = False
    ) -> bool: ...


class Actors(Protocol):
    """``bot.application.authorisation.Authorisation``."""

    def is_admin(self, address: Address) -> bool: ...
    async def actor(self, address: Address) -> Actor | None: ...
    async def refresh(self) -> None: ...


class NoticeQueue(Protocol):
    """``db.outbox.OutboxRepo``: a message to one person, sent by the outbox sender."""

    async def enqueue_notice(self, address: Address, notice: Notice, language: str, **params: str) -> None: ...


class Refusal(StrEnum):
    BAD_CODE = "bad_code"  # an organisation code that is not 2-16 of A-Z a-z 0-9 _ -
    BAD_NAME = "bad_name"  # empty, or longer than ORG_NAME_MAX
    ORGANISATION_EXISTS = "organisation_exists"
    NO_ORGANISATION = "no_organisation"  # no organisation has that code
    ORGANISATION_NEEDED = "organisation_needed"  # an admin must name the organisation (org=CODE)
    NOT_ALLOWED = "not_allowed"  # the rules do not let this actor do it
    OUTSIDE_SCOPE = "outside_scope"  # a scope beyond the organisation's, or the actor's own
    IS_ADMIN = "is_admin"  # the person is an admin (access.admin_ids) already
    NOT_A_COORDINATOR = "not_a_coordinator"
    SELF = "self"  # revoking oneself


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    organisation: Organisation | None = None
    scope: Scope | None = None  # OUTSIDE_SCOPE: the scope the request had to lie within


@dataclass(frozen=True)
class Added:
    coordinator: Coordinator
    new: bool  # False: an earlier role (maybe in another organisation) was replaced


@dataclass(frozen=True)
class Listed:
    coordinator: Coordinator
    revocable: bool  # by the one who asked


class LinkStatus(StrEnum):
    """What opening an invite link found."""

    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"
    REVOKED = "revoked"  # withdrawn, or its maker may no longer make it
    UNKNOWN = "unknown"
    OWN = "own"  # the maker opened their own one-time link
    IS_ADMIN = "is_admin"  # an admin opened a coordinator's link: they have every right already


@dataclass(frozen=True)
class Opened:
    """An invite link as the person who opened it sees it: ``invite`` is set unless UNKNOWN;
    ``current``: the role the person holds now, which accepting replaces."""

    status: LinkStatus
    invite: Invite | None = None
    current: Coordinator | None = None


@dataclass(frozen=True)
class Accepted:
    coordinator: Coordinator


class JoinOutcome(StrEnum):
    JOINED = "joined"  # now a member
    ALREADY = "already"  # a member already
    AFTER_CONSENT = "after_consent"  # not registered yet: joins once they agree to the privacy notice


@dataclass(frozen=True)
class Joined:
    outcome: JoinOutcome
    organisation: Organisation
    registration_needed: bool  # carry on as /start does (language, consent, or the next step)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def coordinator_target(address: Address) -> str:
    return f"coordinator:{address.external_id}"


INVITE_TARGET = "invite"  # the code itself is a credential: it is never written to the trail


class PendingJoins:
    """Volunteers' links opened by people who have not agreed to the privacy notice yet: in
    memory only (nothing about a person is stored before consent), bounded, oldest forgotten
    first; a restart forgets them (the person then opens the link again)."""

    def __init__(self, limit: int = PENDING_LIMIT) -> None:
        self._limit = limit
        self._codes: OrderedDict[Address, str] = OrderedDict()

    def remember(self, address: Address, code: str) -> None:
        self._codes.pop(address, None)
        self._codes[address] = code
        while len(self._codes) > self._limit:
            self._codes.popitem(last=False)

    def take(self, address: Address) -> str | None:
        return self._codes.pop(address, None)


class Coalition:
    def __init__(
        self,
        organisations: OrganisationStore,
        coordinators: CoordinatorStore,
        invites: InviteStore,
        memberships: MembershipStore,
        actors: Actors,
        audit: Audit,
        notices: NoticeQueue,
        languages: Languages,
        *,
        clock: Callable[[], datetime] | None = None,
        pending: PendingJoins | None = None,
    ) -> None:
        self._organisations = organisations
        self._coordinators = coordinators
        self._invites = invites
        self._memberships = memberships
        self._actors = actors
        self._audit = audit
        self._notices = notices
        self._languages = languages
        self._clock = clock or _now
        self._pending = pending or PendingJoins()

    # ----- organisations (the command line) -------------------------------------------

    async def add_organisation(self, code: str, name: str, scope: Scope) -> Organisation | Refused:
        """``python -m bot orgs add``."""
        name = " ".join(name.split())
        if not valid_org_code(code):
            return Refused(Refusal.BAD_CODE)
        if not valid_org_name(name):
            return Refused(Refusal.BAD_NAME)
        existing = await self._organisations.by_code(code)
        if existing is not None:
            return Refused(Refusal.ORGANISATION_EXISTS, existing)
        organisation = await self._organisations.add(code, name, scope)
        await self._audit.record_as(
            AuditRole.OPERATOR,
            AuditAction.ORGANISATION_ADDED,
            f"organisation:{organisation.id}",
            organisation.code,
            areas=len(scope.areas),
            countries=len(scope.countries),
        )
        event(log, "organisation_added", organisation=organisation.code, areas=len(scope.areas))
        return organisation

    async def rename_organisation(self, code: str, name: str) -> tuple[Organisation, str] | Refused:
        """``python -m bot orgs rename``: the name its alerts show from now on (those sent
        keep the name they were sent with). Returns the organisation renamed and its old name."""
        name = " ".join(name.split())
        if not valid_org_name(name):
            return Refused(Refusal.BAD_NAME)
        organisation = await self._organisations.by_code(code)
        if organisation is None:
            return Refused(Refusal.NO_ORGANISATION)
        await self._organisations.rename(organisation.id, name)
        await self._audit.record_as(
            AuditRole.OPERATOR, AuditAction.ORGANISATION_RENAMED, f"organisation:{organisation.id}", organisation.code
        )
        event(log, "organisation_renamed", organisation=organisation.code)
        return replace(organisation, name=name), organisation.name

    async def organisations(self) -> list[Organisation]:
        return await self._organisations.all()

    # ----- coordinators ---------------------------------------------------------------

    async def add_coordinator(
        self, address: Address, organisation_code: str, role: StoredRole, scope: Scope
    ) -> Added | Refused:
        """``python -m bot coordinators add``: the operator adds (or changes) a coordinator."""
        organisation = await self._organisations.by_code(organisation_code)
        if organisation is None:
            return Refused(Refusal.NO_ORGANISATION)
        if self._actors.is_admin(address):
            return Refused(Refusal.IS_ADMIN, organisation)
        if not fits_organisation(scope, organisation):
            return Refused(Refusal.OUTSIDE_SCOPE, organisation, organisation.scope)
        new = await self._coordinators.put(address, organisation.id, role, scope)
        coordinator = await self._coordinators.get(address)
        assert coordinator is not None
        await self._audit.record_as(
            AuditRole.OPERATOR,
            AuditAction.COORDINATOR_ADDED,
            coordinator_target(address),
            organisation.code,
            coordinator_role=role.value,
            areas=len(scope.areas),
            countries=len(scope.countries),
        )
        await self._actors.refresh()
        event(log, "coordinator_added", user=address.external_id, organisation=organisation.code, role=role.value)
        return Added(coordinator, new)

    async def revoke_coordinator(self, address: Address, actor: Actor | None) -> Coordinator | Refused:
        """Someone stops coordinating at once (every permission reads the database). ``actor``:
        an admin or that organisation's admin (None: the operator, who may revoke anyone)."""
        coordinator = await self._coordinators.get(address)
        if coordinator is None:
            if self._actors.is_admin(address):
                return Refused(Refusal.IS_ADMIN)
            return Refused(Refusal.NOT_A_COORDINATOR)
        if actor is not None and not may_revoke(actor, coordinator):
            reason = Refusal.SELF if actor.address == address else Refusal.NOT_ALLOWED
            event(log, "revoke_refused", user=actor.address.external_id, target=address.external_id, reason=reason)
            return Refused(reason, coordinator.organisation)
        revoked = await self._coordinators.revoke(address)
        if revoked is None:  # revoked by someone else meanwhile
            return Refused(Refusal.NOT_A_COORDINATOR)
        target = coordinator_target(address)
        role = revoked.role.value
        if actor is None:
            await self._audit.record_as(
                AuditRole.OPERATOR,
                AuditAction.COORDINATOR_REVOKED,
                target,
                revoked.organisation.code,
                coordinator_role=role,
            )
        else:
            await self._audit.record_for(
                actor, AuditAction.COORDINATOR_REVOKED, target, revoked.organisation.code, coordinator_role=role
            )
        await self._actors.refresh()
        # they are told, through the outbox (the command line's revocations too: the bot sends it)
        language = await self._languages.language_of(address)
        await self._notices.enqueue_notice(
            address, Notice.COORDINATOR_REVOKED, language, organisation=revoked.organisation.name
        )
        event(
            log,
            "coordinator_revoked",
            user=address.external_id,
            organisation=revoked.organisation.code,
            by=actor.address.external_id if actor else "operator",
        )
        return revoked

    async def coordinators_of(self, actor: Actor) -> list[Listed]:
        """/coordinators: an admin sees every organisation's (by organisation code), anyone
        else their own organisation's; each with whether ``actor`` may revoke them."""
        if actor.is_admin:
            found = await self._coordinators.of_organisation(None)
        elif actor.organisation is not None:  # their own organisation's
            found = await self._coordinators.of_organisation(actor.organisation.id)
        else:
            found = []
        return [Listed(c, may_revoke(actor, c)) for c in found]

    async def revocation(self, address: Address, actor: Actor) -> Coordinator | Refused:
        """Whether ``actor`` may revoke the coordinator at ``address`` (before asking to confirm)."""
        coordinator = await self._coordinators.get(address)
        if coordinator is None:
            return Refused(Refusal.NOT_A_COORDINATOR)
        if not may_revoke(actor, coordinator):
            event(log, "revoke_refused", user=actor.address.external_id, target=address.external_id)
            return Refused(Refusal.SELF if actor.address == address else Refusal.NOT_ALLOWED, coordinator.organisation)
        return coordinator

    async def all_coordinators(self) -> list[Coordinator]:
        """``python -m bot coordinators list``."""
        return await self._coordinators.of_organisation(None)

    async def coordinator(self, address: Address) -> Coordinator | None:
        return await self._coordinators.get(address)

    # ----- invite links ---------------------------------------------------------------

    async def create_invite(
        self, actor: Actor, kind: InviteKind, organisation_code: str | None, scope: Scope
    ) -> Invite | Refused:
        """/invite: organisation admins invite into their own organisation, admins into the one
        they name. A volunteers' link is reusable: the organisation's current one is given again."""
        organisation: Organisation | None
        if organisation_code is not None:
            organisation = await self._organisations.by_code(organisation_code)
            if organisation is None:
                return Refused(Refusal.NO_ORGANISATION)
        elif actor.organisation is not None:
            organisation = actor.organisation
        else:
            return Refused(Refusal.ORGANISATION_NEEDED)
        if not may_invite(actor, kind, organisation.id):
            event(log, "invite_refused", user=actor.address.external_id, kind=kind, organisation=organisation.code)
            return Refused(Refusal.NOT_ALLOWED, organisation)
        if kind == InviteKind.VOLUNTEERS:
            scope = Scope()
        elif not may_grant(actor, organisation, scope):
            within = organisation.scope if actor.is_admin else granted_scope(actor.scope, organisation)
            return Refused(Refusal.OUTSIDE_SCOPE, organisation, within)
        now = self._clock()
        if kind == InviteKind.VOLUNTEERS:
            for existing in await self._invites.volunteers_links(organisation.id):
                if invite_state(existing, await self._maker(existing), now) == InviteState.OPEN:
                    return existing
        invite = Invite(
            new_invite_code(), kind, organisation, scope, actor.address.external_id, now, invite_expiry(kind, now)
        )
        await self._invites.add(invite)
        await self._audit.record_for(
            actor,
            AuditAction.INVITE_CREATED,
            INVITE_TARGET,
            organisation.code,
            kind=kind.value,
            areas=len(scope.areas),
            countries=len(scope.countries),
        )
        event(log, "invite_created", user=actor.address.external_id, kind=kind, organisation=organisation.code)
        return invite

    async def _maker(self, invite: Invite) -> Actor | None:
        return await self._actors.actor(Address.telegram(invite.created_by))

    async def open_invite(self, code: str, address: Address) -> Opened:
        """``/start <code>``: what the link is and whether it still works for this person."""
        invite = await self._invites.get(code) if valid_invite_code(code) else None
        if invite is None:
            event(log, "invite_unknown", user=address.external_id)
            return Opened(LinkStatus.UNKNOWN)
        state = invite_state(invite, await self._maker(invite), self._clock())
        if state != InviteState.OPEN:
            event(log, "invite_not_open", user=address.external_id, kind=invite.kind, state=state)
            return Opened(LinkStatus(state.value), invite)
        if invite.once and address.external_id == invite.created_by:
            return Opened(LinkStatus.OWN, invite)
        if invite.once and self._actors.is_admin(address):
            return Opened(LinkStatus.IS_ADMIN, invite)
        return Opened(LinkStatus.OPEN, invite, await self._coordinators.get(address) if invite.once else None)

    async def accept_invite(self, code: str, address: Address, name: str | None) -> Accepted | Opened:
        """The person agreed: they become a coordinator (or organisation admin) of the link's
        organisation, with its scope; the link is used up. Anything but an open link changes nothing."""
        opened = await self.open_invite(code, address)
        invite = opened.invite
        if opened.status != LinkStatus.OPEN or invite is None or invite.role is None:
            return opened
        maker = await self._maker(invite)
        if maker is None:  # revoked a moment ago
            return Opened(LinkStatus.REVOKED, invite)
        if not await self._invites.use(code, address.external_id, self._clock()):
            return await self.open_invite(code, address)  # used (or expired) a moment ago
        await self._coordinators.put(
            address, invite.organisation.id, invite.role, invite.scope, name=name, added_by=invite.created_by
        )
        coordinator = await self._coordinators.get(address)
        assert coordinator is not None
        target = coordinator_target(address)
        await self._audit.record_for(
            Actor.of(coordinator),
            AuditAction.INVITE_USED,
            INVITE_TARGET,
            invite.organisation.code,
            kind=invite.kind.value,
            invited_by=maker.address.external_id,
        )
        await self._audit.record_for(
            maker,
            AuditAction.COORDINATOR_ADDED,
            target,
            invite.organisation.code,
            coordinator_role=invite.role.value,
            areas=len(invite.scope.areas),
            countries=len(invite.scope.countries),
        )
        await self._actors.refresh()
        event(
            log,
            "invite_accepted",
            user=address.external_id,
            kind=invite.kind,
            organisation=invite.organisation.code,
            by=invite.created_by,
        )
        return Accepted(coordinator)

    async def join_by_volunteer_link(self, code: str, address: Address, person: Person | None) -> Joined | Opened:
        """A volunteers' link: a person stored already joins the organisation now; someone new
        joins once they agree to the privacy notice (``join_after_consent``). Only a person who
        has registered is done; everyone else carries on as /start does."""
        opened = await self.open_invite(code, address)
        invite = opened.invite
        if opened.status != LinkStatus.OPEN or invite is None or invite.kind != InviteKind.VOLUNTEERS:
            return opened
        registered = person is not None and person.consent_at is not None and person.active
        outcome = await self._join(invite, address) if person is not None else None
        if outcome is None:  # nobody stored yet: nothing may be before they agree
            self._pending.remember(address, code)
            event(log, "volunteer_link_pending", user=address.external_id, organisation=invite.organisation.code)
            return Joined(JoinOutcome.AFTER_CONSENT, invite.organisation, True)
        return Joined(outcome, invite.organisation, not registered)

    async def join_after_consent(self, address: Address) -> Organisation | None:
        """The person agreed to the privacy notice after opening a volunteers' link: they join
        its organisation now, if the link still works. None: there was no such link."""
        code = self._pending.take(address)
        if code is None:
            return None
        opened = await self.open_invite(code, address)
        if opened.status != LinkStatus.OPEN or opened.invite is None:
            return None
        if await self._join(opened.invite, address) is None:
            return None
        return opened.invite.organisation

    def forget_pending(self, address: Address) -> None:
        """The person declined the privacy notice: the link they opened is forgotten too."""
        self._pending.take(address)

    async def _join(self, invite: Invite, address: Address) -> JoinOutcome | None:
        organisation = invite.organisation
        if any(m.organisation.id == organisation.id for m in await self._memberships.of(address)):
            return JoinOutcome.ALREADY
        if not await self._memberships.join(address, organisation.id, MembershipSource.INVITE):
            return None  # no such person (they were forgotten meanwhile)
        await self._audit.record_as(
            AuditRole.VOLUNTEER, AuditAction.INVITE_USED, INVITE_TARGET, organisation.code, kind=invite.kind.value
        )
        event(log, "volunteer_joined", user=address.external_id, organisation=organisation.code)
        return JoinOutcome.JOINED
