"""Wiring: builds the PTB application, registers the handlers in their visible order, and
starts and stops the resources (database, outbox sender, scheduled jobs) around it."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.domain import places
from bot.domain.outbox import OutboxSender
from bot.i18n import translator
from bot.messenger.ratelimit import InteractiveRateLimiter
from bot.messenger.requests import make_request
from bot.messenger.transport import TelegramTransport, broadcast_bot
from bot.messenger.updates import PerChatOrderedProcessor
from bot.services import Services
from bot.settings import Settings
from db.migrate import migrate
from handlers import alerts, coordinator, groups, pause, privacy, registration, responses
from handlers import help as help_handlers
from handlers.router import TextRouter

log = logging.getLogger(__name__)


def build_application(settings: Settings, services: Services) -> tuple[Application, coordinator.Coordinator]:
    token = settings.require_token()
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram.api_base_url)
        .base_file_url(settings.telegram.api_base_file_url)
        .concurrent_updates(PerChatOrderedProcessor(64))
        .rate_limiter(InteractiveRateLimiter(services.budget))
        # The Bot API over bot/messenger/http.py unless telegram.http_client = "httpx": a burst of
        # taps is CPU-bound in httpx (bench/README.md). getUpdates has a connection of its own.
        .request(make_request(settings.telegram, 64, pool_timeout=10.0))
        .get_updates_request(make_request(settings.telegram, 1, read_timeout=10.0))
        .build()
    )
    router = TextRouter(services.identity, services.conversations)
    tracking = coordinator.Coordinator(services, services.alerting)  # tracking messages, reminders, deadlines

    # Handler order matters: the first matching handler in a group wins.
    groups.register(app)  # group chats: point people to a private chat
    router.register(app)  # /cancel, and typed input routed to the flow the person is in
    # /start, /profile, /language, steps
    registration.register(app, services.identity, services.steps, services.registration, services.profile, router)
    help_handlers.register(app, services.identity)  # /help
    pause.register(app, services.identity, services.pausing, router)  # /pause, /resume
    privacy.register(app, services.identity, services.privacy)  # /mydata, /forget
    responses.register(app, services, services.alerting)  # a volunteer's answer to an alert
    alerts.register(app, services, services.alerting, router, tracking.send_tracking)  # /alert: composer, preview, send
    coordinator.register(app, tracking, router)  # following alerts: /alerts, /status, /close, ...
    router.register_unknown_commands(app)  # anything else that looks like a command

    app.add_error_handler(on_error)
    return app, tracking


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = getattr(update, "update_id", None)
    log.error("event=handler_error update=%s error=%s", update_id, type(context.error).__name__, exc_info=context.error)


class Sauciens:
    """The running bot: ``await start()`` ... ``await stop()`` (the CLI, tests and demo)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.services = Services.create(settings)
        self.app, self.tracking = build_application(settings, self.services)
        self.broadcast_bot = broadcast_bot(settings)
        self.sender = OutboxSender(
            self.services.outbox,
            TelegramTransport(self.broadcast_bot, self.services.alerts, paid=settings.broadcast.paid),
            self.services.budget,
            max_in_flight=settings.broadcast.max_in_flight,
            max_attempts=settings.broadcast.max_attempts,
            on_recorded=self.services.alerting.on_recorded,
        )
        self.services.alerting.sender = self.sender
        self.services.alerting.scheduler = lambda alert_id, remind_at, respond_by: self.tracking.schedule(
            self.app, alert_id, remind_at, respond_by
        )

    async def start(self) -> None:
        # Country matching builds an index of names in many languages once (~1 s): do it
        # now, off the event loop, rather than in the first person's registration.
        await asyncio.to_thread(places.match_country, "Latvija")
        await self.services.db.open()
        await migrate(self.services.db)
        await self.app.initialize()
        await self.broadcast_bot.initialize()
        await self._set_commands()
        await self.app.start()
        # Reminders and deadlines are not persisted by the JobQueue: rebuild them.
        await self.tracking.rebuild_schedule(self.app)
        for alert in await self.services.alerts.list(only_open=True):
            self.services.alerting.dirty.add(alert.id)
        assert self.app.job_queue is not None
        self.app.job_queue.run_repeating(
            self.tracking.refresh, interval=self.settings.alerts.tracking_update_seconds, first=0.5, name="tracking"
        )
        self.sender.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0.0, timeout=self.settings.telegram.poll_timeout, drop_pending_updates=False
        )
        log.info("event=started bot=%s admins=%d", self.app.bot.username, len(self.settings.access.admin_ids))

    async def stop(self) -> None:
        await self.sender.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.broadcast_bot.shutdown()
        await self.services.db.close()
        log.info("event=stopped")

    async def _set_commands(self) -> None:
        for lang in ("lv", "en"):
            t = translator(lang)
            commands = [BotCommand(c, t._(d)[:256]) for c, d in help_handlers.VOLUNTEER_COMMANDS]
            await self.app.bot.set_my_commands(commands, language_code=lang)
