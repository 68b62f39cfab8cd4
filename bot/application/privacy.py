"""/mydata (everything stored about a person), /forget (erase it), and agreeing again to a
privacy notice that has changed since the person agreed to it (``PRIVACY_NOTICE_VERSION``)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Protocol

from bot.application.audit import AuditTrail
from bot.application.stores import PeopleStore
from bot.domain.audit import AuditAction, AuditRole
from bot.domain.people import PRIVACY_NOTICE_VERSION, Address, Person, must_agree_again
from bot.domain.talkback import TalkMessage
from bot.logs import event

log = logging.getLogger(__name__)


class Withdrawals(Protocol):
    """The alerting (``bot.application.alerting.Alerting``): free a leaving person's places."""

    async def withdraw(self, address: Address) -> int: ...


class Messages(Protocol):
    """Talk-back (``bot.application.talkback.Talkback``): the person's messages to and from coordinators."""

    async def of_person(self, address: Address) -> list[TalkMessage]: ...
    async def forget(self, address: Address) -> int: ...


class Privacy:
    def __init__(self, people: PeopleStore, withdrawals: Withdrawals, messages: Messages, audit: AuditTrail) -> None:
        self._people = people
        self._withdrawals = withdrawals
        self._messages = messages
        self._audit = audit

    def must_agree_again(self, person: Person | None) -> bool:
        """The person agreed to an older privacy notice: they are asked again before anything else."""
        return person is not None and must_agree_again(person)

    async def agree_again(self, person: Person, version: int) -> bool:
        """The person agreed to version ``version`` of the notice (the one they were shown);
        False, and nothing stored, when that is not the current one (an old message's button)."""
        if version != PRIVACY_NOTICE_VERSION:
            return False
        now = datetime.now(UTC)
        await self._people.update(person.id, consent_at=now, privacy_version=version)
        person.consent_at, person.privacy_version = now, version
        event(log, "privacy_notice_agreed", user=person.address.external_id, version=version)
        return True

    async def my_data(self, address: Address) -> bytes | None:
        """Everything stored about the person as JSON; None when nothing is."""
        data = await self._people.personal_data(address)
        if data is None:
            return None
        data["messages"] = [
            {
                "alert_id": m.alert_id,
                "direction": m.direction.value,
                "coordinator": m.coordinator_name,
                "text": m.text,
                "created_at": m.created_at.isoformat(),
            }
            for m in await self._messages.of_person(address)
        ]
        data["exported_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
        event(log, "mydata_sent", user=address.external_id, bytes=len(payload))
        return payload

    async def forget(self, address: Address) -> bool:
        """Erase the person and everything that identifies them; False when nothing was stored.
        First their places in open alerts are freed, so that no anonymous "accepted" keeps
        filling a quota and the first person on standby moves up. The audit trail records that
        someone was forgotten, and from how many alerts they withdrew, but not who."""
        withdrawn = await self._withdrawals.withdraw(address)
        messages = await self._messages.forget(address)
        erased = await self._people.forget(address)
        event(
            log,
            "person_forgotten",
            user=address.external_id,
            erased=int(erased),
            withdrawn=withdrawn,
            messages=messages,
        )
        if erased:
            await self._audit.record_as(AuditRole.VOLUNTEER, AuditAction.PERSON_FORGOTTEN, withdrawn=withdrawn)
        return erased
