"""A coalition on one Sauciens: organisations, their scopes, the roles of the people who send
alerts, and the rules of who may reach whom and who may do what. Every authorisation decision
is one of the functions here (``bot.application.authorisation`` finds the actor and asks)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.domain.people import ALL_ABROAD, Address, LocationKind

ORG_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,16}$")
ORG_NAME_MAX = 120


class Role(StrEnum):
    """Who sends alerts (``coordinators.role`` holds the last two; admins are configured)."""

    ADMIN = "admin"  # access.admin_ids: the operator's people, who may do everything
    ORGADMIN = "orgadmin"  # manages the coordinators of their organisation, and sends alerts
    COORDINATOR = "coordinator"  # sends alerts for one organisation, within its scope


class StoredRole(StrEnum):
    """The roles a ``coordinators`` row may hold (its CHECK constraint)."""

    COORDINATOR = "coordinator"
    ORGADMIN = "orgadmin"


class InviteKind(StrEnum):
    """What an invite link makes of the person who opens it (``invites.kind``)."""

    COORDINATOR = "coordinator"
    ORGADMIN = "orgadmin"
    VOLUNTEERS = "volunteers"  # reusable: whoever opens it joins the organisation as a volunteer


class MembershipSource(StrEnum):
    """How a volunteer joined an organisation (``memberships.source``)."""

    IMPORT = "import"  # the organisation's CSV list
    INVITE = "invite"  # its volunteers' invite link


@dataclass(frozen=True)
class Scope:
    """Where an organisation or a coordinator may send alerts: municipalities (ATVK codes) in
    Latvia and countries abroad (``*``: anywhere abroad). Both empty: everywhere."""

    areas: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    @property
    def everywhere(self) -> bool:
        return not self.areas and not self.countries

    def covers_area(self, atvk: str) -> bool:
        return self.everywhere or atvk in self.areas

    def covers_country(self, code: str) -> bool:
        """``code`` abroad (``*``: the whole of abroad) lies within the scope."""
        if self.everywhere or ALL_ABROAD in self.countries:
            return True
        return code != ALL_ABROAD and code in self.countries

    def covers_place(self, kind: LocationKind | None, municipality: str | None, country: str | None) -> bool:
        """A person in Latvia (``municipality``) or abroad (``country``) lies within the scope."""
        if self.everywhere:
            return True
        if kind == LocationKind.ABROAD:
            return country is not None and self.covers_country(country)
        return municipality is not None and municipality in self.areas

    def within(self, outer: Scope) -> bool:
        """Every place of this scope lies within ``outer`` (an everywhere scope only within everywhere)."""
        if outer.everywhere:
            return True
        if self.everywhere:
            return False
        return all(outer.covers_area(a) for a in self.areas) and all(outer.covers_country(c) for c in self.countries)

    def outside(self, areas: Iterable[str], countries: Iterable[str]) -> tuple[list[str], list[str]]:
        """The ``areas`` and ``countries`` (of an audience or a narrower scope) this scope does not cover."""
        return [a for a in areas if not self.covers_area(a)], [c for c in countries if not self.covers_country(c)]


@dataclass(frozen=True)
class Organisation:
    id: int
    code: str
    name: str
    scope: Scope = field(default_factory=Scope)


@dataclass(frozen=True)
class Membership:
    """A volunteer's membership of an organisation."""

    organisation: Organisation
    source: MembershipSource
    phone_visible: bool  # the organisation's coordinators may see the person's phone number in exports


# An organisation that supplied a volunteer's phone number on its own list may see it: imported
# memberships start with the number visible to that organisation (the volunteer can stop it in /profile).
IMPORTED_PHONE_VISIBLE = True


@dataclass(frozen=True)
class Reach:
    """Which organisations' coordinators may call a volunteer, as ``may_reach`` decides it:
    members of no organisation form the shared pool, which every organisation reaches; members
    are reached by their own organisations, and by the others only when ``open_to_coalition``."""

    memberships: tuple[Membership, ...]
    open_to_coalition: bool

    @property
    def shared_pool(self) -> bool:
        return not self.memberships

    @property
    def every_organisation(self) -> bool:
        """Every organisation of the coalition may call the person."""
        return self.shared_pool or self.open_to_coalition

    def membership(self, organisation_id: int) -> Membership | None:
        return next((m for m in self.memberships if m.organisation.id == organisation_id), None)


