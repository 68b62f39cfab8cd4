"""Talk-back: a volunteer who received an open alert writes free text; they are asked whether
to send it to the alert's coordinator, and only their Yes sends it. The coordinator answers with
Reply, and the answer reaches the volunteer. Messages are stored (``/messages ID`` lists an
alert's), limited per person, and erased with the person (/forget)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from bot.application.authorisation import AlertAccess, AlertRefusal
from bot.application.conversation import finish, interrupt
from bot.application.stores import PeopleStore, SessionStore
from bot.domain.coalition import Actor
from bot.domain.people import Address
from bot.domain.sessions import Flow, Session
from bot.domain.talkback import Direction, ReceivedAlert, TalkMessage, clean_text
from bot.logs import event

log = logging.getLogger(__name__)

CHOICES = 3  # with several open alerts, the latest this many are offered
CONFIRM = "confirm"  # the step of Flow.TALK: the question "Send this…?" is open
REPLY_TEXT = "text"  # the step of Flow.REPLY: the coordinator types the reply
TOKEN = re.compile(r"[0-9a-f]{8}")  # binds the question's buttons to the text they send


class MessageStore(Protocol):
    """``db.messages.MessageRepo``."""

    async def open_alerts_received(self, address: Address, limit: int) -> list[ReceivedAlert]: ...
    async def add(
        self,
        alert_id: int,
        direction: Direction,
        volunteer: Address,
        coordinator: Address,
        coordinator_name: str,
        text: str,
    ) -> TalkMessage: ...
    async def get(self, message_id: int) -> TalkMessage | None: ...
    async def of_alert(self, alert_id: int) -> list[TalkMessage]: ...
    async def of_person(self, address: Address) -> list[TalkMessage]: ...
    async def sent_since(self, address: Address, since: datetime) -> int: ...
    async def forget(self, address: Address) -> int: ...


class Refusal(StrEnum):
    TOO_LONG = "too_long"  # empty, or longer than a message may be
    TOO_MANY = "too_many"  # the per-person limit is reached
    STALE = "stale"  # the question's buttons are not the current question's
    CLOSED = "closed"  # the alert is no longer open (or the person no longer its recipient)
    GONE = "gone"  # the message replied to is gone (its sender left)
    NOT_YOURS = "not_yours"  # a message of an alert the coordinator may not act on (another organisation's)


@dataclass(frozen=True)
class Offer:
    """The question to ask: send ``text`` to the coordinator of one of ``alerts`` (latest first)?"""

    token: str
    text: str
    alerts: list[ReceivedAlert]


@dataclass(frozen=True)
class ReplyAsked:
    """Reply was tapped under ``message``: the coordinator's next text is the reply; ``kept``:
    what they were doing (a draft being composed) waits for them until the reply is sent."""

    message: TalkMessage
    kept: bool = False


@dataclass(frozen=True)
class Delivered:
    """A stored message and the chat it is to be shown in, in that reader's language."""

    message: TalkMessage
    to: Address
    language: str


