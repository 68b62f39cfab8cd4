"""What every update passes first (handler group -1, before any other handler): edited
messages are never executed, and a button's data must parse into a typed command
(``handlers.callbacks``) and come from a private chat; otherwise the tap is answered, logged
once, and nothing else happens. Last (after every other handler), a tap no handler took is
still answered, so no spinner keeps turning."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.application.identity import Identity
from bot.i18n import N_
from bot.logs import event
from handlers.base import answer_query, who
from handlers.callbacks import parse

log = logging.getLogger(__name__)

FIRST = -1  # the handler group that runs before all others

NOT_VALID = N_("That button is no longer valid.")
WRITE_PRIVATELY = N_("Please write to me privately: registration and alerts happen in a private chat.")


class Boundary:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message is never run again (an edit to "/forget" erases nothing)."""
        raise ApplicationHandlerStop

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            w = await who(self.identity, update)
            event(log, "callback_outside_private_chat", user=w.address.external_id, chat=chat.id if chat else None)
            await answer_query(update, w.t._(WRITE_PRIVATELY), alert=True)
            raise ApplicationHandlerStop
        if parse(query.data) is None:
            w = await who(self.identity, update)
            data = query.data if isinstance(query.data, str) else ""
            event(log, "callback_invalid", user=w.address.external_id, prefix=data.split(":")[0][:16], length=len(data))
            await answer_query(update, w.t._(NOT_VALID))
            raise ApplicationHandlerStop

    async def on_unclaimed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A valid command no handler took (a heading, a page counter): stop the spinner."""
        await answer_query(update)


def register_first(app: Application, identity: Identity) -> Boundary:
    boundary = Boundary(identity)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, boundary.on_edited), group=FIRST)
    app.add_handler(CallbackQueryHandler(boundary.on_callback), group=FIRST)
    return boundary


def register_last(app: Application, boundary: Boundary) -> None:
    app.add_handler(CallbackQueryHandler(boundary.on_unclaimed))
