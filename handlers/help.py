"""/help for the person's role, and the coordinator's own /start and /language: a coordinator
is not pulled into the volunteer registration (``/start volunteer`` still registers them)."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.identity import Identity
from bot.domain.people import Address
from bot.i18n import N_, Translator, language_codes, language_name, translator
from bot.messenger.keyboards import inline
from handlers import callbacks
from handlers.base import App, answer_query, edit_or_send, message_of, who
from handlers.callbacks import ChooseCoordinatorLanguage
from handlers.registration import ask_language

VOLUNTEER_COMMANDS = (
    ("start", N_("join, or see that you are registered")),
    ("profile", N_("see and change your details")),
    ("language", N_("change the language")),
    ("pause", N_("pause alerts (optionally until a date)")),
    ("resume", N_("receive alerts again")),
    ("mydata", N_("get everything stored about you as a file")),
    ("forget", N_("erase everything about you")),
    ("verify", N_("check that an alert is genuine: /verify CODE, or forward it to me")),
    ("cancel", N_("stop what you are doing")),
    ("help", N_("this list")),
)
# (command, its arguments, what it does)
COORDINATOR_COMMANDS = (
    ("alert", "", N_("compose an alert step by step")),
    ("alert", "key=value… TEXT", N_("an alert in one line, e.g. /alert areas=Ogre need=5 Sandbags at the bridge")),
    ("alerts", "", N_("the open alerts")),
    ("status", "ID", N_("an alert's live tracking message")),
    ("roster", "ID", N_("everyone who answered, with phone and a link to their chat")),
    ("remind", "ID", N_("remind those who have not answered")),
    ("followup", "ID TEXT", N_("write to those who accepted")),
    ("close", "ID", N_("close an alert")),
    ("export", "ID", N_("the answers as a CSV file")),
    ("messages", "ID", N_("volunteers' messages about an alert, and the replies")),
    ("invite", "coordinator|orgadmin|volunteers [areas=…] [org=CODE]", N_("an invite link (organisation admins)")),
    ("coordinators", "", N_("your organisation's coordinators, with a button to revoke each")),
    ("audit", "", N_("the latest entries of the audit trail (admins and organisation admins)")),
    ("pending", "", N_("alerts waiting for your approval")),
    ("language", "", N_("change the language")),
    ("cancel", "", N_("stop what you are doing")),
)
VOLUNTEER_ARG = "volunteer"  # /start volunteer: a coordinator registers as a volunteer too


def coordinator_lines(t: Translator) -> list[str]:
    return [f"/{cmd}{' ' + args if args else ''} — {t._(text)}" for cmd, args, text in COORDINATOR_COMMANDS]


class Coordinators(filters.MessageFilter):
    """Messages from coordinators (who is one: ``Authorisation.is_staff``)."""

    def __init__(self, identity: Identity) -> None:
        super().__init__(name="Coordinators")
        self.identity = identity

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self.identity.is_coordinator(Address.telegram(user.id))


class Help:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        t = w.t
        if self.identity.is_coordinator(w.address):
            lines = [t._("<b>For coordinators</b>"), *coordinator_lines(t)]
            if w.person is not None:
                lines += ["", t._("<b>As a volunteer</b>")]
                lines += [f"/{cmd} — {t._(text)}" for cmd, text in VOLUNTEER_COMMANDS if cmd != "language"]
            else:
                lines += ["", t._("To receive alerts yourself as a volunteer, send /start {arg}.", arg=VOLUNTEER_ARG)]
        else:
            lines = [t._("<b>What I can do</b>")]
            lines += [f"/{cmd} — {t._(text)}" for cmd, text in VOLUNTEER_COMMANDS]
        await message_of(update).reply_text("\n".join(lines), parse_mode="HTML")

    async def coordinator_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        t = w.t
        lines = [
            t._("Hello! You are a coordinator: with me you send alerts to volunteers and see who is coming."),
            "",
            *coordinator_lines(t),
            "",
        ]
        if w.person is not None:
            lines.append(t._("You are registered as a volunteer too: /profile shows your details."))
        else:
            lines.append(t._("To receive alerts yourself as a volunteer, send /start {arg}.", arg=VOLUNTEER_ARG))
        await message_of(update).reply_text("\n".join(lines), parse_mode="HTML")

    async def coordinator_language(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        if w.person is not None:  # registered: the volunteer's /language (it changes their profile)
            await ask_language(update, suggested=w.lang)
            return
        order = [w.lang] + [lang for lang in language_codes() if lang != w.lang]
        await message_of(update).reply_text(
            "\n".join(translator(lang)._("Choose your language.") for lang in order),
            reply_markup=inline([[(language_name(lang), f"clang:{lang}") for lang in order]]),
        )

    async def on_coordinator_language(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, chosen: ChooseCoordinatorLanguage
    ) -> None:
        lang = chosen.lang
        w = await who(self.identity, update)
        if not await self.identity.set_coordinator_language(w.address, lang):
            await answer_query(update)
            return
        await answer_query(update)
        t = translator(lang)
        await edit_or_send(update, t._("Language: {language}", language=language_name(lang)))


def register(app: App, identity: Identity) -> None:
    """/help, and the coordinator's /start and /language: registered before the volunteer's."""
    h = Help(identity)
    private = filters.ChatType.PRIVATE
    coordinators = Coordinators(identity)
    as_volunteer = filters.Regex(rf"^/start(@\w+)?\s+{VOLUNTEER_ARG}\b")
    app.add_handler(CommandHandler("start", h.coordinator_start, filters=private & coordinators & ~as_volunteer))
    app.add_handler(CommandHandler("language", h.coordinator_language, filters=private & coordinators))
    app.add_handler(callbacks.on(ChooseCoordinatorLanguage, h.on_coordinator_language))
    app.add_handler(CommandHandler("help", h.help, filters=private))
