"""What every handler module needs: who is writing, in which language, and safe replies."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass

from telegram import Message, Update
from telegram.error import BadRequest, NetworkError

from bot.application.identity import Identity
from bot.domain.people import Address, Person
from bot.i18n import Translator, normalise_language, translator
from bot.logs import event
from bot.messenger.errors import is_not_modified

esc = html.escape
log = logging.getLogger(__name__)


@dataclass
class Who:
    address: Address
    person: Person | None
    t: Translator

    @property
    def lang(self) -> str:
        return self.t.lang


def address_of(update: Update) -> Address:
    user = update.effective_user
    assert user is not None
    return Address.telegram(user.id)


async def who(identity: Identity, update: Update) -> Who:
    address = address_of(update)
    person = await identity.identify(address)
    user = update.effective_user
    lang = person.language if person else normalise_language(user.language_code if user else None)
    return Who(address, person, translator(lang))


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer a button tap (Telegram shows a spinner until then). A stale query is harmless,
    and so is one Telegram could not be reached for: what the tap asked for is done anyway."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text, show_alert=alert)
        except NetworkError:  # BadRequest (a stale query) is one too
            pass


async def edit_or_send(update: Update, text: str, markup: object = None) -> Message | None:
    """Replace the text of the message whose button was tapped, or send a new message."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            result = await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
            return result if isinstance(result, Message) else None
        except BadRequest as exc:
            if is_not_modified(exc):
                return None
            raise
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, parse_mode="HTML", reply_markup=markup)


async def coordinator(identity: Identity, update: Update, refusal: str) -> Who | None:
    """The coordinator behind ``update``, or None after a polite ``refusal`` (an N_ id);
    who is a coordinator is decided in one place, ``Access``."""
    w = await who(identity, update)
    if identity.is_coordinator(w.address):
        return w
    event(log, "coordinator_only_refused", user=w.address.external_id)
    text = w.t._(refusal)
    if update.callback_query is not None:
        await answer_query(update, text, alert=True)
    else:
        await update.effective_message.reply_text(text)
    return None
