"""Which conversation (flow and step) a person is in: the text router asks here."""

from __future__ import annotations

from bot.application.stores import SessionStore
from bot.domain.people import Address
from bot.domain.sessions import Session, interrupting, kept_by


async def interrupt(sessions: SessionStore, address: Address, session: Session) -> bool:
    """Start ``session`` on top of what ``address`` is doing, which comes back when it ends
    (``finish``): a coordinator pressing Reject or Reply keeps the alert they were composing.
    True if something was kept."""
    started = interrupting(session, await sessions.get(address))
    await sessions.set(address, started)
    return kept_by(started) is not None


async def finish(sessions: SessionStore, address: Address) -> Session | None:
    """End ``address``'s session; what it interrupted, if anything, is theirs again (returned)."""
    current = await sessions.get(address)
    back = kept_by(current) if current is not None else None
    if back is None:
        await sessions.clear(address)
    else:
        await sessions.set(address, back)
    return back


class Conversations:
    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def current(self, address: Address) -> Session | None:
        return await self._sessions.get(address)

    async def end(self, address: Address) -> None:
        """/cancel: the session ends, and what it interrupted comes back."""
        await finish(self._sessions, address)
