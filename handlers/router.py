"""Typed input (text, locations, contacts) goes to the flow the person is in.

A conversation's step lives in the ``sessions`` table, not in memory, so it survives a
restart; each handler module registers the flows it owns here, and ``/cancel`` asks each
module in turn whether it had something to cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from bot.application.conversation import Conversations
from bot.application.identity import Identity
from bot.domain.sessions import Flow, Session
from bot.i18n import Translator
from handlers.base import App, Who, message_of, who

FlowHandler = Callable[[Update, Who, Session], Awaitable[None]]
CancelHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[bool]]
FreeTextHandler = Callable[[Update, Who], Awaitable[bool]]  # True when it answered the text


def with_kept_note(text: str, t: Translator, kept: bool) -> str:
    """``text`` asks for one text (a reason, a reply) on top of what the person was doing
    (bot.application.conversation.interrupt); ``kept``: say that it waits for them."""
    if not kept:
        return text
    return text + "\n\n" + t._("What you started before is kept: you can go on with it after this.")


class TextRouter:
    def __init__(self, identity: Identity, conversations: Conversations) -> None:
        self.identity = identity
        self.conversations = conversations
        self._flows: dict[Flow, FlowHandler] = {}
        self._cancelled: dict[Flow, str] = {}
        self._cancels: list[CancelHandler] = []
        self._free_text: list[FreeTextHandler] = []

    def add_flow(self, flow: Flow, handler: FlowHandler, cancelled: str | None = None) -> None:
        """``cancelled``: what ``/cancel`` says after simply dropping this flow's state (a
        message id marked with N_); flows that need more register a cancel handler."""
        self._flows[flow] = handler
        if cancelled is not None:
            self._cancelled[flow] = cancelled

    def add_cancel(self, handler: CancelHandler) -> None:
        self._cancels.append(handler)

    def add_free_text(self, handler: FreeTextHandler) -> None:
        """``handler`` is asked, in the order added, about input outside any flow."""
        self._free_text.append(handler)

    async def on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        session = await self.conversations.current(w.address)
        if session is not None and session.flow in self._flows:
            await self._flows[session.flow](update, w, session)
            return
        for handler in self._free_text:
            if await handler(update, w):
                return
        if w.person is None and not self.identity.is_coordinator(w.address):
            text = w.t._("Hello! I am Sauciens, the volunteer call-out bot. Send /start to join.")
        else:
            text = w.t._("I did not understand that. /help lists what I can do.")
        await message_of(update).reply_text(text)

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        session = await self.conversations.current(w.address)
        if session is not None and session.flow in self._cancelled:
            await self.conversations.end(w.address)
            await message_of(update).reply_text(
                w.t._(self._cancelled[session.flow]), reply_markup=ReplyKeyboardRemove()
            )
            return
        for handler in self._cancels:
            if await handler(update, context):
                return
        await message_of(update).reply_text(w.t._("There is nothing to cancel."), reply_markup=ReplyKeyboardRemove())

    def register(self, app: App) -> None:
        private = filters.ChatType.PRIVATE
        app.add_handler(CommandHandler("cancel", self.on_cancel, filters=private))
        app.add_handler(MessageHandler(private & ~filters.COMMAND, self.on_message))

    def register_unknown_commands(self, app: App) -> None:
        app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, self.on_unknown_command))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        await message_of(update).reply_text(w.t._("I don't know that command. /help lists what I can do."))
