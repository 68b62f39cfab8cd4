"""Volunteers put straight into the database through the import path (the chat flow is
covered by the registration tests), each with a started chat in the sandbox."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.app import Sauciens
from bot.domain.people import PRIVACY_NOTICE_VERSION, Address, LocationKind, Person, PersonStatus
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser


@dataclass
class Spec:
    id: int
    name: str = "Volunteer"
    language: str = "lv"
    municipality: str | None = "0001000"  # Rīga
    country: str = "LV"
    city: str | None = None
    skills: tuple[str, ...] = ("first_aid",)
    extra: dict[str, object] = field(default_factory=dict)


async def seed(bot: Sauciens, sandbox: BotApiSandbox, specs: list[Spec], *, started: bool = True) -> list[SimUser]:
    people = [
        Person(
            id=0,
            address=Address.telegram(s.id),
            status=PersonStatus.ACTIVE,
            language=s.language,
            name=s.name,
            location_kind=LocationKind.LV if s.country == "LV" else LocationKind.ABROAD,
            municipality=s.municipality if s.country == "LV" else None,
            country=s.country,
            city=s.city,
            timezone="Europe/Riga" if s.country == "LV" else "Europe/London",
            skills=s.skills,
            source="import",
        )
        for s in specs
    ]
    await bot.services.people.import_people(people)
    for s in specs:
        if s.extra:
            person = await bot.services.people.get(Address.telegram(s.id))
            assert person is not None
            extra = dict(s.extra)
            if "consent_at" in extra:  # agreed to the current privacy notice, unless the test says otherwise
                extra.setdefault("privacy_version", PRIVACY_NOTICE_VERSION)
            await bot.services.people.update(person.id, **extra)
    return [sandbox.user(s.id, s.name, language_code=s.language, started=started) for s in specs]


def alert_messages(u: SimUser, needle: str = "#") -> list:
    """The alert messages a person got (identified by their answer buttons)."""
    return [m for m in u.messages if any(data and data.startswith("ans:") for row in m.buttons for _, data in row)]
