"""Which conversation (flow and step) a person is in: the text router asks here."""

from __future__ import annotations

from bot.application.stores import SessionStore
from bot.domain.people import Address
from bot.domain.sessions import Session


class Conversations:
    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def current(self, address: Address) -> Session | None:
        return await self._sessions.get(address)

    async def end(self, address: Address) -> None:
        await self._sessions.clear(address)