@dataclass(frozen=True)
class Coordinator:
    """A ``coordinators`` row: someone an organisation added, with their own narrower scope (or none)."""

    address: Address
    organisation: Organisation
    role: StoredRole
    scope: Scope = field(default_factory=Scope)
    name: str | None = None
    added_by: str | None = None


@dataclass(frozen=True)
class Actor:
    """Whoever is acting as a coordinator now, with everything authorisation needs."""

    address: Address
    role: Role
    organisation: Organisation | None  # None: an admin, for the whole coalition
    scope: Scope  # where their alerts may go: their own, else their organisation's

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def organisation_id(self) -> int | None:
        return self.organisation.id if self.organisation else None

    @property
    def organisation_code(self) -> str:
        return self.organisation.code if self.organisation else ""

    @classmethod
    def admin(cls, address: Address) -> Actor:
        return cls(address, Role.ADMIN, None, Scope())

    @classmethod
    def of(cls, coordinator: Coordinator) -> Actor:
        role = Role.ORGADMIN if coordinator.role == StoredRole.ORGADMIN else Role.COORDINATOR
        scope = granted_scope(coordinator.scope, coordinator.organisation)
        return cls(coordinator.address, role, coordinator.organisation, scope)


# ----- who may reach whom ---------------------------------------------------------------


def may_reach(
    actor: Actor,
    kind: LocationKind | None,
    municipality: str | None,
    country: str | None,
    organisations: Iterable[int],
    open_to_coalition: bool,
) -> bool:
    """Whether ``actor``'s alerts may reach a person: admins reach everyone; a coordinator only
    within their scope, and there the coalition's shared pool (people of no organisation), their
    own organisation's members, and other organisations' members who said they may be called."""
    if actor.is_admin:
        return True
    if not actor.scope.covers_place(kind, municipality, country):
        return False
    members_of = tuple(organisations)
    if not members_of or actor.organisation_id in members_of:
        return True
    return open_to_coalition


class Reachable(Protocol):
    """What ``may_reach`` reads of a person (a ``Person`` or an audience's ``Target``)."""

    @property
    def location_kind(self) -> LocationKind | None: ...
    @property
    def municipality(self) -> str | None: ...
    @property
    def country(self) -> str | None: ...
    @property
    def organisations(self) -> tuple[int, ...]: ...
    @property
    def open_to_coalition(self) -> bool: ...


def reach_of(actor: Actor) -> Callable[[Reachable], bool] | None:
    """``may_reach`` for ``actor``, as audience selection asks it person by person (None: an
    admin, who reaches everyone, so that nobody is asked)."""
    if actor.is_admin:
        return None

    def reaches(p: Reachable) -> bool:
        return may_reach(actor, p.location_kind, p.municipality, p.country, p.organisations, p.open_to_coalition)

    return reaches


# ----- who may do what ------------------------------------------------------------------


def may_manage(actor: Actor, organisation_id: int) -> bool:
    """Invite and revoke coordinators, see the audit trail: admins anywhere, organisation admins in their own."""
    return actor.is_admin or (actor.role == Role.ORGADMIN and actor.organisation_id == organisation_id)


def may_act_on_alert(actor: Actor, alert_organisation_id: int | None, author: Address) -> bool:
    """Follow an alert (status, reminders, follow-ups, closing, exports): its author, admins,
    and the coordinators of the organisation it was sent for."""
    if actor.is_admin or actor.address == author:
        return True
    return alert_organisation_id is not None and actor.organisation_id == alert_organisation_id


def phone_shown(alert_organisation_id: int | None, member_of: Iterable[int], phone_visible_to: Iterable[int]) -> bool:
    """Whether an alert's export and roster show a recipient's phone number. An organisation's
    alert: only if the person lets that organisation see it. An admin's own alert (no
    organisation): if the person belongs to no organisation (the shared pool, who gave their
    number to the coalition's coordinators) or lets at least one of their organisations see it;
    a member who lets none of them see it stays hidden from admins too."""
    visible = tuple(phone_visible_to)
    if alert_organisation_id is not None:
        return alert_organisation_id in visible
    return not tuple(member_of) or bool(visible)


def may_invite(actor: Actor, kind: InviteKind, organisation_id: int) -> bool:
    """Organisation admins invite coordinators and volunteers into their own organisation;
    only admins make organisation admins."""
    if actor.is_admin:
        return True
    return kind != InviteKind.ORGADMIN and may_manage(actor, organisation_id)


