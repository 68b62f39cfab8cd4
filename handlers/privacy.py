"""/mydata (everything stored about the person, as a file) and /forget (erase it)."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.messenger.keyboards import inline
from bot.services import Services
from db.people import personal_data
from handlers.base import answer_query, edit_or_send, who

log = logging.getLogger(__name__)


class Privacy:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def mydata(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        data = await personal_data(self.s.db, w.address)
        if data is None:
            await update.effective_message.reply_text(w.t._("I keep nothing about you."))
            return
        data["exported_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
        await update.effective_chat.send_document(
            io.BytesIO(payload),
            filename="sauciens-my-data.json",
            caption=w.t._("Everything Sauciens stores about you."),
        )
        log.info("event=mydata_sent user=%s bytes=%d", w.address.external_id, len(payload))

    async def forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        if w.person is None:
            await update.effective_message.reply_text(w.t._("I keep nothing about you."))
            return
        t = w.t
        await update.effective_message.reply_text(
            t._("Erase everything about you? You will stop receiving alerts. This cannot be undone."),
            reply_markup=inline([[(t._("🗑 Yes, erase everything"), "forget:yes"), (t._("No, keep it"), "forget:no")]]),
        )

    async def on_forget(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        await answer_query(update)
        if update.callback_query.data != "forget:yes":
            await edit_or_send(update, w.t._("Nothing was erased."))
            return
        erased = await self.s.people.forget(w.address)
        log.info("event=person_forgotten user=%s erased=%d", w.address.external_id, int(erased))
        await edit_or_send(
            update,
            w.t._(
                "Everything about you has been erased. Goodbye, and thank you. Send /start if you want to join again."
            ),
        )


def register(app: Application, services: Services) -> None:
    privacy = Privacy(services)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("mydata", privacy.mydata, filters=private))
    app.add_handler(CommandHandler("forget", privacy.forget, filters=private))
    app.add_handler(CallbackQueryHandler(privacy.on_forget, pattern=r"^forget:"))
