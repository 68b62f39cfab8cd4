"""The text router through its interface: a small PTB application with only the router and
a flow registered on it, against the Bot API sandbox and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes

from bot.application.authorisation import Authorisation
from bot.application.conversation import Conversations
from bot.application.identity import Identity
from bot.domain.people import Address
from bot.domain.sessions import Flow, Session
from bot.i18n import N_
from bot.sandbox.server import BotApiSandbox
from db.database import Database
from db.migrate import migrate
from db.organisations import CoordinatorRepo
from db.people import PeopleRepo
from db.sessions import SessionRepo
from handlers.base import App, Who, address_of, message_of
from handlers.router import TextRouter
from tests.conftest import COORDINATOR_ID, TOKEN

USER_ID = 4_400_001


@dataclass
class RouterBot:
    sessions: SessionRepo
    received: list[tuple[Flow, str, str]] = field(default_factory=list)  # (flow, step, text)
    cancel_asked: list[Address] = field(default_factory=list)


@pytest.fixture
async def router_bot(sandbox: BotApiSandbox, db_path) -> AsyncIterator[RouterBot]:
    db = await Database(db_path).open()
    await migrate(db)
    sessions = SessionRepo(db)
    state = RouterBot(sessions)
    router = TextRouter(
        Identity(PeopleRepo(db), Authorisation([COORDINATOR_ID], CoordinatorRepo(db))), Conversations(sessions)
    )

    async def on_compose(update: Update, w: Who, session: Session) -> None:
        state.received.append((session.flow, session.step, message_of(update).text or ""))
        await message_of(update).reply_text(f"composing: {message_of(update).text}")

    async def on_followup(update: Update, w: Who, session: Session) -> None:
        state.received.append((session.flow, session.step, message_of(update).text or ""))

    async def cancel_followup(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        address = address_of(update)
        state.cancel_asked.append(address)
        session = await sessions.get(address)
        if session is None or session.flow != Flow.FOLLOWUP:
            return False
        await sessions.clear(address)
        await message_of(update).reply_text("follow-up dropped")
        return True

    router.add_flow(Flow.COMPOSE, on_compose, cancelled=N_("Cancelled. Your details are unchanged."))
    router.add_flow(Flow.FOLLOWUP, on_followup)
    router.add_cancel(cancel_followup)
    app: App = ApplicationBuilder().token(TOKEN).base_url(sandbox.base_url).base_file_url(sandbox.base_file_url).build()
    router.register(app)
    router.register_unknown_commands(app)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=1)
    try:
        yield state
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        await db.close()


async def test_typed_text_goes_to_the_flow_the_person_is_in(sandbox, router_bot):
    u = sandbox.user(USER_ID, "Anna", language_code="en")
    await router_bot.sessions.set(Address.telegram(USER_ID), Session(Flow.COMPOSE, "text"))
    await u.send("Sandbags at the bridge")
    await u.wait_for("composing: Sandbags at the bridge")
    assert router_bot.received == [(Flow.COMPOSE, "text", "Sandbags at the bridge")]


async def test_cancel_clears_a_simple_flow_and_later_text_is_not_routed_to_it(sandbox, router_bot):
    u = sandbox.user(USER_ID, "Anna", language_code="en")
    address = Address.telegram(USER_ID)
    await router_bot.sessions.set(address, Session(Flow.COMPOSE, "text"))
    await u.send("/cancel")
    await u.wait_for("Cancelled. Your details are unchanged.")
    assert await router_bot.sessions.get(address) is None
    assert router_bot.cancel_asked == []  # dropping a simple flow needs no cancel handler
    await u.send("hello again")
    await u.wait_for("Hello! I am Sauciens, the bot that alerts volunteers. Send /start to join.")
    assert router_bot.received == []


async def test_cancel_asks_the_cancel_handlers_and_says_when_there_is_nothing(sandbox, router_bot):
    u = sandbox.user(USER_ID, "Anna", language_code="en")
    address = Address.telegram(USER_ID)
    await router_bot.sessions.set(address, Session(Flow.FOLLOWUP, "text"))
    await u.send("/cancel")
    await u.wait_for("follow-up dropped")
    await u.send("/cancel")
    await u.wait_for("There is nothing to cancel.")
    assert router_bot.cancel_asked == [address, address]


async def test_a_state_no_flow_is_registered_for_gets_the_fallback_reply(sandbox, router_bot):
    u = sandbox.user(USER_ID, "Anna", language_code="en")
    coord = sandbox.user(COORDINATOR_ID, "Kārlis", language_code="en")
    for who in (u, coord):
        await router_bot.sessions.set(Address.telegram(who.id), Session(Flow.PAUSE, "until"))  # not registered here
    await u.send("24.12.2026")
    await u.wait_for("Hello! I am Sauciens, the bot that alerts volunteers. Send /start to join.")
    await coord.send("24.12.2026")
    await coord.wait_for("I did not understand that. /help lists what I can do.")
    await u.send("/nonsense")
    await u.wait_for("I don't know that command. /help lists what I can do.")
    assert router_bot.received == []
