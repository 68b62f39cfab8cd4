"""Pausing alerts (until the person resumes, for a week, or until a date) and resuming."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.application.stores import PeopleStore, SessionStore
from bot.domain.people import Person, parse_date
from bot.domain.sessions import Flow, Session
from bot.logs import event

log = logging.getLogger(__name__)

UNTIL_DATE = "until"  # the one step of the pause flow: waiting for a typed date


def today_for(person: Person) -> date:
    return datetime.now(ZoneInfo(person.timezone)).date()


class Pausing:
    def __init__(self, people: PeopleStore, sessions: SessionStore) -> None:
        self._people = people
        self._sessions = sessions

    async def pause_until(self, person: Person, until: date | None) -> None:
        """No alerts until ``until`` (the person's local date), or until they resume (None)."""
        await self._people.update(person.id, paused=True, paused_until=until)
        await self._sessions.clear(person.address)
        event(log, "paused", user=person.address.external_id, until=until or "resume")

    async def pause_for_a_week(self, person: Person) -> date:
        until = today_for(person) + timedelta(days=7)
        await self.pause_until(person, until)
        return until

    async def ask_until_date(self, person: Person) -> None:
        """The next text the person types is the date to pause until."""
        await self._sessions.set(person.address, Session(Flow.PAUSE, UNTIL_DATE))

    async def pause_until_text(self, person: Person, text: str) -> date | None:
        """Pause until a typed date; None (nothing changes) when it is not a date from today on."""
        until = parse_date(text, today_for(person))
        if until is not None:
            await self.pause_until(person, until)
        return until

    async def resume(self, person: Person) -> None:
        await self._people.update(person.id, paused=False, paused_until=None)
        event(log, "resumed", user=person.address.external_id)
