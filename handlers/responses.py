"""A volunteer taps an answer under an alert: record it against the quota, answer at once,
and show the answer in the message (the buttons stay, to change it while the call is open)."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.application.alerting import Alerting, eta_of
from bot.application.identity import Identity
from bot.domain.alerts import AnswerStatus, Response
from bot.domain.people import LATVIA_TZ
from bot.i18n import N_
from bot.logs import event
from bot.messenger.alert_render import answer_keyboard_json, recipient_text
from bot.messenger.raw import edit_text
from handlers import callbacks
from handlers.base import App, answer_query, query_of, who
from handlers.callbacks import AnswerButton

log = logging.getLogger(__name__)

TOASTS = {
    Response.ACCEPTED: N_("Thank you! You are confirmed."),
    Response.STANDBY: N_("Thank you! You are on standby."),
    Response.DECLINED: N_("Thank you for letting us know."),
}


class Responses:
    def __init__(self, identity: Identity, alerting: Alerting) -> None:
        self.identity = identity
        self.alerting = alerting
        self._edits: dict[int, asyncio.Task[None]] = {}  # chat id -> its latest answer edit

    async def on_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: AnswerButton) -> None:
        alert_id, choice = button.alert_id, str(button.choice)
        w = await who(self.identity, update)
        t = w.t
        result = await self.alerting.record_answer(alert_id, w.address, choice)
        if result.status == AnswerStatus.NOT_RECIPIENT:
            await answer_query(update, t._("This call is not open for you."), alert=True)
            return
        alert = result.alert
        assert alert is not None
        tz = w.person.timezone if w.person else LATVIA_TZ
        if result.status == AnswerStatus.CLOSED:
            toast = answer_query(update, t._("This call is already closed. Thank you!"), alert=True)
            text = recipient_text(alert, t, tz, response=result.response, closed=True)
            markup = None
        else:
            toast = answer_query(update, t._(TOASTS[result.response]))
            text = recipient_text(alert, t, tz, response=result.response, eta=eta_of(choice))
            markup = answer_keyboard_json(alert_id, t)
        message = query_of(update).message
        if message is None:  # not a message the bot sent (an inline-mode message): nothing to edit
            await toast
            return
        # The toast and the changed message are independent: one round trip, not two. The edit
        # counts against Telegram's limits and may wait for its turn (a thousand taps at once):
        # it goes on after this update is done, each person's edits in the order of their taps.
        chat_id, message_id = message.chat.id, message.message_id
        before = self._edits.get(chat_id)
        edit = context.application.create_task(self._edit(before, context, chat_id, message_id, text, markup))
        self._edits[chat_id] = edit
        edit.add_done_callback(
            lambda done: self._edits.pop(chat_id, None) if self._edits.get(chat_id) is done else None
        )
        await toast

    @staticmethod
    async def _edit(
        before: asyncio.Task[None] | None,
        context: ContextTypes.DEFAULT_TYPE,
        chat_id: int,
        message_id: int,
        text: str,
        markup: str | None,
    ) -> None:
        if before is not None:
            await asyncio.wait({before})
        try:
            await edit_text(context.bot, chat_id, message_id, text, markup)
        except TelegramError as exc:
            event(log, "answer_edit_failed", chat=chat_id, message=message_id, error=type(exc).__name__)


def register(app: App, identity: Identity, alerting: Alerting) -> None:
    app.add_handler(callbacks.on(AnswerButton, Responses(identity, alerting).on_answer))
