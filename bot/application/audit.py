"""Recording consequential actions in the audit trail, reading it back (the command line's
``audit``, the bot's /audit), and checking its chain (``audit verify``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from bot.domain.audit import AuditAction, AuditEntry, AuditQuery, AuditRecord, AuditRole, first_broken
from bot.domain.coalition import Actor, Organisation, may_manage
from bot.logs import event

log = logging.getLogger(__name__)
RECENT = 20  # the entries /audit shows


class AuditStore(Protocol):
    """``db.audit.AuditRepo``."""

    async def append(self, record: AuditRecord) -> AuditEntry: ...
    async def entries(self, query: AuditQuery | None = None) -> list[AuditEntry]: ...


class AuditTrail(Protocol):
    """What the use cases that record their actions need (``Audit``)."""

    async def record(
        self, actor: Actor, action: AuditAction, target: str = "", **details: int | str | bool | None
    ) -> None: ...

    async def record_for(
        self, actor: Actor, action: AuditAction, target: str, organisation: str, **details: int | str | bool | None
    ) -> None: ...

    async def record_as(
        self,
        role: AuditRole,
        action: AuditAction,
        target: str = "",
        organisation: str = "",
        **details: int | str | bool | None,
    ) -> None: ...


@dataclass(frozen=True)
class Verification:
    """``audit verify``: how many entries were checked, and the first whose hash does not follow."""

    entries: int
    broken: AuditEntry | None

    @property
    def intact(self) -> bool:
        return self.broken is None


@dataclass(frozen=True)
class Recent:
    """/audit: the latest entries of the trail an actor may see."""

    organisation: Organisation | None  # None: the whole coalition's
    entries: list[AuditEntry]


def role_of(actor: Actor) -> AuditRole:
    return AuditRole(actor.role.value)


class Audit:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    async def record(
        self, actor: Actor, action: AuditAction, target: str = "", **details: int | str | bool | None
    ) -> None:
        """``actor`` (a coordinator or admin) did ``action`` to ``target`` (ids only: "alert:12")."""
        await self.record_for(actor, action, target, actor.organisation_code, **details)

    async def record_for(
        self, actor: Actor, action: AuditAction, target: str, organisation: str, **details: int | str | bool | None
    ) -> None:
        """``actor`` did ``action`` on behalf of ``organisation`` (its code): an admin's action
        on an organisation's alert or coordinators is filed under that organisation, so that
        its own trail (/audit) shows it."""
        await self.append(AuditRecord(action, role_of(actor), actor.address.external_id, organisation, target, details))

    async def record_as(
        self,
        role: AuditRole,
        action: AuditAction,
        target: str = "",
        organisation: str = "",
        **details: int | str | bool | None,
    ) -> None:
        """An action with no coordinator behind it: the command line, the bot itself, or a
        volunteer's own (recorded without who they were)."""
        await self.append(AuditRecord(action, role, None, organisation, target, details))

    async def append(self, record: AuditRecord) -> None:
        entry = await self._store.append(record)
        event(log, "audit", entry=entry.id, action=record.action, role=record.role, organisation=record.organisation)

    async def entries(self, query: AuditQuery) -> list[AuditEntry]:
        """``python -m bot audit``: the matching entries, oldest first."""
        return await self._store.entries(query)

    async def verify(self) -> Verification:
        """Check the whole chain, from the first entry on."""
        entries = await self._store.entries(AuditQuery())
        broken = first_broken(entries)
        event(log, "audit_verified", entries=len(entries), broken=broken.id if broken else None)
        return Verification(len(entries), broken)

    async def recent(self, actor: Actor, limit: int = RECENT) -> Recent | None:
        """The latest ``limit`` entries for ``actor``: an admin's are the whole coalition's, an
        organisation admin's their organisation's; None for anyone else (a plain coordinator)."""
        if actor.is_admin:
            return Recent(None, await self._store.entries(AuditQuery(limit=limit)))
        organisation = actor.organisation
        if organisation is None or not may_manage(actor, organisation.id):
            return None
        return Recent(organisation, await self._store.entries(AuditQuery(organisation=organisation.code, limit=limit)))
