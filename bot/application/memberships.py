"""The volunteer's side of the coalition: which organisations may call them (``Reach``), leaving
an organisation, "Other organisations in the coalition may call me", and which organisations may
see their phone number. Who may then reach whom is ``bot.domain.coalition.may_reach``."""

from __future__ import annotations

import logging
from typing import Protocol

from bot.application.stores import PeopleStore
from bot.domain.coalition import Membership, Reach
from bot.domain.people import Address, Person
from bot.logs import event

log = logging.getLogger(__name__)


class MembershipStore(Protocol):
    """``db.memberships.MembershipRepo``."""

    async def of(self, address: Address) -> list[Membership]: ...
    async def leave(self, address: Address, organisation_id: int) -> bool: ...
    async def set_phone_visible(self, address: Address, organisation_id: int, visible: bool) -> bool: ...


class Memberships:
    def __init__(self, people: PeopleStore, memberships: MembershipStore) -> None:
        self._people = people
        self._memberships = memberships

    async def reach(self, person: Person) -> Reach:
        """The person's organisations and whether the others may call them too."""
        return Reach(tuple(await self._memberships.of(person.address)), person.open_to_coalition)

    async def allow_other_organisations(self, person: Person, allowed: bool) -> Reach:
        """ "Other organisations in the coalition may call me": yes or no."""
        await self._people.update(person.id, open_to_coalition=allowed)
        person.open_to_coalition = allowed
        event(log, "open_to_coalition_set", user=person.address.external_id, allowed=int(allowed))
        return await self.reach(person)

    async def leave_organisation(self, person: Person, organisation_id: int) -> Membership | None:
        """The person leaves the organisation; the membership they left, None if they were not
        a member (a stale or forged button). Importing its list again does not bring them back."""
        membership = (await self.reach(person)).membership(organisation_id)
        if membership is None or not await self._memberships.leave(person.address, organisation_id):
            return None
        event(log, "organisation_left", user=person.address.external_id, organisation=organisation_id)
        return membership

    async def show_phone_to(self, person: Person, organisation_id: int, visible: bool) -> Reach | None:
        """Let the organisation's coordinators see the person's phone number in their exports,
        or stop it; None if the person is not a member of it."""
        if not await self._memberships.set_phone_visible(person.address, organisation_id, visible):
            return None
        event(
            log,
            "phone_visibility_set",
            user=person.address.external_id,
            organisation=organisation_id,
            visible=int(visible),
        )
        return await self.reach(person)
