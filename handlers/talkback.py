"""Talk-back in the chat: a volunteer's free text about an open alert is offered to its
coordinator ("Send this…?"), Yes forwards it with a Reply button, and the coordinator's reply
goes back to the volunteer. ``/messages ID`` lists an alert's messages for coordinators."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.identity import Identity
from bot.application.talkback import Offer, Refusal, Talkback
from bot.domain.sessions import Flow, Session
from bot.domain.talkback import TEXT_MAX, Direction, TalkMessage
from bot.i18n import N_, Translator, translator
from bot.logs import event
from bot.messenger.keyboards import inline
from bot.messenger.render import esc
from handlers import callbacks
from handlers.base import App, Who, answer_query, coordinator, edit_or_send, message_of, user_of, who
from handlers.callbacks import TalkAction, TalkButton
from handlers.router import TextRouter, with_kept_note

log = logging.getLogger(__name__)

COORDINATORS_ONLY = N_("Sorry, this is for coordinators only.")
LABEL_CHARS = 24  # an alert's text on a choice button, cut at a word
LISTING_CHARS = 4000  # /messages lists the first messages that fit one Telegram message


def short(text: str, limit: int = LABEL_CHARS) -> str:
    """``text`` on one line, cut at a word boundary with "…" when longer than ``limit``."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] if " " in line[: limit - 1] else line[: limit - 1]
    return cut.rstrip(",.;:") + "…"


def refusal_text(refusal: Refusal, t: Translator, limit: int, minutes: int) -> str:
    if refusal == Refusal.TOO_LONG:
        return t._("Please keep a message to the coordinator under {n} characters.", n=TEXT_MAX)
    if refusal == Refusal.TOO_MANY:
        return t.n_(
            "You have sent {n} messages to coordinators in the last {minutes} minutes, which is the limit. "
            "Please wait a little before writing again.",
            "You have sent {n} messages to coordinators in the last {minutes} minutes, which is the limit. "
            "Please wait a little before writing again.",
            limit,
            minutes=minutes,
        )
    if refusal == Refusal.CLOSED:
        return t._("That alert is closed, so nothing was sent.")
    if refusal == Refusal.GONE:
        return t._("That person is no longer registered, so the reply was not sent.")
    if refusal == Refusal.NOT_YOURS:
        return t._("That alert was sent for another organisation: you cannot see or answer its messages.")
    return t._("This button is no longer active.")


def incoming_text(message: TalkMessage, t: Translator) -> str:
    """A volunteer's message as the coordinator gets it."""
    name = message.volunteer_name or t._("A volunteer")
    return t._("💬 <b>{name}</b> about alert #{id}:", name=esc(name), id=message.alert_id) + "\n" + esc(message.text)


def reply_text(message: TalkMessage, t: Translator) -> str:
    """A coordinator's reply as the volunteer gets it."""
    return (
        t._("💬 Coordinator {name} (alert #{id}):", name=esc(message.coordinator_name), id=message.alert_id)
        + "\n"
        + esc(message.text)
    )


def listing(alert_id: int, messages: list[TalkMessage], t: Translator) -> str:
    if not messages:
        return t._("Alert #{id} has no messages.", id=alert_id)
    lines = [t.n_("💬 Alert #{id}: {n} message", "💬 Alert #{id}: {n} messages", len(messages), id=alert_id)]
    size = len(lines[0])
    for shown, m in enumerate(messages):
        name = esc(m.volunteer_name or t._("A volunteer"))
        when = t.time(m.created_at)
        if m.direction == Direction.IN:
            line = t._("{time} {name}: {text}", time=when, name=name, text=esc(m.text))
        else:
            line = t._(
                "{time} ↩️ {coordinator} to {name}: {text}",
                time=when,
                coordinator=esc(m.coordinator_name),
                name=name,
                text=esc(m.text),
            )
        if size + len(line) + 1 > LISTING_CHARS:
            lines.append(t._("+{n} more", n=len(messages) - shown))
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


