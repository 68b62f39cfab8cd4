"""Who is writing: the person behind an address, and whether they coordinate."""

from __future__ import annotations

from typing import Protocol

from bot.domain.access import Access
from bot.domain.people import Address, Person


class PeopleLookup(Protocol):
    async def get(self, address: Address) -> Person | None: ...
    async def set_blocked(self, address: Address, blocked: bool) -> None: ...


class Identity:
    def __init__(self, people: PeopleLookup, access: Access) -> None:
        self._people = people
        self._access = access

    async def identify(self, address: Address) -> Person | None:
        """The person stored for ``address``, or None. Someone who writes to the bot again has
        unblocked it, so they are included in alerts again."""
        person = await self._people.get(address)
        if person is not None and person.blocked:
            await self._people.set_blocked(address, False)
            person.blocked = False
        return person

    def is_coordinator(self, address: Address) -> bool:
        return self._access.is_coordinator(address)
