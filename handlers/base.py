"""What every handler module needs: who is writing, in which language, and safe replies."""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import Message, Update
from telegram.error import BadRequest

from bot.domain.people import Address, Person
from bot.i18n import Translator, normalise_language, translator
from bot.services import Services

esc = html.escape


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


async def who(services: Services, update: Update) -> Who:
    address = address_of(update)
    person = await services.people.get(address)
    if person is not None and person.blocked:
        # They write to the bot again, so they unblocked it: include them in alerts again.
        await services.people.set_blocked(address, False)
        person.blocked = False
    user = update.effective_user
    lang = person.language if person else normalise_language(user.language_code if user else None)
    return Who(address, person, translator(lang))


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer a button tap (Telegram shows a spinner until then); a stale query is harmless."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text, show_alert=alert)
        except BadRequest:
            pass


async def edit_or_send(update: Update, text: str, markup: object = None) -> Message | None:
    """Replace the text of the message whose button was tapped, or send a new message."""
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            result = await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
            return result if isinstance(result, Message) else None
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return None
            raise
    chat = update.effective_chat
    assert chat is not None
    return await chat.send_message(text, parse_mode="HTML", reply_markup=markup)
