"""Local emulator of the Telegram Bot API (the subset Sauciens uses).

Serves ``http://127.0.0.1:PORT/bot<TOKEN>/<method>`` over loopback with the stdlib
(``asyncio.start_server``), so python-telegram-bot's real HTTP stack talks to it via
``ApplicationBuilder().base_url(sandbox.base_url)``.  Answers, errors and flood limits
have Telegram's shapes, so PTB raises its real exceptions (RetryAfter, Forbidden,
BadRequest, NetworkError, ...).  Simulated users (:mod:`bot.sandbox.users`) create
updates that the bot receives through ``getUpdates`` long polling, or by webhook once the bot
has called ``setWebhook`` (:mod:`bot.sandbox.webhook`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import unquote

from .chats import Chat, Signal
from .errors import ApiError
from .faults import Faults, Outage, OutageMode
from .http import DROP, ClientGone, HttpServer, error_payload, parse_params, unless_client_gone
from .limits import RateLimits
from .methods import METHOD_NAMES, BotApiMethods
from .users import SimGroup, SimMessage, SimUser
from .webhook import WebhookDelivery

__all__ = ["BotApiSandbox", "Call", "SandboxObserver", "SimGroup", "SimMessage", "SimUser"]


class Call(NamedTuple):
    """One request the sandbox received (status 0: connection dropped / never answered)."""

    time: float  # time.monotonic() of arrival
    method: str
    chat_id: int | str | None
    status: int


class SandboxObserver:
    """Hooks into what happens in the sandbox's chats; every method does nothing unless
    overridden. Register with :meth:`BotApiSandbox.add_observer`; hooks run synchronously
    right after the change, in registration order."""

    def bot_message(self, msg: SimMessage) -> None:
        """The bot sent ``msg`` (a text, document, location or contact)."""

    def bot_edit(self, msg: SimMessage) -> None:
        """The bot edited ``msg`` (its text or its buttons)."""

    def user_message(self, msg: SimMessage) -> None:
        """A simulated user wrote ``msg`` (text, contact or location)."""

    def tap(self, user: SimUser, msg: SimMessage, data: str) -> None:
        """``user`` pressed the inline button with ``data`` under ``msg``."""

    def callback_answered(self, query: dict[str, Any]) -> None:
        """The bot answered a callback query (``query``: id, chat_id, text, show_alert, ...)."""


class BotApiSandbox(BotApiMethods):
    """In-process fake of the Telegram Bot API served over loopback HTTP."""

    def __init__(
        self,
        token: str = "123456:SANDBOX",
        *,
        latency: float | Callable[[], float] = 0.0,
        global_rate: float = 30.0,
        global_burst: int = 30,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        enforce_limits: bool = True,
        bot_username: str = "sauciens_bot",
        bot_first_name: str = "Sauciens",
        paid_broadcast_rate: float = 1000.0,
        webhook_retry_cap: float = 1.0,
    ):
        self.token = token
        self.latency = latency  # seconds before each answer, or a function giving them
        self.bot_username = bot_username
        try:
            bot_id = int(token.split(":", 1)[0])
        except ValueError:
            bot_id = 123456
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self._limits = RateLimits(
            global_rate=global_rate,
            global_burst=global_burst,
            chat_rate=chat_rate,
            chat_burst=chat_burst,
            paid_broadcast_rate=paid_broadcast_rate,
            enforce=enforce_limits,
        )
        self._faults = Faults()
        self._outage = Outage()
        self._observers: list[SandboxObserver] = []

        self.port = 0
        self.base_url = ""
        self.base_file_url = ""
        self._http = HttpServer(self._dispatch)
        self._stop_event: asyncio.Event | None = None

        # observation
        self.calls: list[Call] = []
        self._counts: Counter[tuple[str, int]] = Counter()
        self._method_counts: Counter[str] = Counter()

        # state
        self._chats: dict[int, Chat] = {}
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimGroup] = {}
        self._blocked: set[int] = set()
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._callback_counter = 0
        self._files: dict[str, tuple[str, bytes, str]] = {}  # file_id -> (name, bytes, mime)
        self._file_meta: dict[str, tuple[str, str]] = {}  # file_id -> (unique id, file_path)
        self._file_paths: dict[str, str] = {}  # file_path -> file_id
        self._file_counter = 0
        self.commands: dict[str, list[dict]] = {}
        self._seq = 0  # change sequence for bot messages / callback answers
        self._answers = Signal()  # fired when a callback query is answered

        # updates
        self._updates: deque[dict] = deque()
        self._next_update_id = 100_000_001
        self._last_update_id = 0
        self._delivered_upto = 0
        self._allowed_updates: set[str] | None = None
        self._update_event: asyncio.Event | None = None
        self._poll_generation = 0
        # webhook_retry_cap: the longest pause between two tries of an update the webhook refused
        self.webhook = WebhookDelivery(
            self._next_update, self._confirm_update, self._updates_changed, retry_cap=webhook_retry_cap
        )

        # idle tracking
        self._inflight = 0
        self._last_activity = time.monotonic()

        self._methods: dict[str, tuple[str, Callable]] = {
            name.lower(): (name, getattr(self, "_m_" + name.lower())) for name in METHOD_NAMES
        }

    # ================================================================ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> BotApiSandbox:
        self._stop_event = asyncio.Event()
        self._update_event = asyncio.Event()
        self.port = await self._http.start(host, port)
        self.base_url = f"http://{host}:{self.port}/bot"
        self.base_file_url = f"http://{host}:{self.port}/file/bot"
        return self

    async def stop(self) -> None:
        if not self._http.running:
            return
        self._http.stopping = True  # pending getUpdates calls return at once
        if self._stop_event is not None:
            self._stop_event.set()
        await self.webhook.stop()
        await self._http.stop()

    async def __aenter__(self) -> BotApiSandbox:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    @property
    def _stopping(self) -> bool:
        return self._http.stopping

    # ================================================================ test API
    @property
    def enforce_limits(self) -> bool:
        """Whether flood limits answer 429 (tests may switch them off and on)."""
        return self._limits.enforce

    @enforce_limits.setter
    def enforce_limits(self, value: bool) -> None:
        self._limits.enforce = value

    def add_observer(self, observer: SandboxObserver) -> None:
        """Call ``observer``'s hooks from now on (see :class:`SandboxObserver`)."""
        self._observers.append(observer)

    def inject_faults(self, method: str, kind: str, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` calls of ``method`` fail: "5xx", "drop", "429" or "timeout"."""
        self._faults.inject(method, kind, count, retry_after)

    def clear_faults(self) -> None:
        self._faults.clear()

    async def set_outage(self, mode: str | None) -> None:
        """Telegram unreachable: "5xx" (every request answered 502), "refused" (nothing
        listens, open connections are reset), or None: back."""
        new = OutageMode(mode) if mode is not None else None
        self._outage.set(new)
        self._wake_pollers()  # a poll held open ends with the outage's answer
        if new is OutageMode.REFUSED:
            await self._http.refuse()
        else:
            await self._http.accept()

    def outage_after_next_updates(self, mode: str = "5xx") -> None:
        """Every request is answered 502 from the moment the next updates are handed out."""
        self._outage.arm(OutageMode(mode))

    @property
    def outage(self) -> str | None:
        return self._outage.mode

    def user(
        self,
        user_id: int,
        first_name: str = "Lietotājs",
        last_name: str | None = None,
        language_code: str | None = "lv",
        username: str | None = None,
        started: bool = True,
    ) -> SimUser:
        """Get or create a simulated user (``started`` → its private chat exists)."""
        existing = self._users.get(user_id)
        if existing is not None:
            if started:
                self._ensure_private_chat(existing)
            return existing
        if user_id <= 0:
            raise ValueError("user ids must be positive")
        u: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            u["last_name"] = last_name
        if username:
            u["username"] = username
        if language_code:
            u["language_code"] = language_code
        sim = SimUser(self, u)
        self._users[user_id] = sim
        if started:
            self._ensure_private_chat(sim)
        return sim

    def group(self, chat_id: int, title: str, username: str | None = None) -> SimGroup:
        """Get or create a group chat (negative id; ≤ -10**12 → supergroup) with the bot in it."""
        existing = self._groups.get(chat_id)
        if existing is not None:
            return existing
        if chat_id >= 0:
            raise ValueError("group chat ids must be negative")
        type_ = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        chat = Chat(chat_id, type_, self._limits.chat_bucket(), self._blocked, title=title, username=username)
        self._chats[chat_id] = chat
        g = SimGroup(self, chat)
        self._groups[chat_id] = g
        return g

    def block(self, chat_id: int) -> None:
        """The user blocks the bot (or the bot is kicked from the group): sends get 403."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def chat(self, chat_id: int) -> list[SimMessage]:
        """The bot's messages in the chat, in order ([] for an unknown chat)."""
        chat = self._chats.get(chat_id)
        return chat.bot_messages if chat is not None else []

    def chat_history(self, chat_id: int) -> list[SimMessage]:
        """All messages (users' and bot's) in the chat."""
        chat = self._chats.get(chat_id)
        return chat.messages if chat is not None else []

    def count(self, method: str, status: int | None = None) -> int:
        """Number of requests of ``method`` (case-insensitive), optionally with that status."""
        m = method.lower()
        if status is None:
            return self._method_counts[m]
        return self._counts[(m, status)]

    @property
    def pending_updates(self) -> int:
        """Updates not yet delivered to the bot by getUpdates."""
        n = 0
        for u in reversed(self._updates):
            if u["update_id"] <= self._delivered_upto:
                break
            n += 1
        return n

    async def wait_idle(self, timeout: float = 5.0, quiet: float = 0.2) -> None:
        """Return once all updates were delivered and no request arrived for ``quiet`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            now = time.monotonic()
            if self.pending_updates == 0 and self._inflight == 0 and now - self._last_activity >= quiet:
                return
            if loop.time() >= deadline:
                raise AssertionError(
                    f"sandbox not idle after {timeout}s: {self.pending_updates} undelivered updates, "
                    f"{self._inflight} requests in flight"
                )
            await asyncio.sleep(0.02)

    def callback(self, query_id: str) -> dict | None:
        return self._callbacks.get(query_id)

    # ================================================================ internals for users
    def _bump(self, chat: Chat | None = None) -> int:
        self._seq += 1
        (chat.signal if chat is not None else self._answers).fire()
        return self._seq

    async def _wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float,
        failure: Callable[[], str],
        signal: Signal | None = None,
    ) -> Any:
        signal = signal or self._answers
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result is not None:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(failure())
            ev = signal.event()
            try:
                await asyncio.wait_for(ev.wait(), remaining)
            except TimeoutError:
                pass

    def _ensure_private_chat(self, user: SimUser) -> Chat:
        chat = self._chats.get(user.id)
        if chat is None:
            u = user.user
            chat = Chat(
                user.id,
                "private",
                self._limits.chat_bucket(),
                self._blocked,
                first_name=u.get("first_name"),
                last_name=u.get("last_name"),
                username=u.get("username"),
            )
            self._chats[user.id] = chat
        return chat

    def _new_message(self, chat: Chat, *, from_bot: bool, sender: dict, **fields: Any) -> SimMessage:
        mid = chat.next_message_id
        chat.next_message_id += 1
        msg = SimMessage(
            chat=chat,
            message_id=mid,
            date=int(time.time()),
            from_bot=from_bot,
            sender=sender,
            **fields,
        )
        chat.add(msg)
        return msg

    def _add_user_message(self, chat: Chat, user: SimUser, **fields: Any) -> SimMessage:
        if "text" in fields:
            fields.setdefault("html", fields["text"])
        msg = self._new_message(chat, from_bot=False, sender=user.user, **fields)
        for observer in self._observers:
            observer.user_message(msg)
        return msg

    def _push_update(self, kind: str, obj: dict) -> dict:
        update_id = self._next_update_id
        update: dict[str, Any] = {"update_id": update_id, kind: obj}
        self._next_update_id += 1
        self._last_update_id = update_id
        if self._allowed_updates is None or kind in self._allowed_updates:
            self._updates.append(update)
        self._wake_pollers()
        return update

    def _wake_pollers(self) -> None:
        ev = self._update_event
        if ev is not None:
            ev.set()
        self._update_event = asyncio.Event()

    # the webhook's view of the queue
    def _next_update(self) -> dict | None:
        return self._updates[0] if self._updates else None

    def _confirm_update(self, update: dict) -> None:
        if self._updates and self._updates[0] is update:
            self._updates.popleft()
        self._delivered_upto = max(self._delivered_upto, update["update_id"])
        self._last_activity = time.monotonic()

    def _updates_changed(self) -> asyncio.Event:
        if self._update_event is None:
            self._update_event = asyncio.Event()
        return self._update_event

    def _push_callback(self, user: SimUser, msg: SimMessage, data: str) -> str:
        for observer in self._observers:
            observer.tap(user, msg, data)
        self._callback_counter += 1
        qid = str(4_000_000_000_000_000_000 + self._callback_counter * 7919)
        self._callbacks[qid] = {
            "id": qid,
            "user_id": user.id,
            "chat_id": msg.chat.id,
            "message_id": msg.message_id,
            "data": data,
            "answered": False,
            "text": None,
            "show_alert": False,
            "url": None,
            "time": time.monotonic(),
        }
        cq = {
            "id": qid,
            "from": user.user,
            "message": msg.to_dict(),
            "chat_instance": str(abs(msg.chat.id) * 31 + 1_000_000_000_000),
            "data": data,
        }
        self._push_update("callback_query", cq)
        return qid

    # ================================================================ HTTP
    def _record(self, arrived: float, method: str, chat_id: Any, status: int) -> None:
        self.calls.append(Call(arrived, method, chat_id, status))
        m = method.lower()
        self._method_counts[m] += 1
        self._counts[(m, status)] += 1

    async def _dispatch(
        self,
        http_method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
        arrived: float,
        reader: asyncio.StreamReader,
    ) -> tuple[int, Any, str]:
        path, _, query = target.partition("?")
        if path.startswith("/file/bot"):
            return self._serve_file(path[len("/file/bot") :])
        if not path.startswith("/bot"):
            return 404, error_payload(404, "Not Found"), "application/json"
        token, _, method = path[4:].partition("/")
        token = unquote(token)
        method = unquote(method).strip("/")
        lname = method.lower()
        entry = self._methods.get(lname)
        canonical = entry[0] if entry else method
        if token != self.token:
            self._record(arrived, canonical, None, 401)
            return 401, error_payload(401, "Unauthorized"), "application/json"

        if self._outage.mode is OutageMode.SERVER_ERRORS:
            self._record(arrived, canonical, None, 502)
            return 502, error_payload(502, "Bad Gateway"), "application/json"

        counts_for_idle = lname != "getupdates"
        if counts_for_idle:
            self._inflight += 1
            self._last_activity = arrived
        chat_id: Any = None
        try:
            try:
                params = parse_params(headers, body, query)
                chat_id = params.chat_id()
            except ApiError as exc:
                params = None
                parse_error: ApiError | None = exc
            else:
                parse_error = None

            fault = self._faults.take(lname)

            delay = self.latency() if callable(self.latency) else self.latency
            if delay > 0:
                await asyncio.sleep(delay)

            if fault is not None:
                kind, retry_after = fault
                if kind == "5xx":
                    self._record(arrived, canonical, chat_id, 502)
                    return 502, error_payload(502, "Bad Gateway"), "application/json"
                if kind == "429":
                    self._record(arrived, canonical, chat_id, 429)
                    return (
                        429,
                        error_payload(429, f"Too Many Requests: retry after {retry_after}", retry_after),
                        "application/json",
                    )
                if kind == "drop":
                    self._record(arrived, canonical, chat_id, 0)
                    return 0, DROP, ""
                # timeout: never answer (until stop() or 60 s)
                self._record(arrived, canonical, chat_id, 0)
                if counts_for_idle:
                    self._inflight -= 1
                    counts_for_idle = False
                assert self._stop_event is not None
                try:
                    await unless_client_gone(asyncio.wait_for(self._stop_event.wait(), 60), reader)
                except (TimeoutError, ClientGone):
                    pass
                return 0, DROP, ""

            if entry is None:
                self._record(arrived, canonical, chat_id, 404)
                return 404, error_payload(404, "Not Found"), "application/json"
            if parse_error is not None:
                raise parse_error
            assert params is not None
            result = entry[1](params)
            if asyncio.iscoroutine(result):
                try:
                    result = await unless_client_gone(result, reader)
                except ClientGone:
                    self._record(arrived, canonical, chat_id, 0)
                    return 0, DROP, ""
        except ApiError as exc:
            self._record(arrived, canonical, chat_id, exc.status)
            return exc.status, error_payload(exc.status, exc.description, exc.retry_after), "application/json"
        finally:
            if counts_for_idle:
                self._inflight -= 1
                self._last_activity = time.monotonic()
        self._record(arrived, canonical, chat_id, 200)
        payload = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
        return 200, payload, "application/json"

    def _serve_file(self, rest: str) -> tuple[int, Any, str]:
        token, _, file_path = rest.partition("/")
        if unquote(token) != self.token:
            return 401, error_payload(401, "Unauthorized"), "application/json"
        file_id = self._file_paths.get(unquote(file_path))
        if file_id is None:
            return 404, error_payload(404, "Not Found"), "application/json"
        _, content, mime = self._files[file_id]
        return 200, content, mime or "application/octet-stream"

    # ================================================================ chat state
    def _deliver_bot_message(self, chat: Chat, **fields: Any) -> SimMessage:
        msg = self._new_message(chat, from_bot=True, sender=self.bot_user, **fields)
        markup = fields.get("reply_markup_sent")
        if markup is not None:
            if "keyboard" in markup:
                chat.reply_keyboard = markup
            elif markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        seq = self._bump(chat)
        msg.seq = seq
        chat.changes.append((seq, msg))
        for observer in self._observers:
            observer.bot_message(msg)
        return msg

    def _mark_edited(self, msg: SimMessage) -> None:
        msg.edited += 1
        msg.edit_date = int(time.time())
        seq = self._bump(msg.chat)
        msg.seq = seq
        msg.chat.changes.append((seq, msg))
        for observer in self._observers:
            observer.bot_edit(msg)

    def _callback_answered(self, query: dict[str, Any]) -> None:
        for observer in self._observers:
            observer.callback_answered(query)
