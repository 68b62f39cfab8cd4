"""/mydata (everything stored about the person, as a file) and /forget (erase it)."""

from __future__ import annotations

import io

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.identity import Identity
from bot.application.privacy import Privacy
from bot.messenger.keyboards import inline
from handlers import callbacks
from handlers.base import App, answer_query, chat_of, edit_or_send, message_of, who
from handlers.callbacks import ForgetButton


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
        t = w.t
        await message_of(update).reply_text(
            t._("Erase everything about you? You will stop receiving alerts. This cannot be undone."),
            reply_markup=inline([[(t._("🗑 Yes, erase everything"), "forget:yes"), (t._("No, keep it"), "forget:no")]]),
        )

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


def register(app: App, identity: Identity, privacy: Privacy) -> None:
    handlers = PrivacyHandlers(identity, privacy)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("mydata", handlers.mydata, filters=private))
    app.add_handler(CommandHandler("forget", handlers.forget, filters=private))
    app.add_handler(callbacks.on(ForgetButton, handlers.on_forget))
