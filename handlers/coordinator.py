"""Following an alert: the live tracking message, /alerts, /status, /remind, /followup,
/close, /export and the tracking message's buttons; automatic reminders and respond-by
deadlines, rebuilt from the database at start-up (PTB's JobQueue keeps nothing)."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.alerting import AlertService
from bot.domain.alerts import Alert, write_export_csv
from bot.i18n import N_, translator
from bot.messenger.alert_render import SEVERITY_LABELS, tracking_keyboard, tracking_text
from bot.messenger.keyboards import inline
from bot.services import Services
from db.sessions import Session
from handlers.base import Who, answer_query, coordinator, edit_or_send, esc
from handlers.router import TextRouter

log = logging.getLogger(__name__)
FOLLOWUP = "followup"
AlertAction = Callable[[Update, Who, Alert], Awaitable[None]]
CommandCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


class Coordinator:
    def __init__(self, services: Services, alerting: AlertService) -> None:
        self.s = services
        self.alerting = alerting
        self._shown: dict[int, str] = {}
        self._lang: dict[int, str] = {}  # alert id -> language of the tracking message's reader

    async def _coordinator(self, update: Update) -> Who | None:
        return await coordinator(self.s.identity, update, N_("Sorry, this is for coordinators only."))

    def on_alert_command(self, action: AlertAction) -> CommandCallback:
        """``/status ID``, ``/remind ID``, ``/close ID``, ``/export ID``: a coordinator and an
        existing alert, then ``action``."""

        async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            w = await self._coordinator(update)
            if w is None:
                return
            alert = await self._alert_arg(update, w, context.args or [])
            if alert is not None:
                await action(update, w, alert)

        return command

    async def _alert_arg(self, update: Update, w: Who, args: list[str]) -> Alert | None:
        if not args or not args[0].lstrip("#").isdigit():
            await update.effective_message.reply_text(
                w.t._("Please give the alert's number, e.g. /status 12. /alerts lists them.")
            )
            return None
        alert = await self.alerting.alerts.get(int(args[0].lstrip("#")))
        if alert is None:
            await update.effective_message.reply_text(w.t._("There is no alert #{id}.", id=esc(args[0].lstrip("#"))))
        return alert

    # ----- live tracking -------------------------------------------------------------

    async def refresh(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Edit the tracking messages of alerts that changed (at most once per interval)."""
        dirty = list(self.alerting.dirty)
        self.alerting.dirty.clear()
        for alert_id in dirty:
            try:
                await self.update_tracking(context, alert_id)
            except TelegramError as exc:
                log.warning("event=tracking_update_failed alert=%d error=%s", alert_id, exc.message)

    async def update_tracking(self, context: ContextTypes.DEFAULT_TYPE, alert_id: int) -> None:
        where = await self.alerting.alerts.tracking_message(alert_id)
        alert = await self.alerting.alerts.get(alert_id)
        if where is None or alert is None:
            return
        chat, message_id = where
        t = translator(self._lang.get(alert_id, alert.author_language))
        text = tracking_text(alert, await self.alerting.alerts.tally(alert_id), t, "Europe/Riga")
        key = f"{text}|{alert.status}"
        if self._shown.get(alert_id) == key:
            return
        try:
            await context.bot.edit_message_text(
                text,
                chat_id=int(chat),
                message_id=message_id,
                parse_mode="HTML",
                reply_markup=tracking_keyboard(alert, t),
            )
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        self._shown[alert_id] = key

    async def send_tracking(self, update: Update, w: Who, alert: Alert) -> None:
        tally = await self.alerting.alerts.tally(alert.id)
        text = tracking_text(alert, tally, w.t, "Europe/Riga")
        msg = await update.effective_chat.send_message(
            text, parse_mode="HTML", reply_markup=tracking_keyboard(alert, w.t)
        )
        # later edits in the language of whoever holds it, and only when something changed
        # (set before the new message is recorded, which a refresh may read meanwhile)
        self._lang[alert.id] = w.t.lang
        self._shown[alert.id] = f"{text}|{alert.status}"
        await self.alerting.alerts.set_tracking_message(alert.id, str(msg.chat_id), msg.message_id)

    # ----- commands -------------------------------------------------------------------

    async def alerts(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        t = w.t
        open_alerts = await self.alerting.alerts.list(only_open=True)
        if not open_alerts:
            await update.effective_message.reply_text(t._("No alerts are open."))
            return
        lines = [t.n_("<b>{n} open alert</b>", "<b>{n} open alerts</b>", len(open_alerts))]
        for a in open_alerts:
            tally = await self.alerting.alerts.tally(a.id)
            icon, _ = SEVERITY_LABELS[a.draft.severity]
            snippet = " ".join(a.draft.text_for(t.lang).split())[:40]
            need = f"/{a.draft.need}" if a.draft.need else ""
            lines.append(
                f"#{a.id} {icon}{' 🧪' if a.draft.drill else ''} {esc(snippet)} — "
                + t._(
                    "accepted {accepted}{need}, sent {sent}/{total}",
                    accepted=tally.accepted,
                    need=need,
                    sent=tally.sent,
                    total=tally.total,
                )
            )
        lines.append(t._("/status ID shows one of them."))
        await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")

    async def remind_alert(self, update: Update, w: Who, alert: Alert) -> None:
        if not alert.open:
            await update.effective_chat.send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        count = await self.alerting.remind(alert.id, automatic=False)
        await update.effective_chat.send_message(
            w.t.n_(
                "🔔 Reminding {n} person who has not answered.", "🔔 Reminding {n} people who have not answered.", count
            )
        )

    async def followup(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        alert = await self._alert_arg(update, w, context.args or [])
        if alert is None:
            return
        text = (update.effective_message.text or "").split(maxsplit=2)
        if len(text) > 2 and text[2].strip():
            await self.send_followup(update, w, alert, text=text[2].strip())
        else:
            await self.ask_followup(update, w, alert)

    async def ask_followup(self, update: Update, w: Who, alert: Alert) -> None:
        await self.s.sessions.set(w.address, Session(FOLLOWUP, "text", {"alert_id": alert.id}))
        await update.effective_chat.send_message(
            w.t._(
                "Write the message for those who accepted alert #{id} (e.g. the meeting point), or share a location. /cancel stops.",
                id=alert.id,
            )
        )

    async def send_followup(
        self, update: Update, w: Who, alert: Alert, text: str | None = None, location: tuple[float, float] | None = None
    ) -> None:
        if not alert.open:
            await update.effective_chat.send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        if text is not None and len(text) > 3500:
            await update.effective_chat.send_message(
                w.t._("The text is too long: {length} characters, at most {limit}.", length=len(text), limit=3500)
            )
            return
        count = await self.alerting.followup(alert.id, text=text, location=location)
        await update.effective_chat.send_message(
            w.t.n_("📨 Sending to {n} person who accepted.", "📨 Sending to {n} people who accepted.", count)
        )

    async def on_followup_input(self, update: Update, w: Who, session: Session) -> None:
        msg = update.effective_message
        alert = await self.alerting.alerts.get(int(session.data["alert_id"]))
        if not self.s.identity.is_coordinator(w.address) or alert is None:
            await self.s.sessions.clear(w.address)
            return
        if msg.location is not None:
            await self.s.sessions.clear(w.address)
            await self.send_followup(update, w, alert, location=(msg.location.latitude, msg.location.longitude))
        elif msg.text and msg.text.strip():
            await self.s.sessions.clear(w.address)
            await self.send_followup(update, w, alert, text=msg.text.strip())
        else:
            await msg.reply_text(w.t._("Please write a text or share a location, or /cancel."))

    async def close_alert(self, update: Update, w: Who, alert: Alert) -> None:
        closing = await self.alerting.close(alert.id)
        if not closing.closed:
            await update.effective_chat.send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        await update.effective_chat.send_message(
            w.t._("🔒 Alert #{id} closed.", id=alert.id)
            + " "
            + w.t.n_("Thanking {n} person who accepted;", "Thanking {n} people who accepted;", closing.thanked)
            + " "
            + w.t.n_("releasing {n} on standby.", "releasing {n} on standby.", closing.released)
        )

    async def confirm_close(self, update: Update, w: Who, alert: Alert) -> None:
        if not alert.open:
            await update.effective_chat.send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        t = w.t
        await update.effective_chat.send_message(
            t._(
                "Close alert #{id}? Those who accepted are thanked, those on standby are released, and answers are no longer taken.",
                id=alert.id,
            ),
            reply_markup=inline(
                [
                    [
                        (t._("🔒 Yes, close #{id}", id=alert.id), f"trk:closeyes:{alert.id}"),
                        (t._("↩️ Keep it open"), f"trk:keep:{alert.id}"),
                    ]
                ]
            ),
        )

    async def export_alert(self, update: Update, w: Who, alert: Alert) -> None:
        out = io.StringIO()
        rows = await self.alerting.alerts.export_rows(alert.id)
        write_export_csv(rows, out)
        await update.effective_chat.send_document(
            io.BytesIO(out.getvalue().encode("utf-8")),
            filename=f"sauciens-alert-{alert.id}.csv",
            caption=w.t.n_("Alert #{id}: {n} recipient", "Alert #{id}: {n} recipients", len(rows), id=alert.id),
        )
        log.info("event=alert_exported alert=%d rows=%d", alert.id, len(rows))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        _, action, alert_id = update.callback_query.data.split(":")
        alert = await self.alerting.alerts.get(int(alert_id))
        await answer_query(update)
        if alert is None:
            return
        if action == "remind":
            await self.remind_alert(update, w, alert)
        elif action == "followup":
            await self.ask_followup(update, w, alert)
        elif action == "close":  # one tap too many must not end a call: ask first
            await self.confirm_close(update, w, alert)
        elif action == "closeyes":
            await edit_or_send(update, w.t._("Closing alert #{id}…", id=alert.id))
            await self.close_alert(update, w, alert)
        elif action == "keep":
            await edit_or_send(update, w.t._("Alert #{id} stays open.", id=alert.id))
        elif action == "export":
            await self.export_alert(update, w, alert)

    # ----- scheduled reminders and deadlines ------------------------------------------------

    async def rebuild_schedule(self, app: Application) -> int:
        scheduled = 0
        for alert_id, remind_at, respond_by in await self.alerting.alerts.schedules():
            scheduled += self.schedule(app, alert_id, remind_at, respond_by)
        log.info("event=schedule_rebuilt jobs=%d", scheduled)
        return scheduled

    def schedule(self, app: Application, alert_id: int, remind_at: datetime | None, respond_by: datetime | None) -> int:
        jq = app.job_queue
        assert jq is not None
        now = datetime.now(UTC)
        count = 0
        if remind_at is not None:
            jq.run_once(self._auto_remind, max(remind_at, now), data=alert_id, name=f"remind:{alert_id}")
            count += 1
        if respond_by is not None:
            jq.run_once(self._deadline, max(respond_by, now), data=alert_id, name=f"deadline:{alert_id}")
            count += 1
        return count

    async def _auto_remind(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        alert_id = int(context.job.data)
        alert = await self.alerting.alerts.get(alert_id)
        if alert is None or not alert.open:
            return
        await self.alerting.remind(alert_id, automatic=True)

    async def _deadline(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        alert_id = int(context.job.data)
        alert = await self.alerting.alerts.get(alert_id)
        if alert is None:
            return
        await self.alerting.alerts.mark_deadline_done(alert_id)
        if not alert.open:
            return
        tally = await self.alerting.alerts.tally(alert_id)
        t = translator(alert.author_language)
        need = f"/{alert.draft.need}" if alert.draft.need else ""
        await context.bot.send_message(
            int(alert.author_external_id),
            t._(
                "⏰ The answer time of alert #{id} is over: {accepted}{need} accepted, {none} did not answer. /close {id} closes it.",
                id=alert_id,
                accepted=tally.accepted,
                need=need,
                none=tally.none,
            ),
        )
        log.info("event=deadline_reached alert=%d accepted=%d", alert_id, tally.accepted)


def register(app: Application, c: Coordinator, router: TextRouter) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("alerts", c.alerts, filters=private))
    app.add_handler(CommandHandler("status", c.on_alert_command(c.send_tracking), filters=private))
    app.add_handler(CommandHandler("remind", c.on_alert_command(c.remind_alert), filters=private))
    app.add_handler(CommandHandler("followup", c.followup, filters=private))
    app.add_handler(CommandHandler("close", c.on_alert_command(c.close_alert), filters=private))
    app.add_handler(CommandHandler("export", c.on_alert_command(c.export_alert), filters=private))
    app.add_handler(
        CallbackQueryHandler(c.on_button, pattern=r"^trk:(remind|followup|close|closeyes|keep|export):\d+$")
    )
    router.add_flow(FOLLOWUP, c.on_followup_input, cancelled=N_("Cancelled. Nothing was sent."))
