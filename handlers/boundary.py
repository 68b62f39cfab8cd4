"""What every update passes first. Group -2: the throttle for newcomers and floods
(``bot.application.throttle``): an update it holds or coalesces goes no further (one log line;
a held one comes back through the update queue when the person's window opens, and a tap that
is dropped is still answered, silently). Group -1, before any other handler: edited
messages are never executed, and a button's data must parse into a typed command
(``handlers.callbacks``) and come from a private chat; otherwise the tap is answered, logged
once, and nothing else happens. Last (after every other handler), a tap no handler took is
still answered, so no spinner keeps turning."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.application.identity import Identity
from bot.application.throttle import Throttle, Verdict
from bot.domain.people import Address
from bot.i18n import N_
from bot.logs import event
from bot.messenger.ratelimit import URGENT
from handlers.base import App, answer_query, who
from handlers.callbacks import AnswerButton, parse

log = logging.getLogger(__name__)

THROTTLE = -2  # the handler group that runs before all others
FIRST = -1  # then this one, before every handler of the bot

NOT_VALID = N_("That button is no longer valid.")
WRITE_PRIVATELY = N_("Please write to me privately: registration and alerts happen in a private chat.")


def is_answer(data: str | None) -> bool:
    """A tap on an alert's answer button."""
    return data is not None and isinstance(parse(data), AnswerButton)


def urgent_update(identity: Identity, update: object) -> bool:
    """An update that must not wait behind a surge: a tap on an alert's answer button, or
    anything from a coordinator (``PerChatOrderedProcessor`` gives them slots of their own;
    whether the tapper is registered is checked later, by the throttle)."""
    if not isinstance(update, Update) or update.effective_user is None:
        return False
    if identity.is_coordinator(Address.telegram(update.effective_user.id)):
        return True
    query = update.callback_query
    return query is not None and isinstance(query.data, str) and is_answer(query.data)


class Gate:
    """The throttle at the door: asks ``Throttle`` about every update from a person, and keeps
    the updates it holds until their window opens (then puts them back in ``app``'s queue)."""

    def __init__(self, app: App, identity: Identity, throttle: Throttle) -> None:
        self.app = app
        self.identity = identity
        self.throttle = throttle
        self._held: dict[int, Update] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None or update.edited_message is not None:
            return
        if not self.throttle.enabled:
            URGENT.set(urgent_update(self.identity, update))
            return
        w = await who(self.identity, update)
        registered = w.person is not None and w.person.active
        query = update.callback_query
        data = query.data if query is not None and isinstance(query.data, str) else None
        answering = registered and is_answer(data)
        exempt = answering or self.identity.is_coordinator(w.address)
        URGENT.set(exempt)  # their replies go before the others' (bot.domain.budget)
        message = update.message
        content = data if data is not None else (message.text or message.caption or "") if message else ""
        arrival = self.throttle.arrive(
            w.address, update.update_id, content, registered=registered, exempt=exempt, tap=query is not None
        )
        if arrival.verdict is Verdict.ANSWER:
            return
        if arrival.superseded is not None:
            superseded = self._held.pop(arrival.superseded, None)
            if superseded is not None:
                self._answer_silently(superseded)
        event(
            log,
            "update_throttled",
            update=update.update_id,
            user=user.id,
            verdict=arrival.verdict.value,
            registered=registered,
            superseded=arrival.superseded,
        )
        if arrival.verdict is Verdict.HOLD:
            self._held[update.update_id] = update
            asyncio.get_running_loop().call_later(arrival.opens_in, self._release)
        else:
            self._answer_silently(update)
        raise ApplicationHandlerStop

    def _release(self) -> None:
        for ticket in self.throttle.due():
            update = self._held.pop(ticket, None)
            if update is not None:
                self.app.update_queue.put_nowait(update)

    def _answer_silently(self, update: Update) -> None:
        """A dropped tap still stops its spinner."""
        if update.callback_query is not None:
            task = asyncio.create_task(answer_query(update))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)


class Boundary:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An edited message is never run again (an edit to "/forget" erases nothing)."""
        raise ApplicationHandlerStop

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            w = await who(self.identity, update)
            event(log, "callback_outside_private_chat", user=w.address.external_id, chat=chat.id if chat else None)
            await answer_query(update, w.t._(WRITE_PRIVATELY), alert=True)
            raise ApplicationHandlerStop
        if parse(query.data) is None:
            w = await who(self.identity, update)
            data = query.data if isinstance(query.data, str) else ""
            event(log, "callback_invalid", user=w.address.external_id, prefix=data.split(":")[0][:16], length=len(data))
            await answer_query(update, w.t._(NOT_VALID))
            raise ApplicationHandlerStop

    async def on_unclaimed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A valid command no handler took (a heading, a page counter): stop the spinner."""
        await answer_query(update)


def register_first(app: App, identity: Identity, throttle: Throttle) -> Boundary:
    gate = Gate(app, identity, throttle)
    app.add_handler(TypeHandler(Update, gate.on_update), group=THROTTLE)
    boundary = Boundary(identity)
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, boundary.on_edited), group=FIRST)
    app.add_handler(CallbackQueryHandler(boundary.on_callback), group=FIRST)
    return boundary


def register_last(app: Application, boundary: Boundary) -> None:
    app.add_handler(CallbackQueryHandler(boundary.on_unclaimed))
