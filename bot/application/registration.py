"""Joining: /start, choosing a language, consent (nothing is stored before it), confirming
the details at the end, and /cancel (an unfinished registration leaves nothing behind).
The steps in between are the profile's (``bot.application.profile``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.application.profile import Profile
from bot.application.steps import Step, Steps, asks_about_coalition
from bot.application.stores import PeopleStore, SessionStore
from bot.domain.people import PRIVACY_NOTICE_VERSION, Address, Person, PersonStatus, clean_name
from bot.domain.sessions import Flow, Session
from bot.i18n import is_supported
from bot.logs import event

log = logging.getLogger(__name__)


class StartOutcome(StrEnum):
    CHOOSE_LANGUAGE = "choose_language"  # new, or imported from a list without consent yet
    CONTINUE = "continue"  # registering: go on where they left off
    REGISTERED = "registered"


class ConsentOutcome(StrEnum):
    STARTED = "started"  # a new registration, at its first step
    IMPORTED = "imported"  # on an organisation's list: now agreed, the profile is complete
    CONTINUE = "continue"  # agreed twice (e.g. two /start messages)
    ALREADY_REGISTERED = "already_registered"


class Missing(StrEnum):
    """A part a registration cannot be confirmed without."""

    NAME = "name"
    PLACE = "place"
    SKILLS = "skills"
    AVAILABILITY = "availability"


@dataclass(frozen=True)
class Started:
    outcome: StartOutcome
    step: Step | None = None


@dataclass(frozen=True)
class Consented:
    outcome: ConsentOutcome
    person: Person | None = None
    step: Step | None = None


def missing_parts(person: Person) -> tuple[Missing, ...]:
    complete = {
        Missing.NAME: bool(person.name),
        Missing.PLACE: bool(person.municipality) or bool(person.country and person.city),
        Missing.SKILLS: bool(person.skills),
        Missing.AVAILABILITY: bool(person.availability),
    }
    return tuple(part for part, ok in complete.items() if not ok)


class UnsupportedLanguage(ValueError):
    """A language code that is not in ``bot.i18n``'s list (a stale or forged button)."""


def supported_language(code: str) -> str | None:
    """The code if the bot speaks that language (``bot.i18n.LANGUAGES``), else None."""
    return code if is_supported(code) else None


def _check_language(code: str) -> None:
    if supported_language(code) is None:
        raise UnsupportedLanguage(code)


class Registration:
    def __init__(self, people: PeopleStore, sessions: SessionStore, steps: Steps, profile: Profile) -> None:
        self._people = people
        self._sessions = sessions
        self._steps = steps
        self._profile = profile

    async def start_registration(self, address: Address, person: Person | None) -> Started:
        """/start: choose a language first, continue, or (registered) leave any unfinished edit."""
        if person is None or person.consent_at is None:
            return Started(StartOutcome.CHOOSE_LANGUAGE)
        if person.status == PersonStatus.REGISTERING:
            return Started(StartOutcome.CONTINUE, await self._steps.resume(person))
        await self._profile.drop_edit(address, person)
        return Started(StartOutcome.REGISTERED)

    async def give_consent(
        self, address: Address, person: Person | None, language: str, telegram_name: str
    ) -> Consented:
        """The person agreed to the privacy notice (``PRIVACY_NOTICE_VERSION``) in ``language``;
        a new registration starts with the name they have on Telegram. Someone imported from an
        organisation's list has a complete profile: they see it, after "Other organisations in
        the coalition may call me" when they belong to an organisation (``step``)."""
        _check_language(language)
        now = datetime.now(UTC)
        if person is not None and person.consent_at is None:  # imported from an organisation's list
            await self._people.update(
                person.id, consent_at=now, privacy_version=PRIVACY_NOTICE_VERSION, language=language
            )
            person = await self._people.get(address)
            assert person is not None
            if asks_about_coalition(person):
                await self._steps.go_to(person, Step.COALITION)
                return Consented(ConsentOutcome.IMPORTED, person, Step.COALITION)
            await self._steps.show_summary(person)
            return Consented(ConsentOutcome.IMPORTED, person)
        if person is not None and person.status == PersonStatus.REGISTERING:
            return Consented(ConsentOutcome.CONTINUE, person, await self._steps.resume(person))
        if person is not None:
            return Consented(ConsentOutcome.ALREADY_REGISTERED, person)
        person = await self._people.create(
            address,
            language=language,
            name=clean_name(telegram_name),
            consent_at=now,
            privacy_version=PRIVACY_NOTICE_VERSION,
        )
        event(log, "registration_started", user=address.external_id, lang=language)
        await self._sessions.set(address, Session(Flow.REGISTER, Step.NAME))
        return Consented(ConsentOutcome.STARTED, person, Step.NAME)

    async def change_language(self, person: Person, language: str) -> Step | None:
        """The step to ask again in the new language when the person is registering."""
        _check_language(language)
        await self._people.update(person.id, language=language)
        person.language = language
        event(log, "language_changed", user=person.address.external_id, lang=language)
        if person.status == PersonStatus.REGISTERING:
            return await self._steps.resume(person)
        return None

    async def confirm_registration(self, person: Person) -> tuple[Missing, ...]:
        """Registered, unless some part is missing (then nothing changes)."""
        missing = missing_parts(person)
        if missing:
            return missing
        await self._people.update(person.id, status=PersonStatus.ACTIVE)
        await self._sessions.clear(person.address)
        event(
            log,
            "registered",
            user=person.address.external_id,
            lang=person.language,
            abroad=int(person.abroad),
            skills=len(person.skills),
        )
        return ()

    async def cancel_registration(self, person: Person | None) -> bool:
        """/cancel while registering erases everything entered; False when not registering."""
        if person is None or person.status != PersonStatus.REGISTERING:
            return False
        await self._people.forget(person.address)
        event(log, "registration_cancelled", user=person.address.external_id)
        return True
