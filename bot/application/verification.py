"""Verifiable alerts (issue 11): anyone who has started the bot checks an alert by its code
(``/verify CODE``, ``/verify_CODE``) or by forwarding it. A code is genuine when an alert of
ours has it; a forwarded message is genuine only when Telegram says it came from this bot
(then it is matched to its alert by the code in its text). Guessing codes is limited per
person (``bot.domain.verification.GUESS_LIMIT``): the count is kept here, in memory, as a
restart may well forget it."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.domain.alerts import Alert
from bot.domain.people import Address
from bot.domain.verification import GUESS_LIMIT, GuessLimit, code_in_text, read_code
from bot.logs import event

log = logging.getLogger(__name__)

TRACKED = 10_000  # people whose guesses are kept; beyond that, those with none in the window are dropped


class AlertsByCode(Protocol):
    """``db.alerts.AlertRepo``."""

    async def by_verify_code(self, code: str) -> Alert | None: ...


class Finding(StrEnum):
    GENUINE = "genuine"  # an alert of ours has the code (``alert`` is it)
    NOT_OURS = "not_ours"  # no alert has the code, or what was typed is no code at all
    TRY_LATER = "try_later"  # too many codes that were not ours lately: nothing was looked up
    NOT_FROM_US = "not_from_us"  # forwarded from someone other than this bot
    OUR_MESSAGE = "our_message"  # forwarded from this bot, but it carries no code of an alert


@dataclass(frozen=True)
class Check:
    finding: Finding
    code: str | None = None  # the code read (None: none was found, or what was typed is no code)
    alert: Alert | None = None
    retry_in: float = 0.0  # TRY_LATER: seconds until another code may be tried


class Verification:
    def __init__(
        self, alerts: AlertsByCode, limit: GuessLimit = GUESS_LIMIT, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._alerts = alerts
        self._limit = limit
        self._clock = clock
        self._misses: dict[Address, deque[float]] = {}  # when each person's codes that were not ours came

    async def check_code(self, person: Address, typed: str) -> Check:
        """``/verify CODE`` or ``/verify_CODE``, in any case."""
        now = self._clock()
        misses = self._recent_misses(person, now)
        if not self._limit.allows(len(misses)):
            retry_in = misses[0] + self._limit.window_seconds - now
            event(log, "verify_throttled", user=person.external_id, misses=len(misses))
            return Check(Finding.TRY_LATER, retry_in=max(retry_in, 1.0))
        code = read_code(typed)
        alert = await self._alerts.by_verify_code(code) if code is not None else None
        if alert is None:
            misses.append(now)
            self._misses[person] = misses
            self._forget_idle(now)
            event(log, "verify_not_ours", user=person.external_id, well_formed=code is not None, misses=len(misses))
            return Check(Finding.NOT_OURS, code)
        event(log, "verify_genuine", user=person.external_id, alert=alert.id)
        return Check(Finding.GENUINE, code, alert)

    async def check_forwarded(self, person: Address, *, from_this_bot: bool, text: str) -> Check:
        """A message forwarded to the bot: ``from_this_bot`` is what Telegram says of its origin
        (which no one can forge), ``text`` its text or caption. Not limited: it guesses nothing."""
        code = code_in_text(text)
        if not from_this_bot:
            event(log, "verify_forward_not_from_us", user=person.external_id, has_code=code is not None)
            return Check(Finding.NOT_FROM_US, code)
        alert = await self._alerts.by_verify_code(code) if code is not None else None
        if alert is None:
            event(log, "verify_forward_ours", user=person.external_id, has_code=code is not None)
            return Check(Finding.OUR_MESSAGE, code)
        event(log, "verify_forward_genuine", user=person.external_id, alert=alert.id)
        return Check(Finding.GENUINE, code, alert)

    def _recent_misses(self, person: Address, now: float) -> deque[float]:
        misses = self._misses.get(person, deque())
        while misses and misses[0] <= now - self._limit.window_seconds:
            misses.popleft()
        if not misses:
            self._misses.pop(person, None)
        return misses

    def _forget_idle(self, now: float) -> None:
        """Keeps the memory bounded: beyond ``TRACKED`` people, those with no recent miss go."""
        if len(self._misses) <= TRACKED:
            return
        for person in list(self._misses):
            self._recent_misses(person, now)
