"""A volunteer taps an answer under an alert: record it against the quota, answer at once,
and show the answer in the message (the buttons stay, to change it while the call is open)."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot.application.alerting import Alerting, eta_of
from bot.application.identity import Identity
from bot.domain.alerts import AnswerStatus, Response
from bot.i18n import N_
from bot.messenger.alert_render import answer_keyboard_json, recipient_text
from bot.messenger.raw import edit_text
from handlers import callbacks
from handlers.base import App, answer_query, query_of, who
from handlers.callbacks import AnswerButton

TOASTS = {
    Response.ACCEPTED: N_("Thank you! You are confirmed."),
    Response.STANDBY: N_("Thank you! You are on standby."),
    Response.DECLINED: N_("Thank you for letting us know."),
}


class Responses:
    def __init__(self, identity: Identity, alerting: Alerting) -> None:
        self.identity = identity
        self.alerting = alerting

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
        tz = w.person.timezone if w.person else "Europe/Riga"
        if result.status == AnswerStatus.CLOSED:
            toast = answer_query(update, t._("This call is already closed. Thank you!"), alert=True)
            text = recipient_text(alert, t, tz, response=result.response, closed=True)
            markup = None
        else:
            toast = answer_query(update, t._(TOASTS[result.response]))
            text = recipient_text(alert, t, tz, response=result.response, eta=eta_of(choice))
            markup = answer_keyboard_json(alert_id, t)
        # The toast and the changed message are independent: one round trip, not two.
        message = query_of(update).message
        if message is None:  # not a message the bot sent (an inline-mode message): nothing to edit
            await toast
            return
        await asyncio.gather(toast, edit_text(context.bot, message.chat.id, message.message_id, text, markup))


def register(app: App, identity: Identity, alerting: Alerting) -> None:
    app.add_handler(callbacks.on(AnswerButton, Responses(identity, alerting).on_answer))
