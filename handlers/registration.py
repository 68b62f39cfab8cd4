"""Registration in a private chat.

``/start`` → language → privacy notice and consent (nothing is stored before it) → name →
in Latvia or abroad → municipality, or country, city and time zone → skills → availability
→ quiet hours → phone → (for members of an organisation) whether the coalition's other
organisations may call them → summary → confirm. Every answer is written at once and the step is
kept in ``sessions``, so a restart in the middle loses nothing; ``/cancel`` removes an
unfinished registration completely. The steps are ``handlers.steps``; ``/profile``
(``handlers.profile``) reuses them."""

from __future__ import annotations

from collections import OrderedDict
from enum import StrEnum

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.identity import Identity
from bot.application.memberships import Memberships
from bot.application.profile import Profile
from bot.application.registration import ConsentOutcome, Registration, StartOutcome
from bot.application.steps import Steps
from bot.domain.people import Address
from bot.domain.sessions import Flow
from bot.i18n import N_, language_codes, language_name, translator
from bot.messenger.keyboards import inline
from bot.messenger.render import esc
from handlers import callbacks
from handlers import profile as profile_handlers
from handlers.base import App, Who, answer_query, chat_of, edit_or_send, message_of, user_of, who
from handlers.callbacks import ChooseLanguage, Consent, MembershipButton, Noop, ProfileButton, StepButton
from handlers.privacy import privacy_notice
from handlers.router import TextRouter
from handlers.steps import StepDialogue

__all__ = ["OpenQuestions", "Question", "RegistrationHandlers", "ask_language", "register"]


class Question(StrEnum):
    """The questions asked before consent, when nothing about the person is stored."""

    LANGUAGE = "language"
    CONSENT = "consent"


HINTS = {
    Question.LANGUAGE: N_("Please choose your language with the buttons above."),
    Question.CONSENT: N_("Please answer with the buttons above: do you agree?"),
}


class OpenQuestions:
    """Which pre-consent question each address was last shown, in memory only (nothing
    is stored before consent) and bounded: the oldest entries are forgotten first, and
    after a restart the general hint is given again."""

    def __init__(self, limit: int = 10_000) -> None:
        self._limit = limit
        self._open: OrderedDict[Address, tuple[Question, str]] = OrderedDict()

    def shown(self, address: Address, question: Question, lang: str) -> None:
        """``question`` was shown in ``lang``."""
        self._open.pop(address, None)
        self._open[address] = (question, lang)
        while len(self._open) > self._limit:
            self._open.popitem(last=False)

    def answered(self, address: Address) -> None:
        self._open.pop(address, None)

    def get(self, address: Address) -> tuple[Question, str] | None:
        return self._open.get(address)


async def ask_language(update: Update, suggested: str) -> None:
    order = [suggested] + [lang for lang in language_codes() if lang != suggested]
    await chat_of(update).send_message(
        "\n".join(translator(lang)._("Hello! Choose your language.") for lang in order),
        reply_markup=inline([[(language_name(lang), f"lang:{lang}") for lang in order]]),
    )