def may_decide(actor: Actor, approval_organisation_id: int | None, author: Address) -> bool:
    """Approve or reject an alert waiting for a second person: anyone but its author among the
    coordinators and organisation admins of its organisation, and admins."""
    if actor.address == author:
        return False
    if actor.is_admin:
        return True
    return approval_organisation_id is not None and actor.organisation_id == approval_organisation_id


# ----- codes ---------------------------------------------------------------------------

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
INVITE_CODE_LENGTH = 16  # a /start parameter: at most 64 of A-Z a-z 0-9 _ -


def new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_CODE_LENGTH))


def valid_org_code(code: str) -> bool:
    return bool(ORG_CODE_RE.match(code))


def valid_org_name(name: str) -> bool:
    """An organisation's name (its spaces already tidied): 1 to ``ORG_NAME_MAX`` characters."""
    return 0 < len(name) <= ORG_NAME_MAX


# ----- scopes granted, invites, revocation ---------------------------------------------

INVITE_LIFETIME = timedelta(hours=72)  # a coordinator's or organisation admin's link


def fits_organisation(scope: Scope, organisation: Organisation) -> bool:
    """A coordinator's own scope lies within their organisation's (empty: the organisation's)."""
    return scope.everywhere or scope.within(organisation.scope)


def granted_scope(scope: Scope, organisation: Organisation) -> Scope:
    """Where someone given ``scope`` in ``organisation`` may send alerts (empty: the organisation's)."""
    return organisation.scope if scope.everywhere else scope


def may_grant(actor: Actor, organisation: Organisation, scope: Scope) -> bool:
    """Whether ``actor`` may make someone a coordinator of ``organisation`` with ``scope``: within
    the organisation's scope, and (for anyone but an admin) within the actor's own."""
    if not may_manage(actor, organisation.id) or not fits_organisation(scope, organisation):
        return False
    return actor.is_admin or granted_scope(scope, organisation).within(actor.scope)


def may_revoke(actor: Actor, coordinator: Coordinator) -> bool:
    """Admins revoke anyone, organisation admins the coordinators of their own organisation;
    nobody revokes themselves (an organisation would lock itself out by a slip)."""
    return actor.address != coordinator.address and may_manage(actor, coordinator.organisation.id)


class InviteState(StrEnum):
    """What opening an invite link finds (derived, not stored)."""

    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"  # a one-time link that was used already
    REVOKED = "revoked"  # withdrawn, or its maker may no longer invite


@dataclass(frozen=True)
class Invite:
    """An ``invites`` row: what the link makes of whoever opens it, for which organisation."""

    code: str
    kind: InviteKind
    organisation: Organisation
    scope: Scope  # a coordinator's narrower scope (empty: the organisation's)
    created_by: str  # the maker's Telegram id
    created_at: datetime
    expires_at: datetime | None  # None: a volunteers' link, which does not expire
    used_at: datetime | None = None
    used_by: str | None = None
    revoked_at: datetime | None = None

    @property
    def once(self) -> bool:
        """Coordinators' and organisation admins' links work once; volunteers' links for everyone."""
        return self.kind != InviteKind.VOLUNTEERS

    @property
    def role(self) -> StoredRole | None:
        """The role the link gives (None: a volunteers' link)."""
        if self.kind == InviteKind.ORGADMIN:
            return StoredRole.ORGADMIN
        return StoredRole.COORDINATOR if self.kind == InviteKind.COORDINATOR else None


def invite_expiry(kind: InviteKind, now: datetime) -> datetime | None:
    return None if kind == InviteKind.VOLUNTEERS else now + INVITE_LIFETIME


def invite_state(invite: Invite, maker: Actor | None, now: datetime) -> InviteState:
    """Whether the link still works: not withdrawn, not used (a one-time link), not expired, and
    its maker (``maker``: as whom they act now, None if they no longer do) may still make it."""
    if invite.revoked_at is not None:
        return InviteState.REVOKED
    if invite.once and invite.used_at is not None:
        return InviteState.USED
    if invite.expires_at is not None and invite.expires_at <= now:
        return InviteState.EXPIRED
    if maker is None or not may_invite(maker, invite.kind, invite.organisation.id):
        return InviteState.REVOKED
    if invite.kind != InviteKind.VOLUNTEERS and not may_grant(maker, invite.organisation, invite.scope):
        return InviteState.REVOKED
    return InviteState.OPEN


def valid_invite_code(code: str) -> bool:
    return len(code) == INVITE_CODE_LENGTH and all(c in INVITE_ALPHABET for c in code)
