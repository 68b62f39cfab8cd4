"""Two-person approval in the chat: a request's Approve and Reject (with an optional reason,
typed or "No reason"), and ``/pending``, the requests waiting for the person. The rules are
``bot.application.approval``'s; this module reads the update, calls one use case and renders
what it returns."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.approval import Approvals, Decided, Refusal, Refused
from bot.application.identity import Identity
from bot.domain.approval import REASON_LIMIT, Approval, ApprovalStatus
from bot.domain.sessions import Flow, Session
from bot.i18n import N_, Translator
from bot.messenger.approval import approval_data, snippet, summary_line, when
from bot.messenger.keyboards import inline
from handlers import callbacks
from handlers.base import App, Who, answer_query, chat_of, coordinator, edit_or_send, message_of, user_of
from handlers.callbacks import ApprovalAction, ApprovalButton
from handlers.router import TextRouter, with_kept_note

COORDINATORS_ONLY = N_("Sorry, this is for coordinators only.")
PENDING_SHOWN = 20  # /pending lists at most this many (the oldest first)


def refusal_text(refused: Refused, t: Translator) -> str:
    r, approval = refused.refusal, refused.approval
    if r == Refusal.OWN:
        return t._("You cannot approve or reject your own alert: someone else has to.")
    if r == Refusal.NOT_YOURS:
        return t._("This request is not yours to decide.")
    if r == Refusal.EXPIRED:
        return t._("This request has expired: nothing was sent.")
    if r == Refusal.AUTHOR_GONE:
        return t._("Its author is no longer a coordinator, so this alert cannot be sent.")
    if r == Refusal.DECIDED and approval is not None:
        name = approval.decided_by_name or "?"
        if approval.status == ApprovalStatus.APPROVED:
            return t._("Already decided: {name} approved it.", name=name)
        return t._("Already decided: {name} rejected it.", name=name)
    return t._("There is no such request.")


def pending_text(approvals: list[Approval], t: Translator) -> str:
    if not approvals:
        return t._("No alerts are waiting for your approval.")
    lines = [
        t.n_(
            "<b>{n} alert is waiting for approval</b>",
            "<b>{n} alerts are waiting for approval</b>",
            len(approvals),
        )
    ]
    for a in approvals[:PENDING_SHOWN]:
        lines.append(summary_line(a, t) + " — " + t._("expires at {time}", time=when(a.expires_at, t)))
        lines.append("   " + snippet(a, t))
    if len(approvals) > PENDING_SHOWN:
        lines.append(t._("+{n} more", n=len(approvals) - PENDING_SHOWN))
    lines.append(t._("Open one to see it in full and decide."))
    return "\n".join(lines)


class ApprovalHandlers:
    def __init__(self, identity: Identity, approvals: Approvals) -> None:
        self.identity = identity
        self.approvals = approvals

    async def _coordinator(self, update: Update) -> Who | None:
        return await coordinator(self.identity, update, COORDINATORS_ONLY)

    async def pending(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        waiting = await self.approvals.pending_for(w.acting)
        rows = [
            [(w.t._("🔎 Open request #{id}", id=a.id), approval_data(ApprovalAction.OPEN, a.id))]
            for a in waiting[:PENDING_SHOWN]
        ]
        await message_of(update).reply_text(
            pending_text(waiting, w.t), parse_mode="HTML", reply_markup=inline(rows) if rows else None
        )

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: ApprovalButton) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        t, approval_id = w.t, button.approval_id
        name = user_of(update).full_name
        if button.action == ApprovalAction.APPROVE:
            result = await self.approvals.approve(approval_id, w.acting, w.person, name)
            if isinstance(result, Refused):
                await answer_query(update, refusal_text(result, t), alert=True)
                return
            assert result.approval.alert_id is not None
            await answer_query(update, t._("✅ Approved: alert #{id} is on its way.", id=result.approval.alert_id))
        elif button.action == ApprovalAction.REJECT:
            asked = await self.approvals.start_rejecting(approval_id, w.acting)
            if isinstance(asked, Refused):
                await answer_query(update, refusal_text(asked, t), alert=True)
                return
            await answer_query(update)
            question = t._(
                "Why do you reject request #{id}? Type the reason (its author reads it), or tap “No reason”. "
                "/cancel keeps the request waiting.",
                id=approval_id,
            )
            await chat_of(update).send_message(
                with_kept_note(question, t, asked.kept),
                reply_markup=inline([[(t._("No reason"), approval_data(ApprovalAction.NO_REASON, approval_id))]]),
            )
        elif button.action == ApprovalAction.NO_REASON:
            result = await self.approvals.reject(approval_id, w.acting, w.person, name)
            await self.after_rejecting(update, w, result)
        else:  # OPEN
            shown = await self.approvals.show_again(approval_id, w.acting, w.lang)
            if isinstance(shown, Refused):
                await answer_query(update, refusal_text(shown, t), alert=True)
                return
            await answer_query(update)

    async def on_reason(self, update: Update, w: Who, session: Session) -> None:
        """The reason typed after Reject."""
        text = message_of(update).text or ""
        w.actor = await self.identity.actor(w.address)
        if w.actor is None:  # no longer a coordinator
            await self.approvals.stop_rejecting(w.address)
            await message_of(update).reply_text(w.t._(COORDINATORS_ONLY))
            return
        if not text.strip():
            await message_of(update).reply_text(w.t._("Please type the reason, or tap “No reason”."))
            return
        if len(text) > REASON_LIMIT:
            await message_of(update).reply_text(w.t._("Please keep the reason under {n} characters.", n=REASON_LIMIT))
            return
        approval_id = self.approvals.rejecting(session)
        result = await self.approvals.reject(approval_id, w.acting, w.person, user_of(update).full_name, text)
        await self.after_rejecting(update, w, result)

    async def after_rejecting(self, update: Update, w: Who, result: Decided | Refused) -> None:
        t = w.t
        if isinstance(result, Refused):
            text = refusal_text(result, t)
            if update.callback_query is not None:
                await answer_query(update, text, alert=True)
            else:
                await message_of(update).reply_text(text)
            return
        await answer_query(update)
        done = t._("✖️ Request #{id} rejected. Its author is told; nothing was sent.", id=result.approval.id)
        if update.callback_query is not None:
            await edit_or_send(update, done)  # the question about the reason, answered
        else:
            await message_of(update).reply_text(done)


def register(app: App, identity: Identity, approvals: Approvals, router: TextRouter) -> None:
    h = ApprovalHandlers(identity, approvals)
    app.add_handler(CommandHandler("pending", h.pending, filters=filters.ChatType.PRIVATE))
    app.add_handler(callbacks.on(ApprovalButton, h.on_button))
    router.add_flow(Flow.REJECT, h.on_reason, cancelled=N_("Nothing was rejected: the request is still waiting."))
