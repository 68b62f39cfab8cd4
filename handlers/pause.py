"""/pause (until the person resumes, for a week, or until a date) and /resume."""

from __future__ import annotations

from datetime import date

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.identity import Identity
from bot.application.pause import Pausing
from bot.domain.sessions import Flow, Session
from bot.i18n import N_
from bot.messenger.keyboards import inline
from handlers import callbacks
from handlers.base import App, Who, answer_query, edit_or_send, message_of, who
from handlers.callbacks import PauseButton, PauseChoice
from handlers.router import TextRouter


class PauseHandlers:
    def __init__(self, identity: Identity, pausing: Pausing) -> None:
        self.identity = identity
        self.pausing = pausing

    async def pause(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        if w.person is None or not w.person.active:
            await message_of(update).reply_text(w.t._("You are not registered yet. Send /start to join."))
            return
        t = w.t
        if context.args:
            await self.pause_until_text(update, w, " ".join(context.args))
            return
        await message_of(update).reply_text(
            t._("Pause alerts for how long?"),
            reply_markup=inline(
                [
                    [(t._("Until I resume"), "pause:open"), (t._("One week"), "pause:week")],
                    [(t._("Until a date…"), "pause:date")],
                ]
            ),
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: PauseButton) -> None:
        w = await who(self.identity, update)
        await answer_query(update)
        if w.person is None or not w.person.active:
            return
        choice = button.choice
        if choice == PauseChoice.DATE:
            await self.pausing.ask_until_date(w.person)
            await edit_or_send(update, w.t._("Until which date? Type it like 24.12.2026."))
        elif choice == PauseChoice.WEEK:
            await self.paused(update, w, await self.pausing.pause_for_a_week(w.person))
        else:
            await self.pausing.pause_until(w.person, None)
            await self.paused(update, w, None)

    async def paused(self, update: Update, w: Who, until: date | None) -> None:
        if until is None:
            text = w.t._("⏸ Alerts paused. Send /resume when you can help again.")
        else:
            text = w.t._(
                "⏸ Alerts paused until {date}. Send /resume to receive them sooner.", date=w.t.date_only(until)
            )
        await edit_or_send(update, text)

    async def pause_until_text(self, update: Update, w: Who, text: str) -> None:
        assert w.person is not None
        until = await self.pausing.pause_until_text(w.person, text)
        if until is None:
            await message_of(update).reply_text(w.t._("Please type a date from today on, like 24.12.2026, or /cancel."))
            return
        await self.paused(update, w, until)

    async def on_input(self, update: Update, w: Who, session: Session) -> None:
        await self.pause_until_text(update, w, message_of(update).text or "")

    async def resume(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        if w.person is None or not w.person.active:
            await message_of(update).reply_text(w.t._("You are not registered yet. Send /start to join."))
            return
        await self.pausing.resume(w.person)
        await message_of(update).reply_text(w.t._("▶️ Welcome back! You will receive alerts again."))


def register(app: App, identity: Identity, pausing: Pausing, router: TextRouter) -> None:
    p = PauseHandlers(identity, pausing)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("pause", p.pause, filters=private))
    app.add_handler(CommandHandler("resume", p.resume, filters=private))
    app.add_handler(callbacks.on(PauseButton, p.on_button))
    router.add_flow(Flow.PAUSE, p.on_input, cancelled=N_("Cancelled. Your details are unchanged."))
