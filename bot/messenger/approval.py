"""How two-person approval looks, and the application's ``ApprovalMessenger`` on Telegram: the
request shown to those who may decide (the preview as recipients will see it, then the
request itself with Approve first and Reject last), its edits once decided, and what the
author is told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.application.tracking import MessageFailed
from bot.domain.alerts import Audience
from bot.domain.approval import Approval, ApprovalMessage, ApprovalStatus
from bot.domain.people import LATVIA_TZ
from bot.i18n import Translator, translator
from bot.messenger.alert_render import SEVERITY_LABELS, preview_texts
from bot.messenger.errors import is_not_modified
from bot.messenger.keyboards import inline
from bot.messenger.render import esc

TIME_ZONE = LATVIA_TZ  # coordinators read times in Riga time
SNIPPET = 60  # characters of the alert's first line in a decided request and in /pending


def approval_data(action: str, approval_id: int) -> str:
    """The callback data of a request's buttons (``handlers.callbacks.ApprovalButton``)."""
    return f"apv:{action}:{approval_id}"


def when(moment: datetime, t: Translator, now: datetime | None = None) -> str:
    """A time in Riga time; with the date when it is not within the next hours."""
    ahead = moment - (now or datetime.now(UTC))
    return t.time(moment, TIME_ZONE) if abs(ahead) < timedelta(hours=12) else t.datetime(moment, TIME_ZONE)


def snippet(approval: Approval, t: Translator) -> str:
    text = approval.draft.text_for(t.lang).strip()
    first = text.splitlines()[0] if text else ""
    return esc(first[:SNIPPET] + ("…" if len(first) > SNIPPET else ""))


def author_of(approval: Approval) -> str:
    name = esc(approval.author_name)
    return f"{name} ({esc(approval.sender)})" if approval.sender else name


def summary_line(approval: Approval, t: Translator) -> str:
    """One line: the request, its level, its author and how many it reaches."""
    icon, _ = SEVERITY_LABELS[approval.draft.severity]
    drill = " 🧪" if approval.draft.drill else ""
    people = t.n_("{n} person", "{n} people", approval.audience)
    return f"#{approval.id} {icon}{drill} {author_of(approval)} · 👥 {people}"


def request_text(approval: Approval, t: Translator) -> str:
    lines = [
        t._("🗳 <b>Approval needed</b> · request #{id}", id=approval.id),
        t.n_(
            "{author} wants to send the alert above to {n} person.",
            "{author} wants to send the alert above to {n} people.",
            approval.audience,
            author=author_of(approval),
        ),
        t._("The first approval sends it at once. Nothing is sent before."),
        t._("⏳ Expires at {time} if nobody decides.", time=when(approval.expires_at, t)),
    ]
    return "\n".join(lines)


def request_keyboard(approval: Approval, t: Translator) -> InlineKeyboardMarkup:
    """Approve first, Reject last."""
    return inline(
        [[(t._("✅ Approve"), approval_data("yes", approval.id)), (t._("✖️ Reject"), approval_data("no", approval.id))]]
    )


def reason_line(approval: Approval, t: Translator) -> str:
    """A rejection's reason as typed (escaped) on a line of its own; "" when none was given."""
    return "\n" + t._("Reason: {reason}", reason=esc(approval.reason)) if approval.reason else ""


def decision_line(approval: Approval, t: Translator) -> str:
    at = when(approval.decided_at, t) if approval.decided_at else "—"
    by = esc(approval.decided_by_name or "?")
    if approval.status == ApprovalStatus.APPROVED:
        if approval.alert_id is None:
            return t._("✅ Approved by {name} at {time}.", name=by, time=at)
        return t._(
            "✅ Approved by {name} at {time}: sent as alert #{alert}.", name=by, time=at, alert=approval.alert_id
        )
    if approval.status == ApprovalStatus.REJECTED:
        return t._("✖️ Rejected by {name} at {time}. Nothing was sent.", name=by, time=at) + reason_line(approval, t)
    if approval.status == ApprovalStatus.EXPIRED:
        return t._("⌛ Expired at {time}: nobody decided. Nothing was sent.", time=at)
    return t._("⏳ Waiting for approval.")


def decided_text(approval: Approval, t: Translator) -> str:
    """A request message once decided (or expired): what it was, and who decided."""
    return "\n".join(
        [
            t._("🗳 <b>Approval request</b> {summary}", summary=summary_line(approval, t)),
            snippet(approval, t),
            "",
            decision_line(approval, t),
        ]
    )


def author_text(approval: Approval, recipients: int | None, t: Translator) -> str:
    """What the author hears of the decision."""
    by = esc(approval.decided_by_name or "?")
    if approval.status == ApprovalStatus.APPROVED:
        return t.n_(
            "✅ {name} approved your alert (request #{id}): alert #{alert} is on its way to {n} person.",
            "✅ {name} approved your alert (request #{id}): alert #{alert} is on its way to {n} people.",
            recipients or 0,
            name=by,
            id=approval.id,
            alert=approval.alert_id,
        )
    if approval.status == ApprovalStatus.REJECTED:
        text = t._("✖️ {name} rejected your alert (request #{id}). Nothing was sent.", name=by, id=approval.id)
        return text + reason_line(approval, t)
    return t._(
        "⌛ Nobody approved your alert in time (request #{id}), so it expired. Nothing was sent. "
        "Send /alert to start again.",
        id=approval.id,
    )


class TelegramApprovalMessenger:
    def __init__(self, bot: Bot, rate: float) -> None:
        """``rate``: the broadcast's messages per second, for the preview's delivery time."""
        self._bot = bot
        self._rate = rate

    async def send_request(self, chat: str, approval: Approval, audience: Audience, language: str) -> int:
        t = translator(language)
        previews = preview_texts(
            approval.draft, audience, approval.author_name, approval.sender, t, TIME_ZONE, self._rate
        )
        try:
            for text in previews:
                await self._bot.send_message(int(chat), text, parse_mode="HTML")
            msg = await self._bot.send_message(
                int(chat), request_text(approval, t), parse_mode="HTML", reply_markup=request_keyboard(approval, t)
            )
        except TelegramError as exc:  # blocked, never started, unreachable: the others still get it
            raise MessageFailed(exc.message) from exc
        return msg.message_id

    async def show_decision(self, message: ApprovalMessage, approval: Approval) -> None:
        t = translator(message.language)
        try:
            await self._bot.edit_message_text(
                decided_text(approval, t),
                chat_id=int(message.chat),
                message_id=message.message_id,
                parse_mode="HTML",
                reply_markup=None,
            )
        except TelegramError as exc:
            if not is_not_modified(exc):
                raise MessageFailed(exc.message) from exc

    async def tell_author(self, approval: Approval, recipients: int | None) -> None:
        t = translator(approval.author_language)
        try:
            await self._bot.send_message(
                int(approval.author.external_id), author_text(approval, recipients, t), parse_mode="HTML"
            )
        except TelegramError as exc:
            raise MessageFailed(exc.message) from exc
