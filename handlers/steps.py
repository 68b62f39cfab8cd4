"""The steps of registration and profile editing, as one table: for each step its prompt
(text and buttons), the buttons it accepts, and what it does with typed text, a location or
a contact. What is valid and which step follows is decided in ``bot.application``; this
module reads the update, calls one operation and renders the result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup, KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot.application.identity import Identity
from bot.application.memberships import Memberships
from bot.application.profile import PhoneResult, Profile
from bot.application.registration import Missing, Registration
from bot.application.steps import Step, Steps, step_of
from bot.domain import places, skills
from bot.domain.coalition import Reach
from bot.domain.people import AVAILABILITY, Address, Person, PersonStatus
from bot.domain.sessions import Session
from bot.i18n import N_, Translator
from bot.messenger.keyboards import NOOP, Button, columns, inline, paged, reply_keyboard
from bot.messenger.render import (
    AVAILABILITY_LABELS,
    esc,
    group_heading,
    municipality_name,
    organisation_names,
    person_summary,
    reach_lines,
    skills_line,
)
from handlers.base import Who, answer_query, chat_of, edit_markup, edit_or_send, message_of, who
from handlers.boundary import NOT_VALID
from handlers.callbacks import MUNI_PAGE, QUIET_PRESETS, StepAction, StepButton

MISSING_LABELS = {
    Missing.NAME: N_("name"),
    Missing.PLACE: N_("place"),
    Missing.SKILLS: N_("skills"),
    Missing.AVAILABILITY: N_("availability"),
}

Prompt = Callable[[Update, Who, str], Awaitable[None]]  # (update, who, prefix)
ButtonAnswer = Callable[[Update, Who, Session, StepButton], Awaitable[None]]
InputAnswer = Callable[[Update, Who, Session, Message], Awaitable[None]]


@dataclass(frozen=True)
class StepView:
    prompt: Prompt
    buttons: Mapping[StepAction, ButtonAnswer] = field(default_factory=dict)  # the ``reg:`` buttons accepted here
    text: InputAnswer | None = None
    location: InputAnswer | None = None
    contact: InputAnswer | None = None


def municipality_keyboard(t: Translator, page: int) -> InlineKeyboardMarkup:
    buttons = [(municipality_name(m, t), f"reg:muni:{m.atvk}") for m in places.municipalities()]
    rows, _ = paged(buttons, page, MUNI_PAGE, "reg:mpage")
    return inline(rows)


SKILL_COLUMN_CHARS = 18  # two skills share a row when both labels are at most this long


def skills_keyboard(chosen_codes: tuple[str, ...], abroad: bool, t: Translator) -> InlineKeyboardMarkup:
    """Each group's heading once, then its skills, two to a row where both labels fit (the
    width is judged without the ✅, so a tap does not move the buttons); Done at the top and
    at the bottom."""
    chosen = set(chosen_codes)
    done = [(t.n_("Done ({n} chosen)", "Done ({n} chosen)", len(chosen)), "reg:skills_done")]
    rows: list[list[Button]] = [done]
    group = None
    pending: list[Button] = []
    for s in skills.skills_for(abroad=abroad):
        if s.group != group:
            if pending:
                rows.append(pending)
                pending = []
            group = s.group
            rows.append([(f"— {group_heading(group, t)} —", NOOP)])
        label = t._(s.label)
        button = (("✅ " if s.code in chosen else "") + label, f"reg:skill:{s.code}")
        if len(label) > SKILL_COLUMN_CHARS:
            if pending:
                rows.append(pending)
                pending = []
            rows.append([button])
        elif pending:
            rows.append([*pending, button])
            pending = []
        else:
            pending = [button]
    if pending:
        rows.append(pending)
    rows.append(done)
    return inline(rows)


def phone_keyboard(t: Translator, has_phone: bool) -> ReplyKeyboardMarkup:
    rows: list[list[KeyboardButton | str]] = [[KeyboardButton(t._("📱 Share my phone number"), request_contact=True)]]
    last: list[KeyboardButton | str] = [t._("Skip")]
    rows.append(last + ([t._("Remove my number")] if has_phone else []))
    return reply_keyboard(rows)


class StepDialogue:
    """Asks each step and takes its answers (``reg:`` buttons and typed input)."""

    def __init__(
        self,
        identity: Identity,
        steps: Steps,
        profile: Profile,
        registration: Registration,
        memberships: Memberships,
    ) -> None:
        self.identity = identity
        self.steps = steps
        self.profile = profile
        self.registration = registration
        self.memberships = memberships
        self.table: dict[Step, StepView] = {
            Step.NAME: StepView(self.ask_name, {StepAction.NAME_OK: self.on_name_ok}, text=self.on_name),
            Step.WHERE: StepView(self.ask_where, {StepAction.WHERE: self.on_where}, text=self.on_where_text),
            Step.MUNICIPALITY: StepView(
                self.ask_municipality,
                {
                    StepAction.MUNICIPALITY: self.on_municipality,
                    StepAction.MUNICIPALITY_PAGE: self.on_municipality_page,
                    StepAction.ABROAD: self.on_abroad_after_all,
                },
                text=self.on_municipality_name,
                location=self.on_location,
            ),
            Step.COUNTRY: StepView(self.ask_country, {StepAction.COUNTRY: self.on_country}, text=self.on_country_name),
            Step.CITY: StepView(self.ask_city, text=self.on_city),
            Step.TIMEZONE: StepView(self.ask_timezone, {StepAction.TIMEZONE: self.on_timezone}),
            Step.SKILLS: StepView(
                self.ask_skills, {StepAction.SKILL: self.on_skill, StepAction.SKILLS_DONE: self.on_skills_done}
            ),
            Step.AVAILABILITY: StepView(self.ask_availability, {StepAction.AVAILABILITY: self.on_availability}),
            Step.QUIET: StepView(self.ask_quiet, {StepAction.QUIET: self.on_quiet}, text=self.on_quiet_text),
            Step.PHONE: StepView(self.ask_phone, text=self.on_phone_text, contact=self.on_contact),
            Step.COALITION: StepView(self.ask_coalition, {StepAction.COALITION: self.on_coalition}),
            Step.SUMMARY: StepView(self.show_profile, {StepAction.CONFIRM: self.on_confirm}),
            Step.PROFILE: StepView(self.show_profile),
        }
        self.step_of_action = {action: step for step, view in self.table.items() for action in view.buttons}

    # ----- asking, and going on ----------------------------------------------------------

    async def ask(self, update: Update, w: Who, step: Step, note: str | None = None) -> None:
        """Show the question of ``step`` (the application has recorded that the person is there)."""
        await self.table[step].prompt(update, w, f"{note}\n\n" if note else "")

    async def advance(self, update: Update, w: Who, session: Session, done: Step, note: str | None = None) -> None:
        """``done`` is answered: ask the step that follows."""
        person, step = await self.steps.advance(w.address, session, done)
        await self.ask(update, Who(w.address, person, w.t), step, note)

    async def summary(self, person: Person, t: Translator, reach: Reach | None = None) -> str:
        """The person's details and who can call them."""
        reach = reach or await self.memberships.reach(person)
        return person_summary(person, t) + "\n" + "\n".join(reach_lines(reach, t))

    async def show_profile(self, update: Update, w: Who, prefix: str = "") -> None:
        p, t = w.person, w.t
        assert p is not None
        edit_rows = columns(
            [
                (t._("✏️ Name"), "prof:name"),
                (t._("✏️ Place"), "prof:where"),
                (t._("✏️ Skills"), "prof:skills"),
                (t._("✏️ Availability"), "prof:availability"),
                (t._("✏️ Quiet hours"), "prof:quiet"),
                (t._("✏️ Phone"), "prof:phone"),
            ],
            2,
        )
        reach = await self.memberships.reach(p)
        summary = await self.summary(p, t, reach)
        if p.status == PersonStatus.REGISTERING:
            text = prefix + summary + "\n\n" + t._("Is everything right? Confirm, or change any part.")
            rows = [[(t._("✅ Confirm"), "reg:confirm")], *edit_rows]
        else:
            text = prefix + summary
            organisations = [] if reach.shared_pool else [[(t._("🏢 Organisations"), "prof:orgs")]]
            rows = [*edit_rows, *organisations, [(t._("🌐 Language"), "prof:language"), (t._("✔️ Done"), "prof:done")]]
        await chat_of(update).send_message(text, parse_mode="HTML", reply_markup=inline(rows))

    # ----- the two ways in: a button and typed input ------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: StepButton) -> None:
        action = button.action
        w = await who(self.identity, update)
        session = await self.steps.current(w.address) if w.person else None
        if w.person is None or session is None:
            await answer_query(update, w.t._("This button is no longer active."))
            return
        expected = self.step_of_action.get(action)
        if expected is None:
            await answer_query(update)
            return
        if expected != step_of(session):
            await answer_query(update, w.t._("This button is no longer active."))
            return
        await self.table[expected].buttons[action](update, w, session, button)

    async def on_input(self, update: Update, w: Who, session: Session) -> None:
        """Text, a location or a contact while in the registration or edit flow."""
        msg = message_of(update)
        step = step_of(session)
        view = self.table.get(step) if step is not None else None
        answer = None
        if view is not None:
            if msg.location:
                answer = view.location
            elif msg.contact:
                answer = view.contact
            elif msg.text:
                answer = view.text
        if answer is not None:
            await answer(update, w, session, msg)
            return
        hint = w.t._("Please answer with the buttons above, or send /cancel to stop.")
        if step is None:
            await msg.reply_text(hint)
        else:
            await self.ask(update, w, step, note=hint)

    # ----- name ---------------------------------------------------------------------------

    async def ask_name(self, update: Update, w: Who, prefix: str) -> None:
        p, t = w.person, w.t
        assert p is not None
        rows: list[list[Button]] = []
        if p.name:
            text = t._("What name should coordinators see? Is <b>{name}</b> right?", name=esc(p.name))
            rows = [[(t._("✅ Yes"), "reg:name_ok")]]
            text += "\n" + t._("If not, type the name you want to use.")
        else:
            text = t._("What name should coordinators see? Type it, please.")
        await chat_of(update).send_message(
            prefix + text, parse_mode="HTML", reply_markup=inline(rows) if rows else None
        )

    async def on_name_ok(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None
        await answer_query(update)
        await edit_or_send(update, w.t._("Name: {name}", name=esc(w.person.name or "")))
        await self.advance(update, w, session, Step.NAME)

    async def on_name(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        assert w.person is not None
        name = await self.profile.set_name(w.person, msg.text or "")
        if name is None:
            await msg.reply_text(w.t._("Please type a name of up to 64 characters, with at least one letter."))
            return
        await self.advance(update, w, session, Step.NAME, note=w.t._("Name: {name}", name=esc(name)))

    # ----- place ---------------------------------------------------------------------------

    async def ask_where(self, update: Update, w: Who, prefix: str) -> None:
        t = w.t
        await chat_of(update).send_message(
            prefix + t._("Where are you now?"),
            parse_mode="HTML",
            reply_markup=inline([[(t._("🇱🇻 In Latvia"), "reg:where:lv"), (t._("🌍 Abroad"), "reg:where:abroad")]]),
        )

    async def on_where(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None
        await answer_query(update)
        if button.value == "lv":
            await self.profile.move_to_latvia(w.person)
            await edit_or_send(update, w.t._("🇱🇻 In Latvia"))
        else:
            await self.profile.move_abroad(w.person)
            await edit_or_send(update, w.t._("🌍 Abroad"))
        await self.advance(update, w, session, Step.WHERE)

    async def on_where_text(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        """A place typed instead of a button: a municipality means in Latvia there, a country
        abroad there (Latvia: in Latvia, which municipality?); anything else gets the hint."""
        assert w.person is not None
        t, text = w.t, (msg.text or "").strip()
        municipality = places.match_municipality(text).best
        if municipality is not None:
            await self.profile.move_to_latvia(w.person, municipality)
            note = t._("📍 {place}", place=esc(municipality_name(municipality, t)))
            await self.advance(update, w, session, Step.MUNICIPALITY, note=note)
            return
        country = places.match_country(text, t.lang).best
        if country is None:
            await self.ask(
                update, w, Step.WHERE, note=t._("Please answer with the buttons above, or send /cancel to stop.")
            )
        elif await self.profile.set_country(w.person, country):
            note = t._("Country: {country}", country=esc(t.country(country)))
            await self.advance(update, w, session, Step.COUNTRY, note=note)
        else:
            await self.advance(update, w, session, Step.WHERE, note=t._("🇱🇻 In Latvia"))

    async def ask_municipality(self, update: Update, w: Who, prefix: str) -> None:
        t, chat = w.t, chat_of(update)
        await chat.send_message(
            prefix + t._("Which municipality are you in? Choose below, type its name, or share your location."),
            parse_mode="HTML",
            reply_markup=municipality_keyboard(t, 0),
        )
        await chat.send_message(
            t._("📍 You can also share your location with the button below."),
            reply_markup=reply_keyboard([[KeyboardButton(t._("📍 Share my location"), request_location=True)]]),
        )

    async def on_municipality_page(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        await answer_query(update)
        await edit_markup(update, municipality_keyboard(w.t, button.number or 0))

    async def on_municipality(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None and button.value is not None
        m = await self.profile.set_municipality(w.person, button.value)
        if m is None:
            await answer_query(update, w.t._(NOT_VALID))
            return
        await answer_query(update)
        await edit_or_send(update, w.t._("📍 {place}", place=esc(municipality_name(m, w.t))))
        await chat_of(update).send_message("✓", reply_markup=ReplyKeyboardRemove())
        await self.advance(update, w, session, Step.MUNICIPALITY)

    async def on_municipality_name(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        assert w.person is not None
        t, text = w.t, (msg.text or "").strip()
        match = places.match_municipality(text)
        if match.best is not None:
            await self.profile.move_to_latvia(w.person, match.best)
            await msg.reply_text(
                t._("📍 {place}", place=esc(municipality_name(match.best, w.t))),
                parse_mode="HTML",
                reply_markup=ReplyKeyboardRemove(),
            )
            await self.advance(update, w, session, Step.MUNICIPALITY)
        elif match.candidates:
            await msg.reply_text(
                t._("Did you mean one of these?"),
                reply_markup=inline([[(municipality_name(m, t), f"reg:muni:{m.atvk}")] for m in match.candidates[:5]]),
            )
        else:
            await msg.reply_text(
                t._(
                    "I don't know a municipality called “{text}”. Try its name, e.g. “Cēsu novads”, or choose from the list.",
                    text=esc(text[:50]),
                ),
                parse_mode="HTML",
                reply_markup=municipality_keyboard(t, 0),
            )

    async def on_location(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        t = w.t
        assert msg.location is not None
        lat, lon = msg.location.latitude, msg.location.longitude
        if not places.in_latvia(lat, lon):
            await msg.reply_text(
                t._("That looks like it is outside Latvia — are you abroad?"),
                reply_markup=inline(
                    [[(t._("🌍 Abroad"), "reg:abroad")], [(t._("Choose from the list"), "reg:mpage:0")]]
                ),
            )
            return
        m = places.nearest_municipality(lat, lon)
        await msg.reply_text(
            t._("The nearest municipality is <b>{place}</b>. Is that right?", place=esc(municipality_name(m, t))),
            parse_mode="HTML",
            reply_markup=inline(
                [[(t._("✅ Yes"), f"reg:muni:{m.atvk}")], [(t._("Choose from the list"), "reg:mpage:0")]]
            ),
        )

    async def ask_country(self, update: Update, w: Who, prefix: str) -> None:
        t = w.t
        buttons = [(t.country(c), f"reg:country:{c}") for c in places.DIASPORA_COUNTRIES[:12]]
        await chat_of(update).send_message(
            prefix + t._("Which country are you in? Choose below or type its name."),
            parse_mode="HTML",
            reply_markup=inline(columns(buttons, 3)),
        )

    async def on_abroad_after_all(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        """A location outside Latvia was shared at the municipality step: abroad, then."""
        assert w.person is not None
        await answer_query(update)
        await self.profile.move_abroad(w.person)
        await edit_or_send(update, w.t._("🌍 Abroad"))
        await chat_of(update).send_message("✓", reply_markup=ReplyKeyboardRemove())
        await self.advance(update, w, session, Step.WHERE)

    async def on_country(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert button.value is not None
        await answer_query(update)
        await self._country_chosen(update, w, session, button.value, edit=True)

    async def on_country_name(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        t, text = w.t, (msg.text or "").strip()
        match = places.match_country(text, t.lang)
        if match.best is not None:
            await self._country_chosen(update, w, session, match.best, edit=False)
        elif match.candidates:
            await msg.reply_text(
                t._("Did you mean one of these?"),
                reply_markup=inline(
                    [[(t.country(c), f"reg:country:{c}")] for c in match.candidates[:5] if c != places.LATVIA]
                ),
            )
        else:
            await msg.reply_text(
                t._("I don't know a country called “{text}”. Type its name, e.g. “Ireland”.", text=esc(text[:50])),
                parse_mode="HTML",
            )

    async def _country_chosen(self, update: Update, w: Who, session: Session, code: str, edit: bool) -> None:
        assert w.person is not None
        if not await self.profile.set_country(w.person, code):  # Latvia after all: as if "In Latvia" was tapped
            await self.advance(update, w, session, Step.WHERE, note=w.t._("Latvia it is, then."))
            return
        text = w.t._("Country: {country}", country=esc(w.t.country(code)))
        if edit:
            await edit_or_send(update, text)
        await self.advance(update, w, session, Step.COUNTRY, note=None if edit else text)

    async def ask_city(self, update: Update, w: Who, prefix: str) -> None:
        await chat_of(update).send_message(
            prefix + w.t._("Which city or town are you in? Type its name."),
            parse_mode="HTML",
            reply_markup=ReplyKeyboardRemove(),
        )

    async def on_city(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        assert w.person is not None
        city = await self.profile.set_city(w.person, msg.text or "")
        if city is None:
            await msg.reply_text(w.t._("Please type the name of your city or town (up to 64 characters)."))
            return
        await self.advance(update, w, session, Step.CITY, note=w.t._("City: {city}", city=esc(city)))

    async def ask_timezone(self, update: Update, w: Who, prefix: str) -> None:
        assert w.person is not None
        zones = places.timezone_choices(w.person.country or "")
        buttons = [(places.timezone_choice_label(z, w.lang), f"reg:tz:{i}") for i, z in enumerate(zones)]
        await chat_of(update).send_message(
            prefix + w.t._("Which time zone are you in?"), parse_mode="HTML", reply_markup=inline(columns(buttons, 2))
        )

    async def on_timezone(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None and button.number is not None
        zone = await self.profile.set_timezone(w.person, button.number)
        if zone is None:
            await answer_query(update, w.t._(NOT_VALID))
            return
        await answer_query(update)
        await edit_or_send(update, w.t._("Time zone: {zone}", zone=esc(places.timezone_choice_label(zone, w.lang))))
        await self.advance(update, w, session, Step.TIMEZONE)

    # ----- skills, availability, quiet hours ---------------------------------------------------

    async def ask_skills(self, update: Update, w: Who, prefix: str) -> None:
        assert w.person is not None
        await chat_of(update).send_message(
            prefix + w.t._("What can you help with? Tap everything that applies, then tap Done."),
            parse_mode="HTML",
            reply_markup=skills_keyboard(w.person.skills, w.person.abroad, w.t),
        )

    async def on_skill(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None and button.value is not None
        person = await self.profile.toggle_skill(w.person, button.value)
        if person is None:
            await answer_query(update, w.t._(NOT_VALID))
            return
        await answer_query(update)
        await edit_markup(update, skills_keyboard(person.skills, person.abroad, w.t))

    async def on_skills_done(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None
        if not self.profile.skills_complete(w.person):
            await answer_query(update, w.t._("Choose at least one skill first."), alert=True)
            return
        await answer_query(update)
        await edit_or_send(update, w.t._("Skills: {skills}", skills=skills_line(w.person.skills, w.t)))
        await self.advance(update, w, session, Step.SKILLS)

    async def ask_availability(self, update: Update, w: Who, prefix: str) -> None:
        t = w.t
        buttons = [(t._(AVAILABILITY_LABELS[code]), f"reg:avail:{code}") for code in AVAILABILITY]
        await chat_of(update).send_message(
            prefix + t._("When can you usually help?"), parse_mode="HTML", reply_markup=inline(columns(buttons, 2))
        )

    async def on_availability(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None and button.value is not None
        code = button.value
        if not await self.profile.set_availability(w.person, code):
            await answer_query(update, w.t._(NOT_VALID))
            return
        await answer_query(update)
        await edit_or_send(update, w.t._("Available: {when}", when=w.t._(AVAILABILITY_LABELS[code])))
        await self.advance(update, w, session, Step.AVAILABILITY)

    async def ask_quiet(self, update: Update, w: Who, prefix: str) -> None:
        t = w.t
        rows = [
            [(t._("No quiet hours"), "reg:quiet:none")],
            [(q.replace("-", "–"), f"reg:quiet:{i}") for i, q in enumerate(QUIET_PRESETS)],
        ]
        await chat_of(update).send_message(
            prefix
            + t._(
                "Quiet hours: when should I not disturb you (except for critical alerts)? Choose or type, e.g. 22-7."
            ),
            parse_mode="HTML",
            reply_markup=inline(rows),
        )

    async def on_quiet(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None
        await answer_query(update)
        if button.number is None:
            await self.profile.remove_quiet_hours(w.person)
            await edit_or_send(update, w.t._("Quiet hours: {hours}", hours=w.t._("none")))
        else:
            hours = await self.profile.set_quiet_hours(w.person, QUIET_PRESETS[button.number])
            assert hours is not None  # the presets are valid quiet hours
            await edit_or_send(update, w.t._("Quiet hours: {hours}", hours=f"{hours[0]}–{hours[1]}"))
        await self.advance(update, w, session, Step.QUIET)

    async def on_quiet_text(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        assert w.person is not None
        hours = await self.profile.set_quiet_hours(w.person, msg.text or "")
        if hours is None:
            await msg.reply_text(w.t._("Please write quiet hours as from-to, e.g. 22-7 or 23:30-6:00."))
            return
        note = w.t._("Quiet hours: {hours}", hours=f"{hours[0]}–{hours[1]}")
        await self.advance(update, w, session, Step.QUIET, note=note)

    # ----- phone ---------------------------------------------------------------------------

    async def ask_phone(self, update: Update, w: Who, prefix: str) -> None:
        assert w.person is not None
        await chat_of(update).send_message(
            prefix
            + w.t._(
                "Would you like to share your phone number? Only the coordinators who send alerts will see it, "
                "to call you in an emergency. It is optional."
            )
            + "\n"
            + w.t._("Share it with the button below, or type it, e.g. +371 20000000."),
            parse_mode="HTML",
            reply_markup=phone_keyboard(w.t, bool(w.person.phone)),
        )

    async def on_contact(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        assert w.person is not None and msg.contact is not None
        owner = Address.telegram(msg.contact.user_id) if msg.contact.user_id else None
        result = await self.profile.set_phone(w.person, msg.contact.phone_number, owner)
        if result == PhoneResult.NOT_OWN:
            await msg.reply_text(w.t._("Please share your own number with the button below, or tap Skip."))
        elif result == PhoneResult.INVALID:
            await msg.reply_text(w.t._("Please use the button below to share your number, or tap Skip."))
        else:
            await msg.reply_text(w.t._("Thank you, your number is saved."), reply_markup=ReplyKeyboardRemove())
            await self.advance(update, w, session, Step.PHONE)

    async def on_phone_text(self, update: Update, w: Who, session: Session, msg: Message) -> None:
        assert w.person is not None
        t, text = w.t, (msg.text or "").strip()
        if text == t._("Remove my number"):
            await self.profile.remove_phone(w.person)
            await msg.reply_text(t._("Your number was removed."), reply_markup=ReplyKeyboardRemove())
        elif text == t._("Skip"):
            await msg.reply_text(t._("OK, no phone number."), reply_markup=ReplyKeyboardRemove())
        elif await self.profile.set_typed_phone(w.person, text) == PhoneResult.INVALID:
            await msg.reply_text(
                t._(
                    "That does not look like a phone number. Type it with the country code, e.g. +44 20 7946 0958 "
                    "(a Latvian number may have just its 8 digits), share it with the button below, or tap Skip."
                )
            )
            return
        else:
            await msg.reply_text(t._("Thank you, your number is saved."), reply_markup=ReplyKeyboardRemove())
        await self.advance(update, w, session, Step.PHONE)

    # ----- the coalition ----------------------------------------------------------------------

    async def ask_coalition(self, update: Update, w: Who, prefix: str) -> None:
        """Ask a member of an organisation "Other organisations in the coalition may call me"."""
        assert w.person is not None
        t = w.t
        reach = await self.memberships.reach(w.person)
        await chat_of(update).send_message(
            prefix
            + t._("<b>Other organisations in the coalition may call me</b>")
            + "\n"
            + t._(
                "You belong to {organisations}: their coordinators can send you alerts. May the coordinators of "
                "the coalition's other organisations send you alerts too? You can change this later in /profile.",
                organisations=organisation_names(reach),
            ),
            parse_mode="HTML",
            reply_markup=inline([[(t._("✅ Yes"), "reg:coalition:yes"), (t._("No"), "reg:coalition:no")]]),
        )

    async def on_coalition(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        assert w.person is not None
        allowed = button.value == "yes"
        await answer_query(update)
        await self.memberships.allow_other_organisations(w.person, allowed)
        answer = w.t._("yes") if allowed else w.t._("no")
        await edit_or_send(update, w.t._("Other organisations in the coalition may call me: {allowed}", allowed=answer))
        await self.advance(update, w, session, Step.COALITION)

    # ----- summary -----------------------------------------------------------------------------

    async def on_confirm(self, update: Update, w: Who, session: Session, button: StepButton) -> None:
        p, t = w.person, w.t
        assert p is not None
        await answer_query(update)
        missing = await self.registration.confirm_registration(p)
        if missing:
            fields = ", ".join(t._(MISSING_LABELS[m]) for m in missing)
            await edit_or_send(update, t._("Still missing: {fields}.", fields=fields))
            return
        await edit_or_send(
            update,
            await self.summary(p, t)
            + "\n\n"
            + t._(
                "🎉 You are registered. When help is needed near you or with your skills, I will write here. /help lists what you can do."
            ),
        )
