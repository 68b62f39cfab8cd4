"""What every handler module needs: who is writing, in which language, and safe replies."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from telegram import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User
from telegram.error import BadRequest, NetworkError
from telegram.ext import Application, ContextTypes, ExtBot, JobQueue

from bot.application.identity import Identity
from bot.domain.coalition import Actor
from bot.domain.people import Address, Person
from bot.i18n import Translator, normalise_language, translator
from bot.logs import event
from bot.messenger.errors import is_not_modified

esc = html.escape
log = logging.getLogger(__name__)

# The application bot/app.py builds: PTB's default context and data types and a job queue (the
# ``job-queue`` extra is a dependency). The bot's type parameter is its rate limiter's argument
# type, which handlers never see.
App = Application[
    ExtBot[Any],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]


@dataclass
class Who:
    address: Address
    person: Person | None
    t: Translator
    actor: Actor | None = None  # set by ``coordinator()``: as whom they coordinate

    @property
    def lang(self) -> str:
        return self.t.lang

    @property
    def acting(self) -> Actor:
        """As whom a coordinator acts: a ``Who`` from ``coordinator()`` always has an actor."""
        assert self.actor is not None, "only for a Who that coordinator() returned"
        return self.actor


# PTB types every part of an update as optional, since an update carries only one kind of
# content. Each handler is registered (by its handler class and filters) only for updates that
# have the part it reads, so these accessors assert instead of letting every handler check.


def message_of(update: Update) -> Message:
    """The message of a message or command update (or of the message under a tapped button)."""
    message = update.effective_message
    assert message is not None, "handler registered only for updates with a message"
    return message


def chat_of(update: Update) -> Chat:
    """The chat the update came from (every message, command and button tap has one)."""
    chat = update.effective_chat
    assert chat is not None, "handler registered only for updates from a chat"
    return chat


def query_of(update: Update) -> CallbackQuery:
    """The button tap of an update from a ``CallbackQueryHandler``."""
    query = update.callback_query
    assert query is not None, "handler registered only for button taps"
    return query


def user_of(update: Update) -> User:
    """Who sent the update (every private message, command and button tap has a sender)."""
    user = update.effective_user
    assert user is not None, "handler registered only for updates with a sender"
    return user


def callback_args(update: Update) -> list[str]:
    """The callback data of a button tap, split at ``:`` (``prefix:arg:arg``, bot.messenger.keyboards)."""
    data = query_of(update).data
    assert isinstance(data, str), "our buttons carry text callback data"
    return data.split(":")


def address_of(update: Update) -> Address:
    return Address.telegram(user_of(update).id)


async def who(identity: Identity, update: Update) -> Who:
    address = address_of(update)
    person = await identity.identify(address)
    user = update.effective_user
    code = user.language_code if user else None
    seen = normalise_language(code) if code else None  # Telegram says which language the app is in
    chosen = None if person else await identity.coordinator_language(address, seen)
    lang = person.language if person else chosen or normalise_language(code)
    return Who(address, person, translator(lang))


async def answer_query(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer a button tap (Telegram shows a spinner until then). A stale query is harmless,
    and so is one Telegram could not be reached for: what the tap asked for is done anyway."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer(text, show_alert=alert)
        except NetworkError:  # BadRequest (a stale query) is one too
            pass


async def edit_or_send(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message | None:
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
    return await chat_of(update).send_message(text, parse_mode="HTML", reply_markup=markup)


async def edit_markup(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the buttons of the message whose button was tapped; the same buttons again (a
    double tap, or a tap forged onto another message) are no error."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if not is_not_modified(exc):
            raise


async def coordinator(identity: Identity, update: Update, refusal: str) -> Who | None:
    """The coordinator behind ``update`` (with ``actor`` set), or None after a polite
    ``refusal`` (an N_ id); who coordinates is decided in one place, ``Authorisation``."""
    w = await who(identity, update)
    w.actor = await identity.actor(w.address)
    if w.actor is not None:
        return w
    event(log, "coordinator_only_refused", user=w.address.external_id)
    text = w.t._(refusal)
    if update.callback_query is not None:
        await answer_query(update, text, alert=True)
    else:
        await message_of(update).reply_text(text)
    return None
