"""Following an alert: /alerts, /status, /remind, /followup, /close, /export and the
tracking message's buttons. The live tracking message, reminders and deadlines are the
tracking use cases' (``bot.application.tracking``)."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.alerting import FOLLOWUP, FOLLOWUP_LIMIT, Alerting, Drafts
from bot.application.authorisation import AlertRefusal
from bot.application.identity import Identity
from bot.application.tracking import Reminders, Tracking
from bot.domain.alerts import Alert, write_export_csv
from bot.i18n import N_
from bot.messenger.alert_render import SEVERITY_LABELS, roster_texts
from bot.messenger.keyboards import inline
from handlers import callbacks
from handlers.base import App, Who, answer_query, chat_of, coordinator, edit_or_send, esc, message_of
from handlers.callbacks import TrackingButton
from handlers.router import TextRouter

if TYPE_CHECKING:  # the router hands flows a session; its type moves to the domain (bot.domain.sessions)
    from bot.domain.sessions import Session

AlertAction = Callable[[Update, Who, Alert], Awaitable[None]]
CommandCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]  # what PTB accepts


class Coordinator:
    def __init__(
        self, identity: Identity, alerting: Alerting, tracking: Tracking, reminders: Reminders, drafts: Drafts
    ) -> None:
        self.identity = identity
        self.alerting = alerting
        self.tracking = tracking
        self.reminders = reminders
        self.drafts = drafts

    async def _coordinator(self, update: Update) -> Who | None:
        return await coordinator(self.identity, update, N_("Sorry, this is for coordinators only."))

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
            await message_of(update).reply_text(
                w.t._("Please give the alert's number, e.g. /status 12. /alerts lists them.")
            )
            return None
        found = await self.tracking.alert_for(w.acting, int(args[0].lstrip("#")))
        if found == AlertRefusal.UNKNOWN:
            await message_of(update).reply_text(w.t._("There is no alert #{id}.", id=esc(args[0].lstrip("#"))))
        elif isinstance(found, AlertRefusal):
            await message_of(update).reply_text(not_yours(w, int(args[0].lstrip("#"))))
        return found if isinstance(found, Alert) else None

    async def send_tracking(self, update: Update, w: Who, alert: Alert) -> None:
        await self.tracking.show_tracking(alert, str(chat_of(update).id), w.t.lang)

    # ----- commands -------------------------------------------------------------------

    async def alerts(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        t = w.t
        open_alerts = await self.tracking.open_alerts(w.acting)
        if not open_alerts:
            await message_of(update).reply_text(t._("No alerts are open."))
            return
        lines = [t.n_("<b>{n} open alert</b>", "<b>{n} open alerts</b>", len(open_alerts))]
        for a, tally in open_alerts:
            icon, _ = SEVERITY_LABELS[a.draft.severity]
            snippet = cut_at_word(" ".join(a.draft.text_for(t.lang).split()), 40)
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
        await message_of(update).reply_text("\n".join(lines), parse_mode="HTML")

    async def remind_alert(self, update: Update, w: Who, alert: Alert) -> None:
        if not alert.open:
            await chat_of(update).send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        count = await self.reminders.remind(alert.id, w.acting)
        if count == 0:
            await chat_of(update).send_message(
                w.t._("🔔 No one to remind: everyone who got alert #{id} has answered.", id=alert.id)
            )
            return
        await chat_of(update).send_message(
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
        text = (message_of(update).text or "").split(maxsplit=2)
        if len(text) > 2 and text[2].strip():
            await self.send_followup(update, w, alert, text=text[2].strip())
        else:
            await self.ask_followup(update, w, alert)

    async def ask_followup(self, update: Update, w: Who, alert: Alert) -> None:
        await self.drafts.write_follow_up(w.address, alert.id)
        await chat_of(update).send_message(
            w.t._(
                "Write the message for those who accepted alert #{id} (e.g. the meeting point), or share a location. /cancel stops.",
                id=alert.id,
            )
        )

    async def send_followup(
        self, update: Update, w: Who, alert: Alert, text: str | None = None, location: tuple[float, float] | None = None
    ) -> None:
        if not alert.open:
            await chat_of(update).send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        if text is not None and len(text) > FOLLOWUP_LIMIT:
            await chat_of(update).send_message(
                w.t._(
                    "The text is too long: {length} characters, at most {limit}.",
                    length=len(text),
                    limit=FOLLOWUP_LIMIT,
                )
            )
            return
        count = await self.alerting.follow_up(alert.id, w.acting, text=text, location=location)
        if count == 0:
            await chat_of(update).send_message(
                w.t._("📨 No one has accepted alert #{id} yet, so no one got it.", id=alert.id)
            )
            return
        await chat_of(update).send_message(
            w.t.n_("📨 Sending to {n} person who accepted.", "📨 Sending to {n} people who accepted.", count)
        )

    async def on_followup_input(self, update: Update, w: Who, session: Session) -> None:
        msg = message_of(update)
        w.actor = await self.identity.actor(w.address)
        found = await self.tracking.alert_for(w.actor, self.drafts.follow_up_alert(session)) if w.actor else None
        if not isinstance(found, Alert):
            await self.drafts.discard(w.address)
            if found == AlertRefusal.NOT_YOURS:
                await msg.reply_text(not_yours(w, self.drafts.follow_up_alert(session)))
            return
        alert = found
        if msg.location is not None:
            await self.drafts.discard(w.address)
            await self.send_followup(update, w, alert, location=(msg.location.latitude, msg.location.longitude))
        elif msg.text and msg.text.strip():
            await self.drafts.discard(w.address)
            await self.send_followup(update, w, alert, text=msg.text.strip())
        else:
            await msg.reply_text(w.t._("Please write a text or share a location, or /cancel."))

    async def close_alert(self, update: Update, w: Who, alert: Alert) -> None:
        closing = await self.alerting.close_alert(alert.id, w.acting)
        if not closing.closed:
            await chat_of(update).send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        parts = [w.t._("🔒 Alert #{id} closed.", id=alert.id)]
        if closing.thanked:  # no zero-count lines
            parts.append(
                w.t.n_("Thanking {n} person who accepted.", "Thanking {n} people who accepted.", closing.thanked)
            )
        if closing.released:
            parts.append(
                w.t.n_("Releasing {n} person on standby.", "Releasing {n} people on standby.", closing.released)
            )
        await chat_of(update).send_message(" ".join(parts))

    async def confirm_close(self, update: Update, w: Who, alert: Alert) -> None:
        if not alert.open:
            await chat_of(update).send_message(w.t._("Alert #{id} is closed.", id=alert.id))
            return
        t = w.t
        await chat_of(update).send_message(
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
        rows = await self.tracking.export_alert(alert, w.acting)
        write_export_csv(rows, out)
        await chat_of(update).send_document(
            io.BytesIO(out.getvalue().encode("utf-8")),
            filename=f"sauciens-alert-{alert.id}.csv",
            caption=w.t.n_("Alert #{id}: {n} recipient", "Alert #{id}: {n} recipients", len(rows), id=alert.id),
        )

    async def roster(self, update: Update, w: Who, alert: Alert) -> None:
        for text in roster_texts(alert, await self.tracking.roster(alert), w.t):
            await chat_of(update).send_message(text, parse_mode="HTML", disable_web_page_preview=True)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: TrackingButton) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        action = button.action
        found = await self.tracking.alert_for(w.acting, button.alert_id)
        if found == AlertRefusal.NOT_YOURS:  # a forged button: nothing changes
            await answer_query(update, not_yours(w, button.alert_id), alert=True)
            return
        await answer_query(update)
        if not isinstance(found, Alert):
            return
        alert = found
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


def not_yours(w: Who, alert_id: int) -> str:
    return w.t._("Alert #{id} was sent for another organisation: you cannot act on it.", id=alert_id)


def cut_at_word(text: str, limit: int) -> str:
    """``text`` up to ``limit`` characters, cut between words ("…" when cut)."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
    return cut.rstrip(" ,.;:—-") + "…"


def register(app: App, c: Coordinator, router: TextRouter) -> None:
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("alerts", c.alerts, filters=private))
    app.add_handler(CommandHandler("status", c.on_alert_command(c.send_tracking), filters=private))
    app.add_handler(CommandHandler("remind", c.on_alert_command(c.remind_alert), filters=private))
    app.add_handler(CommandHandler("followup", c.followup, filters=private))
    app.add_handler(CommandHandler("close", c.on_alert_command(c.close_alert), filters=private))
    app.add_handler(CommandHandler("export", c.on_alert_command(c.export_alert), filters=private))
    app.add_handler(CommandHandler("roster", c.on_alert_command(c.roster), filters=private))
    app.add_handler(callbacks.on(TrackingButton, c.on_button))
    router.add_flow(FOLLOWUP, c.on_followup_input, cancelled=N_("Cancelled. Nothing was sent."))
