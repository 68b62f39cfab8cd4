"""What the use cases need from storage (``db.people.PeopleRepo``, ``db.sessions.SessionRepo``,
``db.alerts.AlertRepo``), where more than one use case needs the same."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from bot.domain.alerts import Response
from bot.domain.outbox import OutboxKind
from bot.domain.people import Address, Person
from bot.domain.sessions import Session


class PeopleStore(Protocol):
    async def get(self, address: Address) -> Person | None: ...
    async def create(
        self,
        address: Address,
        *,
        language: str,
        name: str | None,
        consent_at: datetime,
        privacy_version: int | None = None,
    ) -> Person: ...
    async def update(self, person_id: int, **fields: object) -> None: ...
    async def set_skills(self, person_id: int, skills: Iterable[str]) -> None: ...
    async def forget(self, address: Address) -> bool: ...
    async def personal_data(self, address: Address) -> dict[str, object] | None: ...


class Languages(Protocol):
    """``bot.application.identity.Identity``: the language to write to someone in."""

    async def language_of(self, address: Address) -> str: ...


class SessionStore(Protocol):
    async def get(self, address: Address) -> Session | None: ...
    async def set(self, address: Address, session: Session) -> None: ...
    async def clear(self, address: Address) -> None: ...


class AlertMessageQueue(Protocol):
    """Queues messages about an alert to its recipients (``db.alerts.AlertRepo.enqueue``)."""

    async def enqueue(
        self,
        alert_id: int,
        kind: OutboxKind,
        *,
        responses: tuple[Response, ...],
        params: dict[str, object] | None = None,
        priority: int = 1,
        max_reminders: int | None = None,
    ) -> int: ...
