"""Recording consequential actions in the audit trail, reading it back, and checking its chain."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.domain.audit import AuditAction, AuditEntry, AuditRecord, AuditRole
from bot.domain.coalition import Actor
from bot.logs import event

log = logging.getLogger(__name__)


class AuditStore(Protocol):
    """``db.audit.AuditRepo``."""

    async def append(self, record: AuditRecord) -> AuditEntry: ...


def role_of(actor: Actor) -> AuditRole:
    return AuditRole(actor.role.value)


class Audit:
    def __init__(self, store: AuditStore) -> None:
        self._store = store

    async def record(
        self, actor: Actor, action: AuditAction, target: str = "", **details: int | str | bool | None
    ) -> None:
        """``actor`` (a coordinator or admin) did ``action`` to ``target`` (ids only: "alert:12")."""
        await self.append(
            AuditRecord(action, role_of(actor), actor.address.external_id, actor.organisation_code, target, details)
        )

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