class Talkback:
    def __init__(
        self,
        messages: MessageStore,
        sessions: SessionStore,
        people: PeopleStore,
        access: AlertAccess,
        *,
        max_messages: int,
        window: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._messages = messages
        self._sessions = sessions
        self._people = people
        self._access = access
        self.max_messages = max_messages
        self.window = window
        self._clock = clock

    # ----- the volunteer --------------------------------------------------------------------

    async def offer(self, address: Address, text: str) -> Offer | Refusal | None:
        """Free text from ``address``, outside any flow: the question to ask (remembered until
        answered), a refusal, or None when the person has no open alert to write about."""
        alerts = await self._messages.open_alerts_received(address, CHOICES)
        if not alerts:
            return None
        cleaned = clean_text(text)
        if cleaned is None:
            return Refusal.TOO_LONG
        if await self._over_limit(address):
            event(log, "talkback_limited", user=address.external_id)
            return Refusal.TOO_MANY
        token = secrets.token_hex(4)
        data = {"token": token, "text": cleaned, "alerts": [a.alert_id for a in alerts]}
        await self._sessions.set(address, Session(Flow.TALK, CONFIRM, data))
        event(log, "talkback_offered", user=address.external_id, alerts=len(alerts), chars=len(cleaned))
        return Offer(token, cleaned, alerts)

    async def send(self, address: Address, alert_id: int, token: str) -> Delivered | Refusal:
        """Yes: the text asked about goes to the coordinator of ``alert_id``."""
        session = await self._sessions.get(address)
        if (
            session is None
            or session.flow != Flow.TALK
            or session.data.get("token") != token
            or alert_id not in session.data.get("alerts", [])
        ):
            return Refusal.STALE
        received = next(
            (a for a in await self._messages.open_alerts_received(address, CHOICES) if a.alert_id == alert_id), None
        )
        if received is None:
            await self._sessions.clear(address)
            return Refusal.CLOSED
        if await self._over_limit(address):
            await self._sessions.clear(address)
            event(log, "talkback_limited", user=address.external_id)
            return Refusal.TOO_MANY
        await self._sessions.clear(address)
        message = await self._messages.add(
            alert_id,
            Direction.IN,
            address,
            received.coordinator,
            received.coordinator_name,
            str(session.data["text"]),
        )
        event(log, "talkback_sent", user=address.external_id, alert=alert_id, message=message.id)
        return Delivered(message, received.coordinator, received.coordinator_language)

    async def drop(self, address: Address, token: str) -> bool:
        """No: nothing is sent; False when the question was not the current one."""
        session = await self._sessions.get(address)
        if session is None or session.flow != Flow.TALK or session.data.get("token") != token:
            return False
        await self._sessions.clear(address)
        return True

    async def _over_limit(self, address: Address) -> bool:
        return await self._messages.sent_since(address, self._clock() - self.window) >= self.max_messages

    # ----- the coordinator ------------------------------------------------------------------

    async def _may_act(self, actor: Actor, alert_id: int) -> bool:
        """A coordinator sees and answers only the messages of alerts they may act on."""
        return not isinstance(await self._access.alert_for(actor, alert_id), AlertRefusal)

    async def start_reply(self, actor: Actor, message_id: int) -> ReplyAsked | Refusal | None:
        """Reply was tapped under ``message_id``: the coordinator's next text is the reply
        (None: no such message to reply to; NOT_YOURS: another organisation's alert's)."""
        message = await self._messages.get(message_id)
        if message is None or message.direction != Direction.IN:
            return None
        if not await self._may_act(actor, message.alert_id):
            return Refusal.NOT_YOURS
        asking = Session(Flow.REPLY, REPLY_TEXT, {"message": message_id})
        return ReplyAsked(message, kept=await interrupt(self._sessions, actor.address, asking))

    async def reply(
        self, coordinator: Address, actor: Actor | None, name: str, session: Session, text: str
    ) -> Delivered | Refusal:
        """The reply of the coordinator at ``coordinator`` (typed in Flow.REPLY) to the message
        they tapped Reply under; ``actor``: as whom they act now (None: not a coordinator any
        more), checked again, so nothing goes out for an alert they may no longer act on."""
        if actor is None:
            await self._sessions.clear(coordinator)
            return Refusal.NOT_YOURS
        cleaned = clean_text(text)
        if cleaned is None:
            return Refusal.TOO_LONG
        await finish(self._sessions, coordinator)
        original = await self._messages.get(int(session.data.get("message", 0)))
        if original is not None and not await self._may_act(actor, original.alert_id):
            return Refusal.NOT_YOURS
        person = await self._people.get(original.volunteer) if original is not None else None
        if original is None or person is None:
            return Refusal.GONE
        message = await self._messages.add(
            original.alert_id, Direction.OUT, original.volunteer, coordinator, name, cleaned
        )
        event(log, "talkback_replied", alert=original.alert_id, message=message.id, to=original.volunteer.external_id)
        return Delivered(message, original.volunteer, person.language)

    async def of_alert(self, actor: Actor, alert_id: int) -> list[TalkMessage] | Refusal:
        """/messages: an alert's messages, for a coordinator who may act on it (none for an
        alert that does not exist)."""
        found = await self._access.alert_for(actor, alert_id)
        if found == AlertRefusal.NOT_YOURS:
            return Refusal.NOT_YOURS
        return await self._messages.of_alert(alert_id)

    # ----- the person's data ----------------------------------------------------------------

    async def of_person(self, address: Address) -> list[TalkMessage]:
        return await self._messages.of_person(address)

    async def forget(self, address: Address) -> int:
        return await self._messages.forget(address)
