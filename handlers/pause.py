"""/pause (until the person resumes, for a week, or until a date) and /resume."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.domain.people import parse_date
from bot.i18n import N_
from bot.messenger.keyboards import inline
from bot.services import Services
from db.sessions import Session
from handlers.base import Who, answer_query, edit_or_send, who
from handlers.router import TextRouter

log = logging.getLogger(__name__)
PAUSE = "pause"


class Pause:
    def __init__(self, services: Services) -> None:
        self.s = services

    async def pause(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        if w.person is None or w.person.status != "active":
            await update.effective_message.reply_text(w.t._("You are not registered yet. Send /start to join."))
            return
        t = w.t
        if context.args:
            await self.pause_until_text(update, w, " ".join(context.args))
            return
        await update.effective_message.reply_text(
            t._("Pause alerts for how long?"),
            reply_markup=inline(
                [
                    [(t._("Until I resume"), "pause:open"), (t._("One week"), "pause:week")],
                    [(t._("Until a date…"), "pause:date")],
                ]
            ),
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        await answer_query(update)
        if w.person is None or w.person.status != "active":
            return
        choice = update.callback_query.data.split(":")[1]
        if choice == "date":
            await self.s.sessions.set(w.address, Session(PAUSE, "until"))
            await edit_or_send(update, w.t._("Until which date? Type it like 24.12.2026."))
            return
        until = None
        if choice == "week":
            until = datetime.now(ZoneInfo(w.person.timezone)).date() + timedelta(days=7)
        await self.apply(update, w, until)

    async def apply(self, update: Update, w: Who, until: object) -> None:
        assert w.person is not None
        await self.s.people.update(w.person.id, paused=True, paused_until=until)
        await self.s.sessions.clear(w.address)
        log.info("event=paused user=%s until=%s", w.address.external_id, until or "resume")
        if until is None:
            text = w.t._("⏸ Alerts paused. Send /resume when you can help again.")
        else:
            text = w.t._(
                "⏸ Alerts paused until {date}. Send /resume to receive them sooner.", date=w.t.date_only(until)
            )
        await edit_or_send(update, text)

    async def pause_until_text(self, update: Update, w: Who, text: str) -> None:
        assert w.person is not None
        today = datetime.now(ZoneInfo(w.person.timezone)).date()
        until = parse_date(text, today)
        if until is None:
            await update.effective_message.reply_text(
                w.t._("Please type a date from today on, like 24.12.2026, or /cancel.")
            )
            return
        await self.apply(update, w, until)

    async def on_input(self, update: Update, w: Who, session: Session) -> None:
        await self.pause_until_text(update, w, update.effective_message.text or "")

    async def resume(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.s.identity, update)
        if w.person is None or w.person.status != "active":
            await update.effective_message.reply_text(w.t._("You are not registered yet. Send /start to join."))
            return
        await self.s.people.update(w.person.id, paused=False, paused_until=None)
        log.info("event=resumed user=%s", w.address.external_id)
        await update.effective_message.reply_text(w.t._("▶️ Welcome back! You will receive alerts again."))


def register(app: Application, services: Services, router: TextRouter) -> None:
    p = Pause(services)
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("pause", p.pause, filters=private))
    app.add_handler(CommandHandler("resume", p.resume, filters=private))
    app.add_handler(CallbackQueryHandler(p.on_button, pattern=r"^pause:"))
    router.add_flow(PAUSE, p.on_input, cancelled=N_("Cancelled. Your details are unchanged."))
