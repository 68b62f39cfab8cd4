"""A person's details, changed one part at a time: during registration and later from
/profile alike (the same steps). Each operation checks what it is given, stores it and says
what it stored; nothing here knows about messages or buttons."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.application.steps import EDITABLE, Step, Steps
from bot.application.stores import PeopleStore, SessionStore
from bot.domain import places, skills
from bot.domain.people import (
    AVAILABILITY,
    LATVIA,
    LATVIA_TZ,
    Address,
    InvalidPhone,
    LocationKind,
    Person,
    PersonStatus,
    clean_city,
    clean_name,
    contact_phone,
    normalise_phone,
    parse_quiet_hours,
)
from bot.domain.sessions import Flow, Session
from bot.logs import event

log = logging.getLogger(__name__)

# What a change of place touches; kept before the change so that leaving half-way restores it.
PLACE_FIELDS = ("location_kind", "municipality", "country", "city", "timezone")


class PhoneResult(StrEnum):
    SAVED = "saved"
    NOT_OWN = "not_own"  # somebody else's contact
    INVALID = "invalid"


class ProfileOutcome(StrEnum):
    NOT_REGISTERED = "not_registered"
    REGISTERING = "registering"  # finish the registration first
    SHOWN = "shown"


@dataclass(frozen=True)
class Opened:
    outcome: ProfileOutcome
    person: Person | None = None
    step: Step | None = None  # where a registering person left off


class Profile:
    def __init__(self, people: PeopleStore, sessions: SessionStore, steps: Steps) -> None:
        self._people = people
        self._sessions = sessions
        self._steps = steps

    # ----- the profile as a whole -------------------------------------------------------

    async def open_profile(self, address: Address, person: Person | None) -> Opened:
        """/profile: the profile, leaving any change that was not finished."""
        if person is None or person.consent_at is None:
            return Opened(ProfileOutcome.NOT_REGISTERED)
        if person.status == PersonStatus.REGISTERING:
            return Opened(ProfileOutcome.REGISTERING, person, await self._steps.resume(person))
        person = await self.drop_edit(address, person) or person
        await self._steps.show_summary(person)
        return Opened(ProfileOutcome.SHOWN, person)

    async def start_edit(self, address: Address, person: Person, part: Step) -> Person:
        """Change one part (``EDITABLE``) of the profile, or of a registration at its summary."""
        assert part in EDITABLE
        person = await self.drop_edit(address, person) or person  # a change left half-way
        registering = person.status == PersonStatus.REGISTERING
        data: dict[str, object] = {"return": Step.SUMMARY if registering else Step.PROFILE}
        if part == Step.WHERE:
            # The place is changed in several steps; keep the old one to restore if the
            # person leaves half-way (/cancel, /profile), so it is never left inconsistent.
            data["before"] = {f: getattr(person, f) for f in PLACE_FIELDS}
        await self._sessions.set(address, Session(Flow.REGISTER if registering else Flow.EDIT, part, data))
        return person

    async def finish_editing(self, address: Address, person: Person) -> None:
        """Done with the profile."""
        await self.drop_edit(address, person)

    async def cancel_edit(self, address: Address, person: Person | None) -> bool:
        """/cancel during a change: the details stay as they were. False when not editing."""
        session = await self._sessions.get(address)
        if session is None or session.flow != Flow.EDIT or person is None:
            return False
        await self.drop_edit(address, person)
        return True

    async def drop_edit(self, address: Address, person: Person) -> Person | None:
        """Leave a change that was not finished, restoring the place if it was being changed;
        the person as stored afterwards (None when there was nothing to drop)."""
        session = await self._sessions.get(address)
        if session is None or session.flow != Flow.EDIT:
            return None
        before = session.data.get("before")
        if isinstance(before, dict):
            await self._people.update(person.id, **{k: v for k, v in before.items() if k in PLACE_FIELDS})
        await self._sessions.clear(address)
        return await self._people.get(address)

    # ----- name -----------------------------------------------------------------------

    async def set_name(self, person: Person, text: str) -> str | None:
        """The name as stored; None (nothing stored) when it is empty or too long."""
        name = clean_name(text)
        if name is not None:
            await self._people.update(person.id, name=name)
        return name

    # ----- place ----------------------------------------------------------------------

    async def move_to_latvia(self, person: Person, municipality: places.Municipality | None = None) -> None:
        """Now in Latvia: the Latvian time zone and no city (the municipality says where),
        and the municipality when it is known already."""
        fields: dict[str, object] = {
            "location_kind": LocationKind.LV,
            "country": LATVIA,
            "city": None,
            "timezone": LATVIA_TZ,
        }
        if municipality is not None:
            fields["municipality"] = municipality.atvk
        await self._people.update(person.id, **fields)

    async def move_abroad(self, person: Person) -> None:
        await self._people.update(person.id, location_kind=LocationKind.ABROAD, municipality=None)

    async def set_municipality(self, person: Person, atvk: str) -> places.Municipality | None:
        """None (nothing stored) for an unknown code."""
        m = places.municipality(atvk)
        if m is not None:
            await self.move_to_latvia(person, m)
        return m

    async def set_country(self, person: Person, code: str) -> bool:
        """The country the person is in, with its time zone (or its first, to be chosen
        next); Latvia means :meth:`move_to_latvia`. True when the person is now abroad."""
        if code == LATVIA:
            await self.move_to_latvia(person)
            return False
        zone = places.default_timezone(code) or (places.timezone_choices(code) or ["UTC"])[0]
        await self._people.update(
            person.id, location_kind=LocationKind.ABROAD, country=code, municipality=None, timezone=zone
        )
        return True

    async def set_city(self, person: Person, text: str) -> str | None:
        """The city as stored; None (nothing stored) when it is not a city's name. A city
        CLDR knows sets the time zone too (``places.city_timezone``), which is then not asked."""
        city = clean_city(text)
        if city is not None:
            zone = places.city_timezone(person.country or "", city)
            await self._people.update(person.id, city=city, **({"timezone": zone} if zone else {}))
        return city

    async def set_timezone(self, person: Person, index: int) -> str | None:
        """The ``index``-th zone offered for the person's country; None when there is no such zone."""
        zones = places.timezone_choices(person.country or "")
        if not 0 <= index < len(zones):
            return None
        await self._people.update(person.id, timezone=zones[index])
        return zones[index]

    # ----- skills, availability, quiet hours -----------------------------------------------

    async def toggle_skill(self, person: Person, code: str) -> Person | None:
        """Choose or unchoose a skill; the person with their skills now, None for an unknown code."""
        if skills.skill(code) is None:
            return None
        chosen = set(person.skills) ^ {code}
        await self._people.set_skills(person.id, chosen)
        return replace(person, skills=tuple(sorted(chosen)))

    def skills_complete(self, person: Person) -> bool:
        """At least one skill must be chosen before going on."""
        return bool(person.skills)

    async def set_availability(self, person: Person, code: str) -> bool:
        if code not in AVAILABILITY:
            return False
        await self._people.update(person.id, availability=code)
        return True

    async def set_quiet_hours(self, person: Person, text: str) -> tuple[str, str] | None:
        """From a text such as '22-7' or '23:00-08:00'; None (nothing stored) when not understood."""
        hours = parse_quiet_hours(text)
        if hours is not None:
            await self._people.update(person.id, quiet_start=hours[0], quiet_end=hours[1])
        return hours

    async def remove_quiet_hours(self, person: Person) -> None:
        await self._people.update(person.id, quiet_start=None, quiet_end=None)

    # ----- phone ------------------------------------------------------------------------

    async def set_phone(self, person: Person, number: str, owner: Address | None) -> PhoneResult:
        """A contact shared in the chat; only the person's own number is taken."""
        if owner != person.address:
            return PhoneResult.NOT_OWN
        try:
            phone = contact_phone(number)
        except InvalidPhone:
            event(log, "phone_rejected", user=person.address.external_id)
            return PhoneResult.INVALID
        await self._people.update(person.id, phone=phone)
        return PhoneResult.SAVED

    async def set_typed_phone(self, person: Person, text: str) -> PhoneResult:
        """A number typed in the chat, normalised (``normalise_phone``: 8 Latvian digits get
        +371); INVALID (nothing stored) when it is not a phone number."""
        try:
            phone = normalise_phone(text)
        except InvalidPhone:
            event(log, "phone_rejected", user=person.address.external_id, typed=True)
            return PhoneResult.INVALID
        await self._people.update(person.id, phone=phone)
        return PhoneResult.SAVED

    async def remove_phone(self, person: Person) -> None:
        await self._people.update(person.id, phone=None)