class TalkbackHandlers:
    def __init__(self, identity: Identity, talkback: Talkback) -> None:
        self.identity = identity
        self.talkback = talkback

    @property
    def _minutes(self) -> int:
        return max(1, round(self.talkback.window.total_seconds() / 60))

    # ----- the volunteer --------------------------------------------------------------------

    async def on_free_text(self, update: Update, w: Who) -> bool:
        """Text outside any flow; False when the person has no open alert (the router answers)."""
        msg = message_of(update)
        if w.person is None or not msg.text:
            return False
        offer = await self.talkback.offer(w.address, msg.text)
        if offer is None:
            return False
        if isinstance(offer, Refusal):
            await msg.reply_text(refusal_text(offer, w.t, self.talkback.max_messages, self._minutes))
            return True
        await msg.reply_text(self.question(offer, w.t), reply_markup=self.question_buttons(offer, w.t))
        return True

    async def on_talk_input(self, update: Update, w: Who, session: Session) -> None:
        """More text while the question is open: the question is about the latest text."""
        if not await self.on_free_text(update, w):
            await self.talkback.drop(w.address, str(session.data.get("token", "")))
            await message_of(update).reply_text(w.t._("I did not understand that. /help lists what I can do."))

    def question(self, offer: Offer, t: Translator) -> str:
        if len(offer.alerts) == 1:
            return t._("Send this to the coordinator of alert #{id}?", id=offer.alerts[0].alert_id)
        return t._("Which alert is this about? I will send it to that alert's coordinator.")

    def question_buttons(self, offer: Offer, t: Translator) -> InlineKeyboardMarkup:
        if len(offer.alerts) == 1:
            only = offer.alerts[0]
            return inline(
                [
                    [
                        (t._("✅ Yes, send"), f"talk:send:{only.alert_id}:{offer.token}"),
                        (t._("✖️ No"), f"talk:drop:{offer.token}"),
                    ]
                ]
            )
        rows = [[(f"#{a.alert_id} {short(a.text)}", f"talk:send:{a.alert_id}:{offer.token}")] for a in offer.alerts]
        rows.append([(t._("✖️ Don't send"), f"talk:drop:{offer.token}")])
        return inline(rows)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: TalkButton) -> None:
        if button.action == TalkAction.REPLY:
            await self.on_reply_button(update, button)
            return
        w = await who(self.identity, update)
        assert button.token is not None
        if button.action == TalkAction.DROP:
            if await self.talkback.drop(w.address, button.token):
                await answer_query(update)
                await edit_or_send(update, w.t._("OK, nothing was sent."))
            else:
                await answer_query(update, w.t._("This button is no longer active."))
            return
        assert button.number is not None
        result = await self.talkback.send(w.address, button.number, button.token)
        if isinstance(result, Refusal):
            if result == Refusal.STALE:
                await answer_query(update, w.t._("This button is no longer active."))
                return
            await answer_query(update)
            await edit_or_send(update, refusal_text(result, w.t, self.talkback.max_messages, self._minutes))
            return
        await answer_query(update)
        t = translator(result.language)
        try:
            await context.bot.send_message(
                chat_id=int(result.to.external_id),
                text=incoming_text(result.message, t),
                parse_mode="HTML",
                reply_markup=inline([[(t._("↩️ Reply"), f"talk:reply:{result.message.id}")]]),
            )
        except TelegramError as exc:
            event(log, "talkback_forward_failed", alert=result.message.alert_id, error=type(exc).__name__)
            await edit_or_send(
                update,
                w.t._(
                    "I could not reach the coordinator of alert #{id} just now. "
                    "Your message is saved, and they can read it with /messages.",
                    id=result.message.alert_id,
                ),
            )
            return
        await edit_or_send(
            update,
            w.t._("✓ Sent to the coordinator of alert #{id}:", id=result.message.alert_id)
            + "\n"
            + esc(result.message.text),
        )

    # ----- the coordinator ------------------------------------------------------------------

    async def on_reply_button(self, update: Update, button: TalkButton) -> None:
        w = await coordinator(self.identity, update, COORDINATORS_ONLY)
        if w is None:
            return
        assert button.number is not None
        asked = await self.talkback.start_reply(w.acting, button.number)
        if isinstance(asked, Refusal):
            await answer_query(update, refusal_text(asked, w.t, self.talkback.max_messages, self._minutes), True)
            return
        if asked is None or asked.message.volunteer_name is None:
            await answer_query(update, w.t._("This button is no longer active."))
            return
        await answer_query(update)
        text = w.t._(
            "Type your reply to <b>{name}</b> (alert #{id}), or /cancel.",
            name=esc(asked.message.volunteer_name),
            id=asked.message.alert_id,
        )
        await message_of(update).reply_text(with_kept_note(text, w.t, asked.kept), parse_mode="HTML")

    async def on_reply_input(self, update: Update, w: Who, session: Session) -> None:
        msg = message_of(update)
        if not msg.text:
            await msg.reply_text(w.t._("Please type your reply as text, or /cancel."))
            return
        actor = await self.identity.actor(w.address)
        result = await self.talkback.reply(w.address, actor, user_of(update).full_name, session, msg.text)
        if isinstance(result, Refusal) and actor is None:
            await msg.reply_text(w.t._(COORDINATORS_ONLY))
            return
        if isinstance(result, Refusal):
            await msg.reply_text(refusal_text(result, w.t, self.talkback.max_messages, self._minutes))
            return
        t = translator(result.language)
        name = esc(result.message.volunteer_name or "")
        try:
            await msg.get_bot().send_message(
                chat_id=int(result.to.external_id), text=reply_text(result.message, t), parse_mode="HTML"
            )
        except TelegramError as exc:
            event(log, "talkback_reply_failed", alert=result.message.alert_id, error=type(exc).__name__)
            await msg.reply_text(
                w.t._("The reply could not be delivered to {name}: they may have blocked the bot.", name=name),
                parse_mode="HTML",
            )
            return
        await msg.reply_text(w.t._("✓ Reply sent to {name}.", name=name), parse_mode="HTML")

    async def messages(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await coordinator(self.identity, update, COORDINATORS_ONLY)
        if w is None:
            return
        args = context.args or []
        alert_id = callbacks.parse_id(args[0]) if len(args) == 1 else None
        if alert_id is None:
            await message_of(update).reply_text(w.t._("Usage: /messages ID, e.g. /messages 12"))
            return
        messages = await self.talkback.of_alert(w.acting, alert_id)
        if isinstance(messages, Refusal):
            text = refusal_text(messages, w.t, self.talkback.max_messages, self._minutes)
        else:
            text = listing(alert_id, messages, w.t)
        await message_of(update).reply_text(text, parse_mode="HTML")


def register(app: App, identity: Identity, talkback: Talkback, router: TextRouter) -> None:
    h = TalkbackHandlers(identity, talkback)
    app.add_handler(CommandHandler("messages", h.messages, filters=filters.ChatType.PRIVATE))
    app.add_handler(callbacks.on(TalkButton, h.on_button))
    router.add_flow(Flow.TALK, h.on_talk_input, cancelled=N_("OK, nothing was sent."))
    router.add_flow(Flow.REPLY, h.on_reply_input, cancelled=N_("OK, no reply was sent."))
    router.add_free_text(h.on_free_text)
