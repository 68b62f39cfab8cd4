"""The storage and shared services, built first in ``bot.app``; the alerting and tracking use
cases are built on them there."""

from __future__ import annotations

from dataclasses import dataclass

from bot.application.identity import Identity
from bot.domain.access import Access
from bot.domain.budget import SendBudget
from bot.settings import Settings
from db.alerts import AlertRepo
from db.database import Database
from db.outbox import OutboxRepo
from db.people import PeopleRepo
from db.sessions import SessionRepo


@dataclass
class Services:
    settings: Settings
    db: Database
    people: PeopleRepo
    sessions: SessionRepo
    access: Access
    identity: Identity
    budget: SendBudget
    alerts: AlertRepo
    outbox: OutboxRepo

    @classmethod
    def create(cls, settings: Settings) -> Services:
        db = Database(settings.database.path)
        rate = settings.broadcast.messages_per_second
        people, alerts, outbox = PeopleRepo(db), AlertRepo(db), OutboxRepo(db)
        access = Access(settings.access.admin_ids)
        return cls(
            settings=settings,
            db=db,
            people=people,
            sessions=SessionRepo(db),
            access=access,
            identity=Identity(people, access),
            budget=SendBudget(rate, burst=max(1.0, rate / 10)),
            alerts=alerts,
            outbox=outbox,
        )
