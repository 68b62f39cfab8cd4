"""Who is writing: the person behind an address, and whether they coordinate."""

from __future__ import annotations

from typing import Protocol

from bot.domain.access import Access
from bot.domain.people import Address, Person


class PeopleLookup(Protocol):
    async def get(self, address: Address) -> Person | None: ...
    async def set_blocked(self, address: Address, blocked: bool) -> None: ...


class CoordinatorLanguages(Protocol):
    """``db.coordinators.CoordinatorLanguageRepo``: the language of a coordinator who has not registered."""

    async def get(self, address: Address) -> str | None: ...
    async def set(self, address: Address, language: str) -> None: ...


class Identity:
    def __init__(self, people: PeopleLookup, access: Access, languages: CoordinatorLanguages | None = None) -> None:
        self._people = people
        self._access = access
        self._languages = languages

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

    async def coordinator_language(self, address: Address) -> str | None:
        """The language a coordinator chose with /language without registering (None: not chosen)."""
        if self._languages is None or not self.is_coordinator(address):
            return None
        return await self._languages.get(address)

    async def set_coordinator_language(self, address: Address, language: str) -> bool:
        """/language for a coordinator who has not registered; False for anyone else."""
        if self._languages is None or not self.is_coordinator(address):
            return False
        await self._languages.set(address, language)
        return True
