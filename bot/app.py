"""Wiring: builds everything through constructors in dependency order (storage, the PTB
application, the tracking, the outbox sender, the reminders, the alerting), registers the
handlers in their visible order, and starts and stops the resources around them."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, NetworkError, TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes

from bot.application.alerting import Alerting, Drafts
from bot.application.approval import Approvals
from bot.application.composer import Composer
from bot.application.health import Health
from bot.application.privacy import Privacy
from bot.application.retention import Retention
from bot.application.throttle import Throttle
from bot.application.tracking import Reminders, Tracking
from bot.domain import places
from bot.domain.budget import SendBudget
from bot.domain.outbox import DeliveryHold, Job, OutboxSender, Result, RetryPolicy
from bot.domain.reachability import Reachability
from bot.i18n import language_codes, normalise_language, translator
from bot.logs import event
from bot.messenger.approval import TelegramApprovalMessenger
from bot.messenger.observed import AnswerObserver
from bot.messenger.ratelimit import InteractiveRateLimiter
from bot.messenger.requests import make_request
from bot.messenger.scheduler import JobQueueScheduler
from bot.messenger.tracking import TelegramTrackingMessenger
from bot.messenger.transport import TelegramTransport, broadcast_bot
from bot.messenger.updates import PerChatOrderedProcessor
from bot.observability.metrics import Metrics
from bot.observability.monitor import Monitor
from bot.services import Services
from bot.settings import ConfigError, Settings, TelegramMode
from db.approvals import ApprovalRepo
from db.health import HealthRepo
from db.migrate import migrate
from db.retention import RetentionRepo
from db.stats import StatsRepo
from handlers import (
    alerts,
    approval,
    audit,
    coordinator,
    groups,
    pause,
    privacy,
    registration,
    responses,
    talkback,
    verify,
)
from handlers import boundary as boundaries
from handlers import coalition as coalition_handlers
from handlers import help as help_handlers
from handlers.base import App
from handlers.router import TextRouter

log = logging.getLogger(__name__)
STAFF_REFRESH_SECONDS = 5.0  # how soon the bot sees coordinators added on the command line


def build_application(
    settings: Settings,
    budget: SendBudget,
    reachability: Reachability,
    observers: Sequence[AnswerObserver] = (),
    on_processed: Callable[[float], None] | None = None,
    urgent: Callable[[object], bool] | None = None,
) -> App:
    """``reachability`` and ``observers`` are told every Bot API answer; ``on_processed`` how
    long each update took; ``urgent`` picks the updates that have processing slots of their own."""
    return (
        ApplicationBuilder()
        .token(settings.require_token())
        .base_url(settings.telegram.api_base_url)
        .base_file_url(settings.telegram.api_base_file_url)
        .concurrent_updates(PerChatOrderedProcessor(64, on_processed=on_processed, urgent=urgent))
        .rate_limiter(InteractiveRateLimiter(budget))
        # The Bot API over bot/messenger/http.py unless telegram.http_client = "httpx": a burst of
        # taps is CPU-bound in httpx (bench/README.md). getUpdates has a connection of its own.
        .request(make_request(settings.telegram, 64, reachability=reachability, pool_timeout=10.0, observers=observers))
        .get_updates_request(
            make_request(
                settings.telegram, 1, reachability=reachability, polling=True, read_timeout=10.0, observers=observers
            )
        )
        .build()
    )


def each(*callbacks: Callable[[Job, Result], None]) -> Callable[[Job, Result], None]:
    """One ``on_recorded`` callback that calls ``callbacks`` in order."""

    def recorded(job: Job, result: Result) -> None:
        for callback in callbacks:
            callback(job, result)

    return recorded


def register_handlers(
    app: App,
    services: Services,
    alerting: Alerting,
    tracking: Tracking,
    reminders: Reminders,
    drafts: Drafts,
    forgetting: Privacy,
    throttle: Throttle,
    approvals: Approvals,
) -> None:
    router = TextRouter(services.identity, services.conversations)
    following = coordinator.Coordinator(services.identity, alerting, tracking, reminders, drafts)
    rate = services.settings.broadcast.messages_per_second

    # Handler order matters: the first matching handler in a group wins.
    # newcomers and floods first, then edits, buttons' data, buttons in groups
    boundary = boundaries.register_first(app, services.identity, throttle)
    # /start <code> (in the boundary's group, before every /start), /invite, /coordinators, and
    # joining an organisation after the consent button (in a group after this one)
    coalition_handlers.register(app, services.identity, services.coalition)
    groups.register(app)  # group chats: point people to a private chat
    verify.register(app, services.identity, services.verification)  # /verify, and forwards (never a flow's input)
    router.register(app)  # /cancel, and typed input routed to the flow the person is in
    help_handlers.register(app, services.identity)  # /help; coordinators' own /start and /language
    # /start, /profile, /language, steps
    registration.register(
        app,
        services.identity,
        services.steps,
        services.registration,
        services.profile,
        services.membership_choices,
        router,
    )
    pause.register(app, services.identity, services.pausing, router)  # /pause, /resume
    privacy.register(app, services.identity, forgetting, throttle)  # /mydata, /forget, a changed privacy notice
    responses.register(app, services.identity, alerting)  # a volunteer's answer to an alert
    composer = Composer(alerting, drafts, approvals)
    alerts.register(app, services.identity, composer, router, following.send_tracking, rate)  # /alert
    approval.register(app, services.identity, approvals, router)  # /pending, approving and rejecting
    coordinator.register(app, following, router)  # following alerts: /alerts, /status, /close, ...
    talkback.register(app, services.identity, services.talkback, router)  # free text to a coordinator, /messages
    audit.register(app, services.identity, services.audit)  # /audit
    router.register_unknown_commands(app)  # anything else that looks like a command
    boundaries.register_last(app, boundary)  # a button no handler took is still answered

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
    # A network failure talking to Telegram is no reason to apologise: the reply may well have
    # arrived (a request is never sent twice), and while Telegram is unreachable an apology
    # would only fail too.
    if isinstance(update, Update) and not isinstance(context.error, NetworkError):
        await apologise(update)


async def apologise(update: Update) -> None:
    """A handler failed: the person still gets an answer (and a tap stops spinning). Best
    effort: when even this fails (Telegram unreachable), the error above is what remains."""
    user = update.effective_user
    t = translator(normalise_language(user.language_code if user else None))
    text = t._("Something went wrong, please try again.")
    try:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer(text, show_alert=True)
                return
            except BadRequest:  # answered already, before the failure: say it in the chat
                pass
        chat = update.effective_chat
        if chat is not None and chat.type == ChatType.PRIVATE:
            await chat.send_message(text)
    except TelegramError as exc:
        event(log, "error_reply_failed", update=update.update_id, error=type(exc).__name__, level=logging.WARNING)


class Sauciens:
    """The running bot: ``await start()`` ... ``await stop()`` (the CLI, tests and demo)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.services = s = Services.create(settings)
        # whether the Bot API answers: fed by every request of both bots, read by the sender,
        # the tracking message, the metrics and /healthz
        self.reachability = Reachability()
        self.metrics = Metrics(self.reachability)
        answers: list[AnswerObserver] = [self.metrics.api_answered]
        self.app = build_application(
            settings,
            s.budget,
            self.reachability,
            answers,
            self.metrics.update_processed,
            urgent=functools.partial(boundaries.urgent_update, s.identity),
        )
        scheduler = JobQueueScheduler(self.app.job_queue)
        messenger = TelegramTrackingMessenger(self.app.bot)
        hold = DeliveryHold()  # the sender says when delivery is held up; tracking messages show it
        self.tracking = Tracking(s.alerts, messenger, scheduler, hold, audit=s.audit)
        self.broadcast_bot = broadcast_bot(settings, self.reachability, answers)
        self.sender = OutboxSender(
            s.outbox,
            TelegramTransport(self.broadcast_bot, s.alerts, paid=settings.broadcast.paid),
            s.budget,
            max_in_flight=settings.broadcast.max_in_flight,
            policy=RetryPolicy(
                max_backoff=settings.broadcast.max_backoff_seconds,
                give_up_after=settings.broadcast.give_up_after_minutes * 60.0,
            ),
            on_recorded=each(self.tracking.message_recorded, self.metrics.message_recorded),
            on_held_up=self.tracking.delivery_changed,
            reachability=self.reachability,
            hold=hold,
        )
        self.reminders = Reminders(s.alerts, self.sender, messenger, scheduler, s.audit)
        self.alerting = Alerting(
            s.people,
            s.alerts,
            self.sender,
            self.tracking,
            self.reminders,
            s.audit,
            remind_after_minutes=settings.alerts.remind_after_minutes,
            organisation=settings.access.organisation,
        )
        self.drafts = Drafts(s.sessions)
        self.approvals = Approvals(
            ApprovalRepo(s.db),
            self.alerting,
            s.authorisation,
            s.coordinators,
            s.identity,
            s.sessions,
            TelegramApprovalMessenger(self.app.bot, settings.broadcast.messages_per_second),
            self.tracking,
            scheduler,
            s.audit,
            approval_above=settings.alerts.approval_above,
            approval_for_critical=settings.alerts.approval_for_critical,
            expires_minutes=settings.alerts.approval_expires_minutes,
        )
        self.retention = Retention(
            RetentionRepo(s.db), s.audit, scheduler, retention_days=settings.privacy.retention_days
        )
        self.privacy = Privacy(s.people, self.alerting, s.talkback, s.audit)
        limits = settings.throttle
        self.throttle = Throttle(
            limits.reply_interval_seconds,
            flood_messages=limits.flood_messages,
            flood_window=limits.flood_window_seconds,
            repeat_window=limits.repeat_window_seconds,
        )
        register_handlers(
            self.app,
            s,
            self.alerting,
            self.tracking,
            self.reminders,
            self.drafts,
            self.privacy,
            self.throttle,
            self.approvals,
        )
        self.health = Health(
            HealthRepo(s.db), self.reachability, telegram_silence_seconds=settings.metrics.telegram_silence_seconds
        )
        address = settings.metrics.address
        self.monitor = (
            None
            if address is None
            else Monitor(
                self.metrics,
                self.health,
                StatsRepo(s.db),
                self.reachability,
                self.broadcast_bot.get_me,
                host=address[0],
                port=address[1],
                refresh_seconds=settings.metrics.refresh_seconds,
            )
        )

    async def start(self) -> None:
        # Country matching builds an index of names in many languages once (~1 s): do it
        # now, off the event loop, rather than in the first person's registration.
        await asyncio.to_thread(places.match_country, "Latvija")
        await self.services.db.open()
        await migrate(self.services.db)
        await self.services.authorisation.refresh()
        # Telegram may be down as the bot starts: wait for it (getMe, setMyCommands) rather than fail
        await self._until_telegram_answers("initialize", self.app.initialize)
        await self._until_telegram_answers("initialize_broadcast", self.broadcast_bot.initialize)
        if self.monitor is not None:
            await self.monitor.start()
        await self._until_telegram_answers("set_commands", self._set_commands)
        await self.app.start()
        # coordinators added or revoked on the command line (permissions never wait for this)
        assert self.app.job_queue is not None
        self.app.job_queue.run_repeating(self._refresh_coordinators, interval=STAFF_REFRESH_SECONDS)
        # Reminders and deadlines are not persisted by the JobQueue: rebuild them.
        await self.reminders.rebuild()
        await self.approvals.rebuild()  # requests waiting for approval expire on time after a restart too
        await self.tracking.start(self.settings.alerts.tracking_update_seconds)
        self.retention.start()  # old alerts are anonymised a moment after start-up, then daily
        self.sender.start()
        await self._receive_updates()
        event(
            log,
            "started",
            bot=self.app.bot.username,
            admins=len(self.settings.access.admin_ids),
            mode=self.settings.telegram.mode.value,
        )

    async def _receive_updates(self) -> None:
        """Long polling, or a webhook: PTB's own server on ``webhook_listen``, serving the
        path of ``webhook_url``, which it registers with Telegram together with the secret.
        (Starting to poll deletes a webhook left from webhook mode.)"""
        telegram = self.settings.telegram
        assert self.app.updater is not None
        if telegram.mode is TelegramMode.WEBHOOK:
            host, port = telegram.webhook_address
            try:
                await self.app.updater.start_webhook(
                    listen=host,
                    port=port,
                    url_path=urlsplit(telegram.webhook_url).path,
                    webhook_url=telegram.webhook_url,
                    secret_token=telegram.webhook_secret.get_secret_value(),
                    drop_pending_updates=False,
                )
            except OSError as exc:
                raise ConfigError(
                    f"telegram.webhook_listen: cannot listen on {telegram.webhook_listen}: {exc.strerror or exc}"
                ) from None
        else:
            await self.app.updater.start_polling(
                poll_interval=0.0,
                timeout=telegram.poll_timeout,
                drop_pending_updates=False,
                bootstrap_retries=-1,  # deleteWebhook at start: keep trying through an outage
            )

    async def stop(self) -> None:
        if self.monitor is not None:
            await self.monitor.stop()
        await self.sender.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.broadcast_bot.shutdown()
        await self.services.db.close()
        event(log, "stopped")

    async def _refresh_coordinators(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.services.authorisation.refresh()

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
        for lang in language_codes():
            t = translator(lang)
            commands = [BotCommand(c, t._(d)[:256]) for c, d in help_handlers.VOLUNTEER_COMMANDS]
            await self.app.bot.set_my_commands(commands, language_code=lang)
