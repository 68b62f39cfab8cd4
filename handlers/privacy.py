"""The privacy notice, /mydata (everything stored about the person, as a file), /forget (erase
it), and asking again when the notice has changed since the person agreed to it.

A registered person who agreed to an older notice is shown the new one at their next command
or message, before what they asked for, which is handled once they agree (or they erase their
data). Button taps are never held up: an alert's answer buttons work whatever the person agreed
to (a crisis never waits). Nor are /forget, /mydata, /verify and forwarded messages (checking
an alert); nor a coordinator's commands, except those about their own data as a volunteer."""

from __future__ import annotations

import io
import logging
from collections import OrderedDict

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ContextTypes, MessageHandler, filters

from bot.application.identity import Identity
from bot.application.privacy import Privacy
from bot.application.throttle import Throttle
from bot.domain.people import PRIVACY_NOTICE_VERSION, Address
from bot.i18n import Translator
from bot.logs import event
from bot.messenger.keyboards import inline
from handlers import callbacks
from handlers.base import App, Who, answer_query, chat_of, edit_or_send, message_of, who
from handlers.boundary import FIRST
from handlers.callbacks import ForgetButton, NoticeButton

log = logging.getLogger(__name__)

# Never held up by a changed notice: the way out, what is stored, and checking an alert.
NOT_HELD_UP = frozenset({"forget", "mydata", "verify"})
# A coordinator's commands are not held up, except these (their own data as a volunteer).
STAFF_HELD_UP = frozenset({"profile", "pause", "resume"})


def privacy_notice(t: Translator) -> str:
    """The privacy notice (``PRIVACY_NOTICE_VERSION``), ending with the question."""
    return t._(
        "<b>Privacy</b>\n"
        "Sauciens keeps what you tell it here (name, place, skills, availability and, if you share it, your phone "
        "number) and your answers to alerts, so that civil-protection coordinators can ask you for help in a "
        "crisis.\n"
        "Sauciens is shared by a coalition of organisations. If you belong to none of them, the coordinators of "
        "every organisation in the coalition can send you alerts. If you belong to some, their coordinators can, "
        "and the other organisations' coordinators only if you allow it in /profile. Coordinators see your name "
        "and place and your answers to their alerts, and they can export a list of who answered an alert and how. "
        "Your phone number appears in an organisation's exports only if you allow it in /profile; an organisation "
        "that gave us your number on its own list may see it until you say otherwise. Some time after an alert "
        "is closed, who answered it is erased and only the counts stay.\n"
        "You can see everything stored about you with /mydata and erase it with /forget at any time; your past "
        "answers then stay only in anonymous counts.\n\n"
        "Do you agree?"
    )


def notice_buttons(t: Translator) -> InlineKeyboardMarkup:
    version = PRIVACY_NOTICE_VERSION
    return inline([[(t._("✅ I agree"), f"notice:{version}:yes"), (t._("🗑 Erase my data"), f"notice:{version}:no")]])


def changed_notice(t: Translator) -> str:
    return (
        t._("<b>The privacy notice has changed.</b>")
        + "\n"
        + t._("Please read it and agree to go on. If you do not agree, /forget erases everything about you.")
        + "\n\n"
        + privacy_notice(t)
    )


