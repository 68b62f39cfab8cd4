"""The steps of registration and of profile editing (the same steps), the rule for which
step follows which, and where a person is among them (kept in ``sessions``)."""

from __future__ import annotations

from enum import StrEnum

from bot.application.stores import PeopleStore, SessionStore
from bot.domain import places
from bot.domain.people import Address, LocationKind, Person, PersonStatus
from bot.domain.sessions import Flow, Session


class Step(StrEnum):
    NAME = "name"
    WHERE = "where"
    MUNICIPALITY = "municipality"
    COUNTRY = "country"
    CITY = "city"
    TIMEZONE = "timezone"
    SKILLS = "skills"
    AVAILABILITY = "availability"
    QUIET = "quiet"
    PHONE = "phone"
    # "Other organisations in the coalition may call me": asked once, of members of an organisation
    COALITION = "coalition"
    SUMMARY = "summary"  # registration: everything so far, and Confirm
    PROFILE = "profile"  # a registered person's profile: the edit is over


def step_of(session: Session) -> Step | None:
    """The registration step of ``session``; None for another flow's steps."""
    try:
        return Step(session.step)
    except ValueError:
        return None


PLACE_STEPS = frozenset({Step.WHERE, Step.MUNICIPALITY, Step.COUNTRY, Step.CITY, Step.TIMEZONE})
EDITABLE = (Step.NAME, Step.WHERE, Step.SKILLS, Step.AVAILABILITY, Step.QUIET, Step.PHONE)


def asks_about_coalition(person: Person) -> bool:
    """Whether registration asks "Other organisations in the coalition may call me": only of
    members of an organisation (everyone may call the others, the coalition's shared pool)."""
    return bool(person.organisations)


def step_sequence(person: Person) -> list[Step]:
    place = [Step.MUNICIPALITY] if person.location_kind == LocationKind.LV else [Step.COUNTRY, Step.CITY, Step.TIMEZONE]
    coalition = [Step.COALITION] if asks_about_coalition(person) else []
    return [
        Step.NAME,
        Step.WHERE,
        *place,
        Step.SKILLS,
        Step.AVAILABILITY,
        Step.QUIET,
        Step.PHONE,
        *coalition,
        Step.SUMMARY,
    ]


def next_step(person: Person, done: Step) -> Step:
    """The step after ``done`` in a registration; the time zone is skipped when there is
    nothing to choose, or the typed city says it."""
    if done == Step.COALITION:  # (also for someone who has left their organisations meanwhile)
        return Step.SUMMARY
    seq = step_sequence(person)
    following = seq[seq.index(done) + 1]
    if (
        following == Step.TIMEZONE
        and person.country
        and (
            places.default_timezone(person.country)
            or len(places.timezone_choices(person.country)) < 2
            or places.city_timezone(person.country, person.city or "") is not None
        )
    ):
        following = Step.SKILLS
    return following


def step_after(person: Person, session: Session, done: Step) -> Step:
    """Where a person goes after ``done``: the next step of the registration, or, when one
    part is being changed, back to the summary (or profile) once that part is complete."""
    following = next_step(person, done)
    returning = session.flow == Flow.EDIT or bool(session.data.get("return"))
    if returning and not (done in PLACE_STEPS and following in PLACE_STEPS):
        following = Step.SUMMARY if person.status == PersonStatus.REGISTERING else Step.PROFILE
    return following


class Steps:
    """Where a person is in registration or editing."""

    def __init__(self, people: PeopleStore, sessions: SessionStore) -> None:
        self._people = people
        self._sessions = sessions

    async def current(self, address: Address) -> Session | None:
        """The registration or edit the person is in, if any."""
        session = await self._sessions.get(address)
        return session if session is not None and session.flow in (Flow.REGISTER, Flow.EDIT) else None

    async def go_to(self, person: Person, step: Step) -> None:
        """Remember that ``person`` is at ``step``. At the summary a registering person's
        conversation starts afresh; at the profile the edit is over."""
        if step in (Step.SUMMARY, Step.PROFILE):
            await self.show_summary(person)
            return
        flow = Flow.REGISTER if person.status == PersonStatus.REGISTERING else Flow.EDIT
        session = await self._sessions.get(person.address) or Session(flow, step)
        session.step = step
        await self._sessions.set(person.address, session)

    async def show_summary(self, person: Person) -> None:
        if person.status == PersonStatus.REGISTERING:
            await self._sessions.set(person.address, Session(Flow.REGISTER, Step.SUMMARY))
        else:
            await self._sessions.clear(person.address)

    async def resume(self, person: Person) -> Step:
        """The step a registering person left off at (the summary when unknown)."""
        session = await self._sessions.get(person.address)
        step = step_of(session) if session is not None else None
        step = step or Step.SUMMARY
        await self.go_to(person, step)
        return step

    async def advance(self, address: Address, session: Session, done: Step) -> tuple[Person, Step]:
        """The person finished ``done``: the person as now stored, and the step they are at."""
        person = await self._people.get(address)
        assert person is not None
        following = step_after(person, session, done)
        await self.go_to(person, following)
        return person, following
