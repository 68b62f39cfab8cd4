"""The application's ``TrackingMessenger`` on Telegram: the coordinator's tracking message
and the respond-by notice, sent with the interactive bot."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot
from telegram.error import TelegramError

from bot.application.tracking import MessageFailed
from bot.domain.alerts import Alert, RosterChange, RosterEntry, Tally
from bot.domain.places.timezones import LATVIA_TZ
from bot.i18n import translator
from bot.messenger.alert_render import deadline_text, roster_change_text, tracking_keyboard, tracking_text
from bot.messenger.errors import UNREACHABLE, classify, is_not_modified

TIME_ZONE = LATVIA_TZ  # coordinators read times in Riga time


class TelegramTrackingMessenger:
    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send_tracking(
        self,
        chat: str,
        alert: Alert,
        tally: Tally,
        language: str,
        roster: Sequence[RosterEntry] = (),
        held_up_since: float | None = None,
    ) -> int:
        t = translator(language)
        try:
            msg = await self._bot.send_message(
                int(chat),
                tracking_text(alert, tally, t, TIME_ZONE, roster=roster, held_up_since=held_up_since),
                parse_mode="HTML",
                reply_markup=tracking_keyboard(alert, t),
            )
        except TelegramError as exc:
            if classify(exc).kind in UNREACHABLE:  # 5xx, no connection, timeout: shown later
                raise MessageFailed(exc.message) from exc
            raise
        return msg.message_id

    async def edit_tracking(
        self,
        chat: str,
        message_id: int,
        alert: Alert,
        tally: Tally,
        language: str,
        roster: Sequence[RosterEntry] = (),
        held_up_since: float | None = None,
    ) -> None:
        t = translator(language)
        try:
            await self._bot.edit_message_text(
                tracking_text(alert, tally, t, TIME_ZONE, roster=roster, held_up_since=held_up_since),
                chat_id=int(chat),
                message_id=message_id,
                parse_mode="HTML",
                reply_markup=tracking_keyboard(alert, t),
            )
        except TelegramError as exc:
            if not is_not_modified(exc):
                raise MessageFailed(exc.message) from exc

    async def notify_deadline(self, alert: Alert, tally: Tally) -> None:
        t = translator(alert.author_language)
        await self._bot.send_message(int(alert.author_external_id), deadline_text(alert, tally, t))

    async def notify_roster_change(self, chat: str, alert: Alert, change: RosterChange, language: str) -> None:
        try:
            await self._bot.send_message(
                int(chat), roster_change_text(alert, change, translator(language)), parse_mode="HTML"
            )
        except TelegramError as exc:
            raise MessageFailed(exc.message) from exc
