"""Who is writing: the person behind an address, and whether (and as whom) they coordinate."""

from __future__ import annotations

from typing import Protocol

from bot.application.authorisation import Authorisation
from bot.domain.coalition import Actor
from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.people import Address, Person


class PeopleLookup(Protocol):
    async def get(self, address: Address) -> Person | None: ...
    async def set_blocked(self, address: Address, blocked: bool) -> None: ...


class CoordinatorLanguages(Protocol):
    """``db.coordinators.CoordinatorLanguageRepo``: the language of a coordinator who has not registered."""

    async def get(self, address: Address) -> str | None: ...
    async def set(self, address: Address, language: str) -> None: ...


class Identity:
    def __init__(
        self, people: PeopleLookup, authorisation: Authorisation, languages: CoordinatorLanguages | None = None
    ) -> None:
        self._people = people
        self._authorisation = authorisation
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
        """An admin or coordinator, without reading the database: for what is not a permission
        (which /start to show, the throttle). Permissions come from ``actor``."""
        return self._authorisation.is_staff(address)

    async def actor(self, address: Address) -> Actor | None:
        """The admin, organisation admin or coordinator at ``address`` now, or None."""
        return await self._authorisation.actor(address)

    async def coordinator_language(self, address: Address, seen: str | None = None) -> str | None:
        """The language of a coordinator who has not registered: the one chosen with
        /language, else ``seen``, the one the bot answers their Telegram app in, remembered the
        first time so that what they did not ask for (approval requests, notices) comes in it
        too. None: not a coordinator, or neither is known."""
        if self._languages is None or not self.is_coordinator(address):
            return None
        chosen = await self._languages.get(address)
        if chosen is None and seen is not None:
            await self._languages.set(address, seen)
            return seen
        return chosen

    async def language_of(self, address: Address) -> str:
        """The language to write to ``address`` in when they did not ask (an approval request,
        a notice): their own if they registered, else the one they chose as a coordinator
        (also after they stopped coordinating), else the default."""
        person = await self._people.get(address)
        if person is not None:
            return person.language
        chosen = await self._languages.get(address) if self._languages is not None else None
        return chosen or DEFAULT_LANGUAGE

    async def set_coordinator_language(self, address: Address, language: str) -> bool:
        """/language for a coordinator who has not registered; False for anyone else."""
        if self._languages is None or not self.is_coordinator(address):
            return False
        await self._languages.set(address, language)
        return True
