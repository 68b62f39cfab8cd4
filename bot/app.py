"""Wiring: builds everything through constructors in dependency order (storage, the PTB
application, the tracking, the outbox sender, the reminders, the alerting), registers the
handlers in their visible order, and starts and stops the resources around them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import BotCommand
from telegram.error import NetworkError
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.application.alerting import Alerting, Drafts
from bot.application.tracking import Reminders, Tracking
from bot.domain import places
from bot.domain.budget import SendBudget
from bot.domain.outbox import OutboxSender, RetryPolicy
from bot.domain.reachability import Reachability
from bot.i18n import translator
from bot.logs import event
from bot.messenger.ratelimit import InteractiveRateLimiter
from bot.messenger.requests import make_request
from bot.messenger.scheduler import JobQueueScheduler
from bot.messenger.tracking import TelegramTrackingMessenger
from bot.messenger.transport import TelegramTransport, broadcast_bot
from bot.messenger.updates import PerChatOrderedProcessor
from bot.services import Services
from bot.settings import Settings
from db.migrate import migrate
from handlers import alerts, coordinator, groups, pause, privacy, registration, responses
from handlers import help as help_handlers
from handlers.router import TextRouter

log = logging.getLogger(__name__)


def build_application(settings: Settings, budget: SendBudget, reachability: Reachability) -> Application:
    return (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram.api_base_url)
        .base_file_url(settings.telegram.api_base_file_url)
        .concurrent_updates(PerChatOrderedProcessor(64))
        .rate_limiter(InteractiveRateLimiter(budget))
        # The Bot API over bot/messenger/http.py unless telegram.http_client = "httpx": a burst of
        # taps is CPU-bound in httpx (bench/README.md). getUpdates has a connection of its own.
        .request(make_request(settings.telegram, 64, reachability=reachability, pool_timeout=10.0))
        .get_updates_request(
            make_request(settings.telegram, 1, reachability=reachability, polling=True, read_timeout=10.0)
        )
        .build()
    )


def register_handlers(
    app: Application,
    services: Services,
    alerting: Alerting,
    tracking: Tracking,
    reminders: Reminders,
    drafts: Drafts,
) -> None:
    router = TextRouter(services.identity, services.conversations)
    following = coordinator.Coordinator(services.identity, alerting, tracking, reminders, drafts)
    rate = services.settings.broadcast.messages_per_second

    # Handler order matters: the first matching handler in a group wins.
    groups.register(app)  # group chats: point people to a private chat
    router.register(app)  # /cancel, and typed input routed to the flow the person is in
    # /start, /profile, /language, steps
    registration.register(app, services.identity, services.steps, services.registration, services.profile, router)
    help_handlers.register(app, services.identity)  # /help
    pause.register(app, services.identity, services.pausing, router)  # /pause, /resume
    privacy.register(app, services.identity, services.privacy)  # /mydata, /forget
    responses.register(app, services.identity, alerting)  # a volunteer's answer to an alert
    alerts.register(app, services.identity, alerting, drafts, router, following.send_tracking, rate)  # /alert
    coordinator.register(app, following, router)  # following alerts: /alerts, /status, /close, ...
    router.register_unknown_commands(app)  # anything else that looks like a command

    app.add_error_handler(on_error)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = getattr(update, "update_id", None)
    event(
        log,
        "handler_error",
        update=update_id,
        error=type(context.error).__name__,
        level=logging.ERROR,
        exc_info=context.error,
    )


class Sauciens:
    """The running bot: ``await start()`` ... ``await stop()`` (the CLI, tests and demo)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.services = s = Services.create(settings)
        # whether the Bot API answers: fed by every request of both bots, read by the metrics
        self.reachability = Reachability()
        self.app = build_application(settings, s.budget, self.reachability)
        scheduler = JobQueueScheduler(self.app.job_queue)
        messenger = TelegramTrackingMessenger(self.app.bot)
        self.tracking = Tracking(s.alerts, messenger, scheduler)
        self.broadcast_bot = broadcast_bot(settings, self.reachability)
        self.sender = OutboxSender(
            s.outbox,
            TelegramTransport(self.broadcast_bot, s.alerts, paid=settings.broadcast.paid),
            s.budget,
            max_in_flight=settings.broadcast.max_in_flight,
            policy=RetryPolicy(
                max_backoff=settings.broadcast.max_backoff_seconds,
                give_up_after=settings.broadcast.give_up_after_minutes * 60.0,
            ),
            on_recorded=self.tracking.message_recorded,
            on_held_up=self.tracking.delivery_changed,
            reachability=self.reachability,
        )
        self.tracking.watch_delivery(self.sender)
        self.reminders = Reminders(s.alerts, self.sender, messenger, scheduler)
        self.alerting = Alerting(
            s.people,
            s.alerts,
            self.sender,
            self.tracking,
            self.reminders,
            remind_after_minutes=settings.alerts.remind_after_minutes,
            organisation=settings.access.organisation,
        )
        self.drafts = Drafts(s.sessions)
        register_handlers(self.app, s, self.alerting, self.tracking, self.reminders, self.drafts)

    async def start(self) -> None:
        # Country matching builds an index of names in many languages once (~1 s): do it
        # now, off the event loop, rather than in the first person's registration.
        await asyncio.to_thread(places.match_country, "Latvija")
        await self.services.db.open()
        await migrate(self.services.db)
        # Telegram may be down as the bot starts: wait for it (getMe, setMyCommands) rather than fail
        await self._until_telegram_answers("initialize", self.app.initialize)
        await self._until_telegram_answers("initialize_broadcast", self.broadcast_bot.initialize)
        await self._until_telegram_answers("set_commands", self._set_commands)
        await self.app.start()
        # Reminders and deadlines are not persisted by the JobQueue: rebuild them.
        await self.reminders.rebuild()
        await self.tracking.start(self.settings.alerts.tracking_update_seconds)
        self.sender.start()
        assert self.app.updater is not None
        await self.app.updater.start_polling(
            poll_interval=0.0,
            timeout=self.settings.telegram.poll_timeout,
            drop_pending_updates=False,
            bootstrap_retries=-1,  # deleteWebhook at start: keep trying through an outage
        )
        event(log, "started", bot=self.app.bot.username, admins=len(self.settings.access.admin_ids))

    async def stop(self) -> None:
        await self.sender.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.broadcast_bot.shutdown()
        await self.services.db.close()
        event(log, "stopped")

    async def _until_telegram_answers(self, step: str, call: Callable[[], Awaitable[None]]) -> None:
        """``call`` again (1 s, 2 s, ... up to 10 s apart) while the Bot API is unreachable."""
        delay = 1.0
        while True:
            try:
                await call()
                return
            except NetworkError as exc:  # 5xx, no connection, a timeout: Telegram is not there yet
                event(
                    log,
                    "start_waiting_for_telegram",
                    api=self.settings.telegram.api_base_url,
                    step=step,
                    error=type(exc).__name__,
                    retry_in=delay,
                    level=logging.WARNING,
                )
                await asyncio.sleep(delay)
                delay = min(10.0, delay * 2)

    async def _set_commands(self) -> None:
        for lang in ("lv", "en"):
            t = translator(lang)
            commands = [BotCommand(c, t._(d)[:256]) for c, d in help_handlers.VOLUNTEER_COMMANDS]
            await self.app.bot.set_my_commands(commands, language_code=lang)