def forget_question(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    """/forget's question: erase everything, or keep it."""
    return (
        t._("Erase everything about you? You will stop receiving alerts. This cannot be undone."),
        inline([[(t._("🗑 Yes, erase everything"), "forget:yes"), (t._("No, keep it"), "forget:no")]]),
    )


def command_of(message: Message) -> str | None:
    """The command a message starts with ("verify" for /verify_K7Q2PX), None for other text."""
    text = message.text or ""
    if not text.startswith("/"):
        return None
    name = text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(text) > 1 else ""
    return "verify" if name.startswith("verify_") else name


class NoticeGate:
    """Holds the message of someone who must agree to a changed notice (in memory, the latest
    one per person, bounded) and handles it once they agree: it goes through the update queue
    again, past the throttle (``Throttle.let_through``)."""

    def __init__(self, app: App, identity: Identity, privacy: Privacy, throttle: Throttle, limit: int = 10_000) -> None:
        self.app = app
        self.identity = identity
        self.privacy = privacy
        self.throttle = throttle
        self._limit = limit
        self._held: OrderedDict[Address, Update] = OrderedDict()

    def _held_up(self, message: Message, w: Who) -> bool:
        if message.forward_origin is not None:
            return False
        command = command_of(message)
        if command in NOT_HELD_UP:
            return False
        return not self.identity.is_coordinator(w.address) or command in STAFF_HELD_UP

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.message
        if message is None:
            return
        w = await who(self.identity, update)
        if not self.privacy.must_agree_again(w.person) or not self._held_up(message, w):
            return
        shown_before = self._held.pop(w.address, None) is not None
        self._held[w.address] = update
        while len(self._held) > self._limit:
            self._held.popitem(last=False)
        event(log, "privacy_notice_asked", user=w.address.external_id, again=int(shown_before))
        if shown_before:
            text = w.t._("Please agree to the new privacy notice above first, or send /forget to erase your data.")
        else:
            text = changed_notice(w.t)
        await message.reply_text(text, parse_mode="HTML", reply_markup=notice_buttons(w.t))
        raise ApplicationHandlerStop

    async def on_notice(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: NoticeButton) -> None:
        w = await who(self.identity, update)
        p, t = w.person, w.t
        if p is None or p.consent_at is None:
            await answer_query(update, t._("This button is no longer active."))
            return
        await answer_query(update)
        if not button.agreed:
            text, markup = forget_question(t)
            await chat_of(update).send_message(text, reply_markup=markup)
            return
        if not self.privacy.must_agree_again(p):  # agreed already (a second tap)
            await edit_or_send(update, t._("Thank you! You have agreed to the privacy notice."))
            return
        if not await self.privacy.agree_again(p, button.version):  # an older notice's button
            await edit_or_send(update, changed_notice(t), notice_buttons(t))
            return
        await edit_or_send(update, t._("Thank you! You have agreed to the privacy notice."))
        held = self._held.pop(w.address, None)
        if held is not None:  # what they asked for before the notice
            self.throttle.let_through(held.update_id)
            self.app.update_queue.put_nowait(held)


class PrivacyHandlers:
    def __init__(self, identity: Identity, privacy: Privacy) -> None:
        self.identity = identity
        self.privacy = privacy

    async def mydata(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        payload = await self.privacy.my_data(w.address)
        if payload is None:
            await message_of(update).reply_text(w.t._("I keep nothing about you."))
            return
        await chat_of(update).send_document(
            io.BytesIO(payload),
            filename="sauciens-my-data.json",
            caption=w.t._("Everything Sauciens stores about you."),
        )

    async def forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        if w.person is None:
            await message_of(update).reply_text(w.t._("I keep nothing about you."))
            return
        text, markup = forget_question(w.t)
        await message_of(update).reply_text(text, reply_markup=markup)

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: ForgetButton) -> None:
        w = await who(self.identity, update)
        await answer_query(update)
        if not button.erase:
            await edit_or_send(update, w.t._("Nothing was erased."))
            return
        await self.privacy.forget(w.address)
        await edit_or_send(
            update,
            w.t._(
                "Everything about you has been erased. Goodbye, and thank you. Send /start if you want to join again."
            ),
        )


def register(app: App, identity: Identity, privacy: Privacy, throttle: Throttle) -> None:
    """/mydata, /forget, and the changed notice (before every handler but the input boundary's)."""
    handlers = PrivacyHandlers(identity, privacy)
    gate = NoticeGate(app, identity, privacy, throttle)
    private = filters.ChatType.PRIVATE
    # In the input boundary's group, after its handlers (which take edits and taps, not new messages).
    app.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, gate.on_message), group=FIRST)
    app.add_handler(CommandHandler("mydata", handlers.mydata, filters=private))
    app.add_handler(CommandHandler("forget", handlers.forget, filters=private))
    app.add_handler(callbacks.on(ForgetButton, handlers.on_forget))
    app.add_handler(callbacks.on(NoticeButton, gate.on_notice))
