"""The storage and shared services, built first in ``bot.app``; the alerting and tracking use
cases (and /forget's, which frees places in alerts) are built on them there."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.application.audit import Audit
from bot.application.authorisation import AlertAccess, Authorisation
from bot.application.coalition import Coalition
from bot.application.conversation import Conversations
from bot.application.identity import Identity
from bot.application.memberships import Memberships
from bot.application.pause import Pausing
from bot.application.profile import Profile
from bot.application.registration import Registration
from bot.application.steps import Steps
from bot.application.talkback import Talkback
from bot.application.verification import Verification
from bot.domain.budget import SendBudget
from bot.settings import Settings
from db.alerts import AlertRepo
from db.audit import AuditRepo
from db.coordinators import CoordinatorLanguageRepo
from db.database import Database
from db.invites import InviteRepo
from db.memberships import MembershipRepo
from db.messages import MessageRepo
from db.organisations import CoordinatorRepo, OrganisationRepo
from db.outbox import OutboxRepo
from db.people import PeopleRepo
from db.sessions import SessionRepo

FREE_RATE = 30.0  # messages per second Telegram allows a bot without paid broadcasts


@dataclass
class Services:
    settings: Settings
    db: Database
    people: PeopleRepo
    sessions: SessionRepo
    organisations: OrganisationRepo
    coordinators: CoordinatorRepo
    memberships: MembershipRepo
    authorisation: Authorisation
    audit: Audit
    coalition: Coalition
    identity: Identity
    budget: SendBudget
    alerts: AlertRepo
    outbox: OutboxRepo
    conversations: Conversations
    steps: Steps
    profile: Profile
    membership_choices: Memberships  # the volunteer's side: leave, who may call, who sees the phone
    registration: Registration
    pausing: Pausing
    talkback: Talkback
    verification: Verification

    @classmethod
    def create(cls, settings: Settings) -> Services:
        db = Database(settings.database.path)
        rate = settings.broadcast.messages_per_second
        people, sessions, alerts, outbox = PeopleRepo(db), SessionRepo(db), AlertRepo(db), OutboxRepo(db)
        organisations, coordinators, memberships = OrganisationRepo(db), CoordinatorRepo(db), MembershipRepo(db)
        authorisation = Authorisation(settings.access.admin_ids, coordinators)
        audit = Audit(AuditRepo(db))
        identity = Identity(people, authorisation, CoordinatorLanguageRepo(db))
        steps = Steps(people, sessions)
        profile = Profile(people, sessions, steps)
        return cls(
            settings=settings,
            db=db,
            people=people,
            sessions=sessions,
            organisations=organisations,
            coordinators=coordinators,
            memberships=memberships,
            authorisation=authorisation,
            audit=audit,
            coalition=Coalition(
                organisations, coordinators, InviteRepo(db), memberships, authorisation, audit, outbox, identity
            ),
            identity=identity,
            # paid broadcasts: edits and replies keep Telegram's free rate, in a lane of their own
            budget=SendBudget(
                rate,
                burst=max(1.0, rate / 10),
                free_rate=FREE_RATE if settings.broadcast.paid else None,
            ),
            alerts=alerts,
            outbox=outbox,
            conversations=Conversations(sessions),
            steps=steps,
            profile=profile,
            membership_choices=Memberships(people, memberships),
            registration=Registration(people, sessions, steps, profile),
            pausing=Pausing(people, sessions),
            talkback=Talkback(
                MessageRepo(db),
                sessions,
                people,
                AlertAccess(alerts),
                max_messages=settings.talkback.max_messages,
                window=timedelta(minutes=settings.talkback.window_minutes),
            ),
            verification=Verification(alerts),
        )


def coalition_on(db: Database, admin_ids: Iterable[int], clock: Callable[[], datetime] | None = None) -> Coalition:
    """The coalition's use cases on ``db`` alone, with repositories of their own: for the
    command line (``bot.cli``) and tests (``clock``: the time, when not now)."""
    coordinators = CoordinatorRepo(db)
    authorisation = Authorisation(admin_ids, coordinators)
    return Coalition(
        OrganisationRepo(db),
        coordinators,
        InviteRepo(db),
        MembershipRepo(db),
        authorisation,
        Audit(AuditRepo(db)),
        OutboxRepo(db),  # a revoked coordinator is told by the running bot's outbox sender
        Identity(PeopleRepo(db), authorisation, CoordinatorLanguageRepo(db)),
        clock=clock,
    )