class RegistrationHandlers:
    def __init__(
        self, identity: Identity, registration: Registration, dialogue: StepDialogue, questions: OpenQuestions
    ) -> None:
        self.identity = identity
        self.registration = registration
        self.dialogue = dialogue
        self.questions = questions

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        started = await self.registration.start_registration(w.address, w.person)
        if started.outcome == StartOutcome.CHOOSE_LANGUAGE:
            await ask_language(update, suggested=w.lang)
            if w.person is None:
                self.questions.shown(w.address, Question.LANGUAGE, w.lang)
        elif started.outcome == StartOutcome.CONTINUE:
            assert started.step is not None
            await self.dialogue.ask(update, w, started.step, note=w.t._("Let's continue where you left off."))
        else:
            assert w.person is not None
            await chat_of(update).send_message(
                w.t._(
                    "Welcome back, {name}! You are registered. /profile shows your details, /help lists what I can do.",
                    name=esc(w.person.name or ""),
                ),
                parse_mode="HTML",
            )

    async def language_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        await ask_language(update, suggested=w.lang)
        if w.person is None:
            self.questions.shown(w.address, Question.LANGUAGE, w.lang)

    async def on_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE, chosen: ChooseLanguage) -> None:
        lang = chosen.lang
        w = await who(self.identity, update)
        if self._coordinator_only(w):
            await answer_query(update, w.t._("This button is no longer active."))
            return
        t = translator(lang)
        await answer_query(update)
        p = w.person
        if p is None or p.consent_at is None:
            await edit_or_send(
                update,
                privacy_notice(t),
                inline([[(t._("✅ I agree"), f"consent:{lang}:yes"), (t._("No, thanks"), f"consent:{lang}:no")]]),
            )
            if p is None:
                self.questions.shown(w.address, Question.CONSENT, lang)
            return
        step = await self.registration.change_language(p, lang)
        await edit_or_send(update, t._("Language: {language}", language=language_name(lang)))
        if step is not None:
            await self.dialogue.ask(update, Who(w.address, p, t), step)

    async def on_consent(self, update: Update, context: ContextTypes.DEFAULT_TYPE, consent: Consent) -> None:
        t = translator(consent.lang)
        w = await who(self.identity, update)
        if self._coordinator_only(w):
            await answer_query(update, w.t._("This button is no longer active."))
            return
        await answer_query(update)
        self.questions.answered(w.address)
        if not consent.agreed:
            await edit_or_send(update, t._("All right, nothing was saved. Send /start if you change your mind."))
            return
        user = user_of(update)
        telegram_name = " ".join(filter(None, [user.first_name, user.last_name]))
        consented = await self.registration.give_consent(w.address, w.person, t.lang, telegram_name)
        if consented.outcome == ConsentOutcome.IMPORTED:
            assert consented.person is not None
            await edit_or_send(update, t._("Thank you!"))
            if consented.step is not None:  # "Other organisations in the coalition may call me" first
                await self.dialogue.ask(update, Who(w.address, consented.person, t), consented.step)
            else:
                await self.dialogue.show_profile(update, Who(w.address, consented.person, t))
        elif consented.outcome == ConsentOutcome.CONTINUE:
            assert consented.step is not None
            await edit_or_send(update, t._("Thank you!"))
            await self.dialogue.ask(update, w, consented.step, note=w.t._("Let's continue where you left off."))
        elif consented.outcome == ConsentOutcome.ALREADY_REGISTERED:
            await edit_or_send(update, t._("You are already registered. /profile shows your details."))
        else:
            assert consented.person is not None and consented.step is not None
            await edit_or_send(
                update,
                t._("Thank you! Let's set up your profile. It takes about a minute; /cancel stops at any point."),
            )
            await self.dialogue.ask(update, Who(w.address, consented.person, t), consented.step)

    def _coordinator_only(self, w: Who) -> bool:
        """A coordinator who is not a volunteer: the volunteer's language and consent buttons
        (an old message's, or forged) do not enrol them; ``handlers.help`` has their own."""
        return w.person is None and self.identity.is_coordinator(w.address)

    async def on_free_text(self, update: Update, w: Who) -> bool:
        """Input while the language or consent question is open: point at its buttons."""
        open_question = self.questions.get(w.address) if w.person is None else None
        if open_question is None:
            return False
        question, lang = open_question
        await message_of(update).reply_text(translator(lang)._(HINTS[question]))
        return True

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Leave the registration, erasing it; False when the person was not registering."""
        w = await who(self.identity, update)
        if not await self.registration.cancel_registration(w.person):
            return False
        await chat_of(update).send_message(
            w.t._("Registration cancelled. Nothing about you was kept. Send /start to begin again."),
            reply_markup=ReplyKeyboardRemove(),
        )
        return True


async def on_noop(update: Update, context: ContextTypes.DEFAULT_TYPE, noop: Noop) -> None:
    """Headings and page counters are buttons too: stop Telegram's spinner."""
    await answer_query(update)


def register(
    app: App,
    identity: Identity,
    steps: Steps,
    registration: Registration,
    profile: Profile,
    memberships: Memberships,
    router: TextRouter,
) -> RegistrationHandlers:
    """/start, /language, consent, the steps (``reg:``) and /profile (``prof:``, ``mem:``)."""
    dialogue = StepDialogue(identity, steps, profile, registration, memberships)
    reg = RegistrationHandlers(identity, registration, dialogue, OpenQuestions())
    prof = profile_handlers.ProfileHandlers(identity, profile, memberships, dialogue, ask_language)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", reg.start, filters=private))
    app.add_handler(CommandHandler("profile", prof.profile, filters=private))
    app.add_handler(CommandHandler("language", reg.language_command, filters=private))
    app.add_handler(callbacks.on(ChooseLanguage, reg.on_language))
    app.add_handler(callbacks.on(Consent, reg.on_consent))
    app.add_handler(callbacks.on(StepButton, dialogue.on_button))
    app.add_handler(callbacks.on(ProfileButton, prof.on_button))
    app.add_handler(callbacks.on(MembershipButton, prof.on_membership))
    app.add_handler(callbacks.on(Noop, on_noop))
    router.add_flow(Flow.REGISTER, dialogue.on_input)
    router.add_flow(Flow.EDIT, dialogue.on_input)
    router.add_free_text(reg.on_free_text)
    router.add_cancel(reg.cancel)
    router.add_cancel(prof.cancel)
    return reg
