"""The Telegram side of the outbox: renders a job in the recipient's language and sends it
with the broadcast bot (its own connection pool, so interactive replies never wait for a
free connection), mapping Telegram's answers to the sender's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from telegram import Bot
from telegram.error import TelegramError

from bot.domain.alerts import Alert
from bot.domain.outbox import Blocked, Failed, Job, Notice, OutboxKind, Result, RetryLater, Sent, Transient
from bot.domain.reachability import Reachability
from bot.i18n import translator
from bot.messenger.alert_render import answer_keyboard_json, esc, recipient_text, sender_line
from bot.messenger.errors import UNREACHABLE, ErrorKind, classify
from bot.messenger.observed import AnswerObserver
from bot.messenger.raw import edit_text, send_text
from bot.messenger.requests import make_request
from bot.settings import Settings


class AlertLookup(Protocol):
    """Where the transport reads the alert a job belongs to (``db.alerts.AlertRepo``)."""

    async def get(self, alert_id: int) -> Alert | None: ...


def broadcast_bot(
    settings: Settings, reachability: Reachability | None = None, observers: Sequence[AnswerObserver] = ()
) -> Bot:
    """The bot the outbox sends with: a pool as large as the sender's largest window."""
    request = make_request(
        settings.telegram,
        settings.broadcast.max_in_flight + 2,
        reachability=reachability,
        read_timeout=15.0,
        write_timeout=15.0,
        connect_timeout=5.0,
        pool_timeout=30.0,
        observers=observers,
    )
    return Bot(
        settings.require_token(),
        base_url=settings.telegram.api_base_url,
        base_file_url=settings.telegram.api_base_file_url,
        request=request,
    )


class TelegramTransport:
    def __init__(self, bot: Bot, alerts: AlertLookup, paid: bool = False) -> None:
        self.bot = bot
        self.alerts = alerts
        self.paid = paid
        self._cache: dict[int, Alert] = {}

    async def _alert(self, alert_id: int, fresh: bool = False) -> Alert | None:
        if fresh or alert_id not in self._cache:
            alert = await self.alerts.get(alert_id)
            if alert is None:
                return None
            self._cache[alert_id] = alert
        return self._cache[alert_id]

    async def deliver(self, job: Job) -> Result:
        try:
            return await self._deliver(job)
        except TelegramError as exc:
            failure = classify(exc)
            if failure.kind == ErrorKind.RETRY_AFTER:
                return RetryLater(failure.retry_after)
            if failure.kind == ErrorKind.BLOCKED:
                return Blocked(failure.reason)
            if failure.kind == ErrorKind.NOT_MODIFIED:
                return Sent(job.message_id)
            if failure.kind in (ErrorKind.CHAT_NOT_FOUND, ErrorKind.BAD_REQUEST):
                return Failed(failure.reason)
            if failure.kind in UNREACHABLE:
                return Transient(failure.reason)
            raise

    async def _deliver(self, job: Job) -> Result:
        chat_id = int(job.address.external_id)
        t = translator(job.language)
        alert = (
            await self._alert(job.alert_id, fresh=job.kind in (OutboxKind.EDIT_CLOSED, OutboxKind.EDIT_ANSWER))
            if job.alert_id
            else None
        )
        if job.alert_id is not None and alert is None:
            return Failed("alert no longer exists")
        extra: dict[str, Any] = {"allow_paid_broadcast": True} if self.paid else {}
        if job.kind in (OutboxKind.ALERT, OutboxKind.REMINDER):
            assert alert is not None
            text = recipient_text(alert, t, job.timezone, reminder=job.kind == OutboxKind.REMINDER)
            # sent raw: PTB would parse the answer into a Message nobody reads (bot/messenger/raw.py)
            return Sent(await send_text(self.bot, chat_id, text, answer_keyboard_json(alert.id, t), paid=self.paid))
        if job.kind in (
            OutboxKind.EDIT_CLOSED,
            OutboxKind.EDIT_ANSWER,
        ):  # closed, or the answer changed without a tap (promoted)
            assert alert is not None
            if job.message_id is None:
                return Failed("no message to edit")
            closed = job.kind == OutboxKind.EDIT_CLOSED
            if not closed and not alert.open:
                return Sent(job.message_id)  # closing edits it
            text = recipient_text(
                alert, t, job.timezone, response=job.params.get("response"), eta=job.params.get("eta"), closed=closed
            )
            await edit_text(
                self.bot, chat_id, job.message_id, text, None if closed else answer_keyboard_json(alert.id, t)
            )
            return Sent(job.message_id)
        if job.kind == OutboxKind.FOLLOWUP and "latitude" in job.params:
            msg = await self.bot.send_location(
                chat_id, latitude=job.params["latitude"], longitude=job.params["longitude"], **extra
            )
            return Sent(msg.message_id)
        return Sent(await send_text(self.bot, chat_id, self.notice_text(job, alert), paid=self.paid))

    def notice_text(self, job: Job, alert: Alert | None) -> str:
        t = translator(job.language)
        ref = f"#{alert.id}" if alert else ""
        drill = (t._("🧪 EXERCISE, not a real emergency") + "\n") if alert and alert.draft.drill else ""
        if job.kind == OutboxKind.FOLLOWUP and alert is not None:
            return (
                drill
                + t._("📨 Update on call {ref}", ref=ref)
                + "\n"
                + sender_line(alert.author_name, alert.organisation, t)
                + "\n\n"
                + esc(str(job.params.get("text", "")))
            )
        if job.kind == OutboxKind.CLOSED:
            return drill + t._("🏁 Call {ref} is over. Thank you for your help!", ref=ref)
        if job.kind == OutboxKind.STANDBY_RELEASED:
            return drill + t._("🏁 Call {ref} is over: enough people came. Thank you for being ready!", ref=ref)
        if job.kind == OutboxKind.PROMOTED:
            return drill + t._(
                "✅ A place opened up in call {ref}: you are now confirmed. Details will follow here.", ref=ref
            )
        if job.kind == OutboxKind.NOTICE and job.params.get("notice") == Notice.COORDINATOR_REVOKED:
            return t._(
                "🚫 You no longer coordinate for {organisation}: coordinators' commands are closed to you now. "
                "If this is a mistake, please ask its admin.",
                organisation=esc(str(job.params.get("organisation", ""))),
            )
        return esc(str(job.params))
