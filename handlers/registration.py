"""Registration and profile editing in a private chat.

``/start`` → language → privacy notice and consent (nothing is stored before it) → name →
in Latvia or abroad → municipality, or country, city and time zone → skills → availability
→ quiet hours → phone → summary → confirm. Every answer is written at once and the step is
kept in ``sessions``, so a restart in the middle loses nothing; ``/cancel`` removes an
unfinished registration completely. ``/profile`` shows the same summary with buttons to
change any part, reusing the same steps."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import KeyboardButton, Message, ReplyKeyboardRemove, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.domain import places, skills
from bot.domain.people import (
    AVAILABILITY,
    LATVIA,
    LATVIA_TZ,
    Person,
    clean_city,
    clean_name,
    normalise_phone,
    parse_quiet_hours,
)
from bot.i18n import LANGUAGES, Translator, normalise_language, translator
from bot.messenger.keyboards import NOOP, Button, columns, inline, paged, reply_keyboard
from bot.messenger.render import AVAILABILITY_LABELS, LANGUAGE_NAMES, esc, person_summary, skills_line
from bot.services import Services
from db.sessions import Session
from handlers.base import Who, answer_query, edit_or_send, who
from handlers.router import TextRouter

log = logging.getLogger(__name__)

REGISTER, EDIT = "register", "edit"
LOCATION_STEPS = {"where", "municipality", "country", "city", "timezone"}
EDITABLE = ("name", "where", "skills", "availability", "quiet", "phone")
PLACE_FIELDS = ("location_kind", "municipality", "country", "city", "timezone")
MUNI_PAGE = 10
QUIET_PRESETS = ("22:00-07:00", "23:00-08:00")


def step_sequence(person: Person) -> list[str]:
    place = ["municipality"] if person.location_kind == "lv" else ["country", "city", "timezone"]
    return ["name", "where", *place, "skills", "availability", "quiet", "phone", "summary"]


def next_step(person: Person, step: str) -> str:
    seq = step_sequence(person)
    following = seq[seq.index(step) + 1]
    if (
        following == "timezone"
        and person.country
        and (places.default_timezone(person.country) or len(places.country_timezones(person.country)) < 2)
    ):
        following = "skills"  # nothing to choose
    return following


class Registration:
    def __init__(self, services: Services) -> None:
        self.s = services

    # ----- entry points -------------------------------------------------------------

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        p = w.person
        if p is None or p.consent_at is None:
            await self.ask_language(update, w, suggested=w.lang)
            return
        if p.status == "registering":
            session = await self.s.sessions.get(w.address)
            await self.ask(
                update, w, session.step if session else "summary", note=w.t._("Let's continue where you left off.")
            )
            return
        await self.drop_edit(w)
        await update.effective_chat.send_message(
            w.t._(
                "Welcome back, {name}! You are registered. /profile shows your details, /help lists what I can do.",
                name=esc(p.name or ""),
            ),
            parse_mode="HTML",
        )

    async def ask_language(self, update: Update, w: Who, suggested: str) -> None:
        order = [suggested] + [lang for lang in LANGUAGES if lang != suggested]
        await update.effective_chat.send_message(
            "\n".join(translator(lang)._("Hello! Choose your language.") for lang in order),
            reply_markup=inline([[(LANGUAGE_NAMES[lang], f"lang:{lang}") for lang in order]]),
        )

    async def language_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        await self.ask_language(update, w, suggested=w.lang)

    async def on_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        lang = update.callback_query.data.split(":")[1]
        if lang not in LANGUAGES:
            await answer_query(update)
            return
        w = await who(self.s.identity, update)
        t = translator(lang)
        await answer_query(update)
        p = w.person
        if p is None or p.consent_at is None:
            await edit_or_send(
                update,
                t._(
                    "<b>Privacy</b>\nSauciens keeps what you tell it here (name, place, skills, availability and, "
                    "if you share it, your phone number) so that civil-protection coordinators can ask you for help "
                    "in a crisis. Only coordinators see your details. You can see everything stored about you with "
                    "/mydata and erase it with /forget at any time.\n\nDo you agree?"
                ),
                inline([[(t._("✅ I agree"), f"consent:{lang}:yes"), (t._("No, thanks"), f"consent:{lang}:no")]]),
            )
            return
        await self.s.people.update(p.id, language=lang)
        p.language = lang
        w = Who(w.address, p, t)
        await edit_or_send(update, t._("Language: {language}", language=LANGUAGE_NAMES[lang]))
        log.info("event=language_changed user=%s lang=%s", w.address.external_id, lang)
        if p.status == "registering":
            session = await self.s.sessions.get(w.address)
            await self.ask(update, w, session.step if session else "summary")

    async def on_consent(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        _, lang, answer = update.callback_query.data.split(":")
        t = translator(lang if lang in LANGUAGES else None)
        await answer_query(update)
        w = await who(self.s.identity, update)
        if answer != "yes":
            await edit_or_send(update, t._("All right, nothing was saved. Send /start if you change your mind."))
            return
        now = datetime.now(UTC)
        p = w.person
        if p is not None and p.consent_at is None:  # imported from an organisation's list
            await self.s.people.update(p.id, consent_at=now, language=lang)
            p = await self.s.people.get(w.address)
            await edit_or_send(update, t._("Thank you!"))
            await self.show_profile(update, Who(w.address, p, t))
            return
        if p is not None and p.status == "registering":  # agreed twice (e.g. two /start messages)
            await edit_or_send(update, t._("Thank you!"))
            session = await self.s.sessions.get(w.address)
            await self.ask(
                update, w, session.step if session else "summary", note=w.t._("Let's continue where you left off.")
            )
            return
        if p is not None:
            await edit_or_send(update, t._("You are already registered. /profile shows your details."))
            return
        user = update.effective_user
        telegram_name = clean_name(" ".join(filter(None, [user.first_name, user.last_name])))
        p = await self.s.people.create(w.address, language=lang, name=telegram_name, consent_at=now)
        log.info("event=registration_started user=%s lang=%s", w.address.external_id, lang)
        await edit_or_send(
            update, t._("Thank you! Let's set up your profile. It takes about a minute; /cancel stops at any point.")
        )
        await self.s.sessions.set(w.address, Session(REGISTER, "name"))
        await self.ask(update, Who(w.address, p, t), "name")

    # ----- asking each step ------------------------------------------------------------

    async def ask(self, update: Update, w: Who, step: str, note: str | None = None) -> None:
        """Show the question of ``step`` and remember that the person is there."""
        p, t = w.person, w.t
        assert p is not None
        session = await self.s.sessions.get(w.address) or Session(REGISTER if p.status == "registering" else EDIT, step)
        session.step = step
        await self.s.sessions.set(w.address, session)
        chat = update.effective_chat
        prefix = f"{note}\n\n" if note else ""
        if step == "summary" or step == "profile":
            await self.show_profile(update, w, prefix=prefix)
        elif step == "name":
            rows: list[list[Button]] = []
            if p.name:
                text = t._("What name should coordinators see? Is <b>{name}</b> right?", name=esc(p.name))
                rows = [[(t._("✅ Yes"), "reg:name_ok")]]
                text += "\n" + t._("If not, type the name you want to use.")
            else:
                text = t._("What name should coordinators see? Type it, please.")
            await chat.send_message(prefix + text, parse_mode="HTML", reply_markup=inline(rows) if rows else None)
        elif step == "name_input":
            await chat.send_message(prefix + t._("Type the name you want to use."))
        elif step == "where":
            await chat.send_message(
                prefix + t._("Where are you now?"),
                reply_markup=inline([[(t._("🇱🇻 In Latvia"), "reg:where:lv"), (t._("🌍 Abroad"), "reg:where:abroad")]]),
            )
        elif step == "municipality":
            await chat.send_message(
                prefix + t._("Which municipality are you in? Choose below, type its name, or share your location."),
                reply_markup=self.municipality_keyboard(t, 0),
            )
            await chat.send_message(
                t._("📍 You can also share your location with the button below."),
                reply_markup=reply_keyboard([[KeyboardButton(t._("📍 Share my location"), request_location=True)]]),
            )
        elif step == "country":
            buttons = [(t.country(c), f"reg:country:{c}") for c in places.DIASPORA_COUNTRIES[:12]]
            await chat.send_message(
                prefix + t._("Which country are you in? Choose below or type its name."),
                reply_markup=inline(columns(buttons, 3)),
            )
        elif step == "city":
            await chat.send_message(
                prefix + t._("Which city or town are you in? Type its name."),
                reply_markup=ReplyKeyboardRemove(),
            )
        elif step == "timezone":
            zones = places.country_timezones(p.country or "")
            buttons = [(places.timezone_label(z, t.lang), f"reg:tz:{i}") for i, z in enumerate(zones[:30])]
            await chat.send_message(
                prefix + t._("Which time zone are you in?"), reply_markup=inline(columns(buttons, 2))
            )
        elif step == "skills":
            await chat.send_message(
                prefix + t._("What can you help with? Tap everything that applies, then tap Done."),
                reply_markup=self.skills_keyboard(p, t),
            )
        elif step == "availability":
            buttons = [(t._(AVAILABILITY_LABELS[code]), f"reg:avail:{code}") for code in AVAILABILITY]
            await chat.send_message(
                prefix + t._("When can you usually help?"), reply_markup=inline(columns(buttons, 2))
            )
        elif step == "quiet":
            rows = [
                [(t._("No quiet hours"), "reg:quiet:none")],
                [(q.replace("-", "–"), f"reg:quiet:{q}") for q in QUIET_PRESETS],
            ]
            await chat.send_message(
                prefix
                + t._(
                    "Quiet hours: when should I not disturb you (except for critical alerts)? Choose or type, e.g. 22-7."
                ),
                reply_markup=inline(rows),
            )
        elif step == "phone":
            rows_kb: list[list[KeyboardButton | str]] = [
                [KeyboardButton(t._("📱 Share my phone number"), request_contact=True)]
            ]
            rows_kb.append([t._("Skip")] + ([t._("Remove my number")] if p.phone else []))
            await chat.send_message(
                prefix
                + t._(
                    "Would you like to share your phone number? Only the coordinators who send alerts will see it, "
                    "to call you in an emergency. It is optional."
                ),
                reply_markup=reply_keyboard(rows_kb),
            )

    def municipality_keyboard(self, t: Translator, page: int) -> object:
        buttons = [(m.name(t.lang), f"reg:muni:{m.atvk}") for m in places.municipalities()]
        rows, _ = paged(buttons, page, MUNI_PAGE, "reg:mpage")
        return inline(rows)

    def skills_keyboard(self, p: Person, t: Translator) -> object:
        chosen = set(p.skills)
        rows: list[list[Button]] = []
        group = None
        for s in skills.skills_for(abroad=p.abroad):
            if s.group != group:
                group = s.group
                en, lv = skills.GROUP_LABELS.get(group, (group, group))
                rows.append([(f"— {lv if t.lang == 'lv' else en} —", NOOP)])
            rows.append([(("✅ " if s.code in chosen else "") + s.label(t.lang), f"reg:skill:{s.code}")])
        rows.append([(t.n_("Done ({n} chosen)", "Done ({n} chosen)", len(chosen)), "reg:skills_done")])
        return inline(rows)

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
        if p.status == "registering":
            await self.s.sessions.set(w.address, Session(REGISTER, "summary"))
            text = prefix + person_summary(p, t) + "\n\n" + t._("Is everything right? Confirm, or change any part.")
            rows = [[(t._("✅ Confirm"), "reg:confirm")], *edit_rows]
        else:
            await self.s.sessions.clear(w.address)
            text = prefix + person_summary(p, t)
            rows = [*edit_rows, [(t._("🌐 Language"), "prof:language"), (t._("✔️ Done"), "prof:done")]]
        await update.effective_chat.send_message(text, parse_mode="HTML", reply_markup=inline(rows))

    # ----- answers ------------------------------------------------------------------

    async def _current(self, update: Update) -> tuple[Who, Session | None]:
        w = await who(self.s.identity, update)
        session = await self.s.sessions.get(w.address) if w.person else None
        return w, session

    async def advance(self, update: Update, w: Who, session: Session, done: str) -> None:
        """The person finished ``done``: go on to the next step, or back to the summary."""
        p = await self.s.people.get(w.address)
        assert p is not None
        w = Who(w.address, p, w.t)
        following = next_step(p, done)
        if session.flow == EDIT or session.data.get("return"):
            if not (done in LOCATION_STEPS and following in LOCATION_STEPS):
                following = "summary" if p.status == "registering" else "profile"
        await self.ask(update, w, following)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        data = update.callback_query.data
        parts = data.split(":")
        action = parts[1]
        w, session = await self._current(update)
        p = w.person
        if p is None or session is None or session.flow not in (REGISTER, EDIT):
            await answer_query(update, w.t._("This button is no longer active."))
            return
        t = w.t
        step = session.step
        expected = {
            "name_ok": "name",
            "where": "where",
            "muni": "municipality",
            "mpage": "municipality",
            "country": "country",
            "tz": "timezone",
            "skill": "skills",
            "skills_done": "skills",
            "avail": "availability",
            "quiet": "quiet",
            "confirm": "summary",
        }.get(action)
        if expected is not None and expected != step:
            await answer_query(update, t._("This button is no longer active."))
            return
        if action == "name_ok":
            await answer_query(update)
            await edit_or_send(update, t._("Name: {name}", name=esc(p.name or "")))
            await self.advance(update, w, session, "name")
        elif action == "where":
            kind = parts[2]
            await answer_query(update)
            if kind == "lv":
                await self.s.people.update(p.id, location_kind="lv", country=LATVIA, city=None, timezone=LATVIA_TZ)
                await edit_or_send(update, t._("🇱🇻 In Latvia"))
            else:
                await self.s.people.update(p.id, location_kind="abroad", municipality=None)
                await edit_or_send(update, t._("🌍 Abroad"))
            await self.advance(update, w, session, "where")
        elif action == "mpage":
            await answer_query(update)
            await update.callback_query.edit_message_reply_markup(self.municipality_keyboard(t, int(parts[2])))
        elif action == "muni":
            m = places.municipality(parts[2])
            if m is None:
                await answer_query(update)
                return
            await answer_query(update)
            await self.set_municipality(update, w, session, m, edit=True)
        elif action == "country":
            await answer_query(update)
            await self.set_country(update, w, session, parts[2], edit=True)
        elif action == "tz":
            zones = places.country_timezones(p.country or "")
            index = int(parts[2])
            if index >= len(zones):
                await answer_query(update)
                return
            await answer_query(update)
            await self.s.people.update(p.id, timezone=zones[index])
            await edit_or_send(update, t._("Time zone: {zone}", zone=esc(places.timezone_label(zones[index], t.lang))))
            await self.advance(update, w, session, "timezone")
        elif action == "skill":
            code = parts[2]
            if skills.skill(code) is None:
                await answer_query(update)
                return
            chosen = set(p.skills) ^ {code}
            await self.s.people.set_skills(p.id, chosen)
            p.skills = tuple(sorted(chosen))
            await answer_query(update)
            await update.callback_query.edit_message_reply_markup(self.skills_keyboard(p, t))
        elif action == "skills_done":
            if not p.skills:
                await answer_query(update, t._("Choose at least one skill first."), alert=True)
                return
            await answer_query(update)
            await edit_or_send(update, t._("Skills: {skills}", skills=skills_line(p.skills, t)))
            await self.advance(update, w, session, "skills")
        elif action == "avail":
            code = parts[2]
            if code not in AVAILABILITY:
                await answer_query(update)
                return
            await answer_query(update)
            await self.s.people.update(p.id, availability=code)
            await edit_or_send(update, t._("Available: {when}", when=t._(AVAILABILITY_LABELS[code])))
            await self.advance(update, w, session, "availability")
        elif action == "quiet":
            await answer_query(update)
            value = ":".join(parts[2:])
            if value == "none":
                await self.s.people.update(p.id, quiet_start=None, quiet_end=None)
                await edit_or_send(update, t._("Quiet hours: {hours}", hours=t._("none")))
            else:
                start, end = value.split("-")
                await self.s.people.update(p.id, quiet_start=start, quiet_end=end)
                await edit_or_send(update, t._("Quiet hours: {hours}", hours=f"{start}–{end}"))
            await self.advance(update, w, session, "quiet")
        elif action == "confirm":
            await answer_query(update)
            await self.confirm(update, w)
        else:
            await answer_query(update)

    async def confirm(self, update: Update, w: Who) -> None:
        p, t = w.person, w.t
        assert p is not None
        missing = [
            label
            for label, ok in (
                (t._("name"), bool(p.name)),
                (t._("place"), bool(p.municipality) or bool(p.country and p.city)),
                (t._("skills"), bool(p.skills)),
                (t._("availability"), bool(p.availability)),
            )
            if not ok
        ]
        if missing:
            await edit_or_send(update, t._("Still missing: {fields}.", fields=", ".join(missing)))
            return
        await self.s.people.update(p.id, status="active")
        await self.s.sessions.clear(w.address)
        log.info(
            "event=registered user=%s lang=%s abroad=%d skills=%d",
            w.address.external_id,
            p.language,
            int(p.abroad),
            len(p.skills),
        )
        await edit_or_send(
            update,
            person_summary(p, t)
            + "\n\n"
            + t._(
                "🎉 You are registered. When help is needed near you or with your skills, I will write here. /help lists what you can do."
            ),
        )

    async def on_profile_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        action = update.callback_query.data.split(":")[1]
        w = await who(self.s.identity, update)
        p = w.person
        if p is None or p.consent_at is None:
            await answer_query(update, w.t._("This button is no longer active."))
            return
        await answer_query(update)
        if action == "done":
            await update.callback_query.edit_message_reply_markup(None)
            await self.drop_edit(w)
            return
        if action == "language":
            await self.ask_language(update, w, suggested=w.lang)
            return
        if action not in EDITABLE:
            return
        await update.callback_query.edit_message_reply_markup(None)
        p = await self.drop_edit(w) or p  # a change left half-way (an older profile message)
        w = Who(w.address, p, w.t)
        flow = REGISTER if p.status == "registering" else EDIT
        data: dict[str, object] = {"return": "summary" if flow == REGISTER else "profile"}
        if action == "where":
            # The place is changed in several steps; keep the old one to restore if the
            # person leaves half-way (/cancel, /profile), so it is never left inconsistent.
            data["before"] = {field: getattr(p, field) for field in PLACE_FIELDS}
        session = Session(flow, action, data)
        await self.s.sessions.set(w.address, session)
        await self.ask(update, w, action)

    async def drop_edit(self, w: Who) -> Person | None:
        """Leave a profile change that was not finished, restoring the place if it was being
        changed; returns the person as stored afterwards (None when there was nothing to drop)."""
        session = await self.s.sessions.get(w.address)
        if session is None or session.flow != EDIT or w.person is None:
            return None
        before = session.data.get("before")
        if isinstance(before, dict):
            await self.s.people.update(w.person.id, **{k: v for k, v in before.items() if k in PLACE_FIELDS})
        await self.s.sessions.clear(w.address)
        return await self.s.people.get(w.address)

    async def profile(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        if w.person is None or w.person.consent_at is None:
            await update.effective_chat.send_message(w.t._("You are not registered yet. Send /start to join."))
            return
        if w.person.status == "registering":
            session = await self.s.sessions.get(w.address)
            await self.ask(
                update, w, session.step if session else "summary", note=w.t._("Let's finish your registration first.")
            )
            return
        p = await self.drop_edit(w) or w.person
        await self.show_profile(update, Who(w.address, p, w.t))

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Leave the registration or an edit; returns False when there was nothing to leave."""
        w, session = await self._current(update)
        if w.person is not None and w.person.status == "registering":
            await self.s.people.forget(w.address)
            log.info("event=registration_cancelled user=%s", w.address.external_id)
            await update.effective_chat.send_message(
                w.t._("Registration cancelled. Nothing about you was kept. Send /start to begin again."),
                reply_markup=ReplyKeyboardRemove(),
            )
            return True
        if session is not None and session.flow == EDIT:
            await self.drop_edit(w)
            await update.effective_chat.send_message(
                w.t._("Cancelled. Your details are unchanged."), reply_markup=ReplyKeyboardRemove()
            )
            return True
        return False

    # ----- typed answers, locations, contacts -----------------------------------------

    async def on_input(self, update: Update, w: Who, session: Session) -> None:
        """Text, a location or a contact while in the registration or edit flow."""
        msg: Message = update.effective_message
        p, t, step = w.person, w.t, session.step
        assert p is not None
        text = (msg.text or "").strip()
        if step in ("name", "name_input") and msg.text:
            name = clean_name(text)
            if name is None:
                await msg.reply_text(t._("Please type a name of up to 64 characters."))
                return
            await self.s.people.update(p.id, name=name)
            await msg.reply_text(t._("Name: {name}", name=esc(name)), parse_mode="HTML")
            await self.advance(update, w, session, "name")
        elif step == "municipality" and msg.location:
            m = places.nearest_municipality(msg.location.latitude, msg.location.longitude)
            await msg.reply_text(
                t._("The nearest municipality is <b>{place}</b>. Is that right?", place=esc(m.name(t.lang))),
                parse_mode="HTML",
                reply_markup=inline(
                    [[(t._("✅ Yes"), f"reg:muni:{m.atvk}")], [(t._("Choose from the list"), "reg:mpage:0")]]
                ),
            )
        elif step == "municipality" and msg.text:
            match = places.match_municipality(text)
            if match.best is not None:
                await self.set_municipality(update, w, session, match.best, edit=False)
            elif match.candidates:
                await msg.reply_text(
                    t._("Did you mean one of these?"),
                    reply_markup=inline([[(m.name(t.lang), f"reg:muni:{m.atvk}")] for m in match.candidates[:5]]),
                )
            else:
                await msg.reply_text(
                    t._(
                        "I don't know a municipality called “{text}”. Try its name, e.g. “Cēsu novads”, or choose from the list.",
                        text=esc(text[:50]),
                    ),
                    parse_mode="HTML",
                    reply_markup=self.municipality_keyboard(t, 0),
                )
        elif step == "country" and msg.text:
            match = places.match_country(text, t.lang)
            if match.best is not None:
                await self.set_country(update, w, session, match.best, edit=False)
            elif match.candidates:
                await msg.reply_text(
                    t._("Did you mean one of these?"),
                    reply_markup=inline([[(t.country(c), f"reg:country:{c}")] for c in match.candidates[:5]]),
                )
            else:
                await msg.reply_text(
                    t._("I don't know a country called “{text}”. Type its name, e.g. “Ireland”.", text=esc(text[:50])),
                    parse_mode="HTML",
                )
        elif step == "city" and msg.text:
            city = clean_city(text)
            if city is None:
                await msg.reply_text(t._("Please type the name of your city or town (up to 64 characters)."))
                return
            await self.s.people.update(p.id, city=city)
            await msg.reply_text(t._("City: {city}", city=esc(city)), parse_mode="HTML")
            await self.advance(update, w, session, "city")
        elif step == "quiet" and msg.text:
            hours = parse_quiet_hours(text)
            if hours is None:
                await msg.reply_text(t._("Please write quiet hours as from-to, e.g. 22-7 or 23:30-6:00."))
                return
            await self.s.people.update(p.id, quiet_start=hours[0], quiet_end=hours[1])
            await msg.reply_text(t._("Quiet hours: {hours}", hours=f"{hours[0]}–{hours[1]}"))
            await self.advance(update, w, session, "quiet")
        elif step == "phone" and msg.contact:
            if msg.contact.user_id != update.effective_user.id:
                await msg.reply_text(t._("Please share your own number with the button below, or tap Skip."))
                return
            raw = msg.contact.phone_number
            phone = normalise_phone(raw) or "+" + raw.lstrip("+")
            await self.s.people.update(p.id, phone=phone)
            await msg.reply_text(t._("Thank you, your number is saved."), reply_markup=ReplyKeyboardRemove())
            await self.advance(update, w, session, "phone")
        elif step == "phone" and text in (t._("Skip"), t._("Remove my number")):
            if text == t._("Remove my number"):
                await self.s.people.update(p.id, phone=None)
                await msg.reply_text(t._("Your number was removed."), reply_markup=ReplyKeyboardRemove())
            else:
                await msg.reply_text(t._("OK, no phone number."), reply_markup=ReplyKeyboardRemove())
            await self.advance(update, w, session, "phone")
        elif step == "phone" and msg.text:
            await msg.reply_text(t._("Please use the button below to share your number, or tap Skip."))
        else:
            await msg.reply_text(t._("Please answer with the buttons above, or send /cancel to stop."))
            await self.ask(update, w, step)

    async def set_municipality(
        self, update: Update, w: Who, session: Session, m: places.Municipality, edit: bool
    ) -> None:
        assert w.person is not None
        await self.s.people.update(
            w.person.id, location_kind="lv", municipality=m.atvk, country=LATVIA, city=None, timezone=LATVIA_TZ
        )
        text = w.t._("📍 {place}", place=esc(m.name(w.lang)))
        if edit:
            await edit_or_send(update, text)
            await update.effective_chat.send_message("✓", reply_markup=ReplyKeyboardRemove())
        else:
            await update.effective_message.reply_text(text, parse_mode="HTML", reply_markup=ReplyKeyboardRemove())
        await self.advance(update, w, session, "municipality")

    async def set_country(self, update: Update, w: Who, session: Session, code: str, edit: bool) -> None:
        assert w.person is not None
        if code == LATVIA:
            await self.s.people.update(w.person.id, location_kind="lv", country=LATVIA, timezone=LATVIA_TZ)
            await self.ask(update, w, "municipality", note=w.t._("Latvia it is, then."))
            return
        zone = places.default_timezone(code) or (places.country_timezones(code) or ["UTC"])[0]
        await self.s.people.update(w.person.id, location_kind="abroad", country=code, municipality=None, timezone=zone)
        text = w.t._("Country: {country}", country=esc(w.t.country(code)))
        if edit:
            await edit_or_send(update, text)
        else:
            await update.effective_message.reply_text(text, parse_mode="HTML")
        await self.advance(update, w, session, "country")


async def on_noop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Headings and page counters are buttons too: stop Telegram's spinner."""
    await answer_query(update)


def register(app: Application, services: Services, router: TextRouter) -> Registration:
    reg = Registration(services)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", reg.start, filters=private))
    app.add_handler(CommandHandler("profile", reg.profile, filters=private))
    app.add_handler(CommandHandler("language", reg.language_command, filters=private))
    app.add_handler(CallbackQueryHandler(reg.on_language, pattern=r"^lang:"))
    app.add_handler(CallbackQueryHandler(reg.on_consent, pattern=r"^consent:"))
    app.add_handler(CallbackQueryHandler(reg.on_button, pattern=r"^reg:"))
    app.add_handler(CallbackQueryHandler(reg.on_profile_button, pattern=r"^prof:"))
    app.add_handler(CallbackQueryHandler(on_noop, pattern=rf"^{NOOP}$"))
    router.add_flow(REGISTER, reg.on_input)
    router.add_flow(EDIT, reg.on_input)
    router.add_cancel(reg.cancel)
    return reg


__all__ = ["Registration", "normalise_language", "register"]
