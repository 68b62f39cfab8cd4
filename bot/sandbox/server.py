"""Local emulator of the Telegram Bot API (the subset Sauciens uses).

Serves ``http://127.0.0.1:PORT/bot<TOKEN>/<method>`` over loopback with the stdlib
(``asyncio.start_server``), so python-telegram-bot's real HTTP stack talks to it via
``ApplicationBuilder().base_url(sandbox.base_url)``.  Answers, errors and flood limits
have Telegram's shapes, so PTB raises its real exceptions (RetryAfter, Forbidden,
BadRequest, NetworkError, ...).  Simulated users (:mod:`bot.sandbox.users`) create
updates that the bot receives through ``getUpdates`` long polling.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections import Counter, deque
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote

from .html import HtmlParseError, ParsedText, parse_html, strip_text, utf16_len
from .users import SimGroup, SimMessage, SimUser

__all__ = ["BotApiSandbox", "Call", "SimGroup", "SimMessage", "SimUser"]

log = logging.getLogger(__name__)

MAX_TEXT = 4096
MAX_CAPTION = 1024
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
FAULT_KINDS = frozenset({"5xx", "drop", "429", "timeout"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_ACTIONS = (
    "callback_data",
    "url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "callback_game",
    "pay",
    "copy_text",
)
_BOT_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_DROP = object()


class Call(NamedTuple):
    """One request the sandbox received (status 0: connection dropped / never answered)."""

    time: float  # time.monotonic() of arrival
    method: str
    chat_id: int | str | None
    status: int


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class _ClientGone(Exception):
    pass


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class _Bucket:
    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: int):
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.last = time.monotonic()

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 if available now); refills first."""
        self.tokens = min(float(self.burst), self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate if self.rate > 0 else 3600.0

    def take(self) -> None:
        self.tokens -= 1.0


class _Signal:
    """Wakes everyone waiting for a change; the Event is created only when someone waits."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def fire(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None

    def event(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event


class _Chat:
    """State of one chat (private chat with a user, or a group)."""

    def __init__(self, sandbox: BotApiSandbox, chat_id: int, type_: str, **info: Any):
        self.sandbox = sandbox
        self.id = chat_id
        self.type = type_
        self.title: str | None = info.get("title")
        self.first_name: str | None = info.get("first_name")
        self.last_name: str | None = info.get("last_name")
        self.username: str | None = info.get("username")
        self.messages: list[SimMessage] = []  # everything, in order
        self.bot_messages: list[SimMessage] = []
        self.by_id: dict[int, SimMessage] = {}
        self.changes: list[tuple[int, SimMessage]] = []  # (seq, msg) of bot creates/edits
        self.next_message_id = 1
        self.bucket = _Bucket(sandbox.chat_rate, sandbox.chat_burst)
        self.reply_keyboard: dict | None = None
        self.signal = _Signal()  # fired when a bot message here is created/edited/deleted
        self._dict: dict | None = None

    @property
    def blocked(self) -> bool:
        return self.id in self.sandbox._blocked

    def as_dict(self) -> dict:
        if self._dict is None:
            d: dict[str, Any] = {"id": self.id, "type": self.type}
            for key in ("title", "first_name", "last_name", "username"):
                val = getattr(self, key)
                if val:
                    d[key] = val
            self._dict = d
        return self._dict

    def add(self, msg: SimMessage) -> None:
        self.messages.append(msg)
        self.by_id[msg.message_id] = msg
        if msg.from_bot:
            self.bot_messages.append(msg)

    def __repr__(self) -> str:
        return f"_Chat({self.id}, {self.type})"


class _Params:
    """Request parameters from JSON, multipart or urlencoded bodies.

    Form values are strings; JSON-typed parameters (reply_markup, ...) arrive as JSON
    strings there, so typed getters decode them as needed.
    """

    def __init__(self, data: dict[str, Any], files: dict[str, tuple[str, bytes, str]]):
        self.data = data
        self.files = files

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None or name in self.files

    def str(self, name: str, default: str | None = None) -> str | None:
        v = self.data.get(name)
        if v is None:
            return default
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return str(v)

    def int(self, name: str, default: int | None = None) -> int | None:
        v = self.data.get(name)
        if v is None or v == "":
            return default
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v
        try:
            return int(str(v).strip())
        except ValueError:
            try:
                f = float(str(v))
                if f.is_integer():
                    return int(f)
            except ValueError:
                pass
            raise _bad(f"invalid {name} specified") from None

    def float(self, name: str) -> float | None:
        v = self.data.get(name)
        if v is None or v == "":
            return None
        try:
            return float(v)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def bool(self, name: str) -> bool:
        v = self.data.get(name)
        if isinstance(v, str):
            return v.strip().lower() in ("true", "1")
        return bool(v)

    def json(self, name: str) -> Any:
        v = self.data.get(name)
        if isinstance(v, str):
            if v == "":
                return None
            try:
                return json.loads(v)
            except ValueError:
                if name == "reply_markup":
                    raise _bad("can't parse reply keyboard markup JSON object") from None
                raise _bad(f"can't parse {name} JSON object") from None
        return v

    def chat_id(self) -> int | str | None:
        v = self.data.get("chat_id")
        if v is None or v == "":
            return None
        if isinstance(v, bool):
            return None
        if isinstance(v, int):
            return v
        s = str(v).strip()
        try:
            return int(s)
        except ValueError:
            return s


def _parse_content_disposition(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in re.finditer(r';\s*([A-Za-z0-9_\-*]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]*)', ";" + value.split(";", 1)[-1]):
        key = m.group(1).lower()
        val = m.group(3) if m.group(3) is not None else m.group(2).strip()
        if key.endswith("*"):
            # RFC 5987: utf-8''percent-encoded
            enc, _, rest = val.partition("''")
            try:
                val = unquote(rest, encoding=enc or "utf-8")
            except LookupError:
                val = unquote(rest)
            key = key[:-1]
        else:
            val = val.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n").replace('\\"', '"')
        out[key] = val
    return out


def _parse_multipart(body: bytes, content_type: str) -> tuple[dict[str, Any], dict[str, tuple[str, bytes, str]]]:
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise _bad("invalid multipart body: no boundary")
    boundary = b"--" + m.group(1).encode("latin-1")
    data: dict[str, Any] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        if part.startswith(b"\r\n"):
            part = part[2:]
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = _parse_content_disposition(headers.get("content-disposition", ""))
        name = disp.get("name")
        if name is None:
            continue
        if "filename" in disp:
            files[name] = (disp["filename"], content, headers.get("content-type", "application/octet-stream"))
        else:
            data[name] = content.decode("utf-8", "replace")
    return data, files


class BotApiSandbox:
    """In-process fake of the Telegram Bot API served over loopback HTTP."""

    def __init__(
        self,
        token: str = "123456:SANDBOX",
        *,
        latency: float = 0.0,
        global_rate: float = 30.0,
        global_burst: int = 30,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        enforce_limits: bool = True,
        bot_username: str = "sauciens_bot",
        bot_first_name: str = "Sauciens",
        paid_broadcast_rate: float = 1000.0,
    ):
        self.token = token
        self.latency = latency
        self.global_rate = global_rate
        self.global_burst = global_burst
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.enforce_limits = enforce_limits
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
        self._global_bucket = _Bucket(global_rate, global_burst)
        self._paid_bucket = _Bucket(paid_broadcast_rate, int(paid_broadcast_rate))

        self.host = "127.0.0.1"
        self.port = 0
        self.base_url = ""
        self.base_file_url = ""
        self._server: asyncio.base_events.Server | None = None
        self._conn_tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._stopping = False
        self._stop_event: asyncio.Event | None = None

        # observation
        self.calls: list[Call] = []
        self._counts: Counter[tuple[str, int]] = Counter()
        self._method_counts: Counter[str] = Counter()

        # state
        self._chats: dict[int, _Chat] = {}
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
        self.menu_button: dict | None = None
        self._seq = 0  # change sequence for bot messages / callback answers
        self._answers = _Signal()  # fired when a callback query is answered

        # updates
        self._updates: deque[dict] = deque()
        self._next_update_id = 100_000_001
        self._last_update_id = 0
        self._delivered_upto = 0
        self._allowed_updates: set[str] | None = None
        self._update_event: asyncio.Event | None = None
        self._poll_generation = 0

        # faults
        self._faults: dict[str, deque[tuple[str, int]]] = {}

        # idle tracking
        self._inflight = 0
        self._last_activity = time.monotonic()

        self._methods: dict[str, tuple[str, Callable]] = {}
        for name in (
            "getMe",
            "logOut",
            "close",
            "deleteWebhook",
            "getWebhookInfo",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "setChatMenuButton",
            "getChatMenuButton",
            "setMyDescription",
            "setMyShortDescription",
            "setMyName",
            "getUpdates",
            "sendMessage",
            "editMessageText",
            "editMessageReplyMarkup",
            "answerCallbackQuery",
            "sendDocument",
            "sendLocation",
            "sendContact",
            "sendChatAction",
            "deleteMessage",
            "getChat",
            "getFile",
        ):
            self._methods[name.lower()] = (name, getattr(self, "_m_" + name.lower()))

    # ================================================================ lifecycle
    async def start(self, host: str = "127.0.0.1", port: int = 0) -> BotApiSandbox:
        self._stopping = False
        self._stop_event = asyncio.Event()
        self._update_event = asyncio.Event()
        self._server = await asyncio.start_server(self._on_connection, host, port, limit=1 << 20, backlog=2048)
        sock = self._server.sockets[0]
        self.host = host
        self.port = sock.getsockname()[1]
        self.base_url = f"http://{host}:{self.port}/bot"
        self.base_file_url = f"http://{host}:{self.port}/file/bot"
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        self._stopping = True
        if self._stop_event is not None:
            self._stop_event.set()
        self._server.close()
        for w in list(self._writers):
            try:
                w.close()
            except Exception:  # pragma: no cover
                pass
        tasks = [t for t in self._conn_tasks if t is not asyncio.current_task()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2)
        except TimeoutError:  # pragma: no cover
            pass
        self._server = None

    async def __aenter__(self) -> BotApiSandbox:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # ================================================================ test API
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
        chat = _Chat(self, chat_id, type_, title=title, username=username)
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

    def inject_faults(self, method: str, kind: str, count: int = 1, retry_after: int = 1) -> None:
        """The next ``count`` calls of ``method`` fail: "5xx", "drop", "429" or "timeout"."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        q = self._faults.setdefault(method.lower(), deque())
        for _ in range(count):
            q.append((kind, retry_after))

    def clear_faults(self) -> None:
        self._faults.clear()

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
    def _bump(self, chat: _Chat | None = None) -> int:
        self._seq += 1
        (chat.signal if chat is not None else self._answers).fire()
        return self._seq

    async def _wait_until(
        self,
        predicate: Callable[[], Any],
        timeout: float,
        failure: Callable[[], str],
        signal: _Signal | None = None,
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

    def _ensure_private_chat(self, user: SimUser) -> _Chat:
        chat = self._chats.get(user.id)
        if chat is None:
            u = user.user
            chat = _Chat(
                self,
                user.id,
                "private",
                first_name=u.get("first_name"),
                last_name=u.get("last_name"),
                username=u.get("username"),
            )
            self._chats[user.id] = chat
        return chat

    def _new_message(self, chat: _Chat, *, from_bot: bool, sender: dict, **fields: Any) -> SimMessage:
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

    def _add_user_message(self, chat: _Chat, user: SimUser, **fields: Any) -> SimMessage:
        if "text" in fields:
            fields.setdefault("html", fields["text"])
        return self._new_message(chat, from_bot=False, sender=user.user, **fields)

    def _push_update(self, kind: str, obj: dict) -> dict:
        update = {"update_id": self._next_update_id, kind: obj}
        self._next_update_id += 1
        self._last_update_id = update["update_id"]
        if self._allowed_updates is None or kind in self._allowed_updates:
            self._updates.append(update)
        self._wake_pollers()
        return update

    def _wake_pollers(self) -> None:
        ev = self._update_event
        if ev is not None:
            ev.set()
        self._update_event = asyncio.Event()

    def _push_callback(self, user: SimUser, msg: SimMessage, data: str) -> str:
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
    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._conn_tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        except Exception:  # pragma: no cover - bug in the sandbox itself
            log.exception("sandbox connection handler crashed")
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._conn_tasks.discard(task)
            try:
                writer.close()
            except Exception:  # pragma: no cover
                pass

    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while not self._stopping:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) < 3:
                return
            http_method, target, version = parts[0], parts[1], parts[2]
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if not line:
                    continue
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            body = b""
            if "content-length" in headers:
                n = int(headers["content-length"])
                if n:
                    body = await reader.readexactly(n)
            elif headers.get("transfer-encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size_line = await reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        # trailers until empty line
                        while (await reader.readuntil(b"\r\n")) != b"\r\n":
                            pass
                        break
                    chunks.append(await reader.readexactly(size))
                    await reader.readexactly(2)
                body = b"".join(chunks)
            arrived = time.monotonic()
            status, payload, ctype = await self._dispatch(http_method, target, headers, body, arrived, reader)
            if payload is _DROP:
                writer.close()
                return
            keep_alive = headers.get("connection", "").lower() != "close" and version != "HTTP/1.0"
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:  # pragma: no cover
                phrase = "Error"
            head_out = (
                f"HTTP/1.1 {status} {phrase}\r\n"
                f"Content-Type: {ctype}\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
            ).encode("latin-1")
            writer.write(head_out + payload)
            await writer.drain()
            if not keep_alive:
                return

    @staticmethod
    def _error_payload(status: int, description: str, retry_after: int | None = None) -> bytes:
        d: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            d["parameters"] = {"retry_after": retry_after}
        return json.dumps(d, ensure_ascii=False).encode()

    def _record(self, arrived: float, method: str, chat_id: Any, status: int) -> None:
        self.calls.append(Call(arrived, method, chat_id, status))
        m = method.lower()
        self._method_counts[m] += 1
        self._counts[(m, status)] += 1

    @staticmethod
    async def _unless_client_gone(coro: Any, reader: asyncio.StreamReader) -> Any:
        """Await ``coro`` but give up (raise _ClientGone) if the client closes the connection.

        Used for requests that are held for a long time (long polling, "timeout" faults), so
        that an abandoned request does not linger and act on later events.
        """
        task = asyncio.ensure_future(coro)
        eof = asyncio.ensure_future(reader.read(1))
        try:
            await asyncio.wait({task, eof}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            eof.cancel()
            raise
        if task.done():
            if not eof.done():
                eof.cancel()
                try:
                    await eof
                except asyncio.CancelledError:
                    pass
            elif eof.result():  # pragma: no cover - pipelining is not supported
                raise _ClientGone()
            return task.result()
        task.cancel()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
        raise _ClientGone()

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
            return 404, self._error_payload(404, "Not Found"), "application/json"
        token, _, method = path[4:].partition("/")
        token = unquote(token)
        method = unquote(method).strip("/")
        lname = method.lower()
        entry = self._methods.get(lname)
        canonical = entry[0] if entry else method
        if token != self.token:
            self._record(arrived, canonical, None, 401)
            return 401, self._error_payload(401, "Unauthorized"), "application/json"

        counts_for_idle = lname != "getupdates"
        if counts_for_idle:
            self._inflight += 1
            self._last_activity = arrived
        chat_id: Any = None
        try:
            try:
                params = self._parse_params(headers, body, query)
                chat_id = params.chat_id()
            except ApiError as exc:
                params = None
                parse_error: ApiError | None = exc
            else:
                parse_error = None

            fault = None
            q = self._faults.get(lname)
            if q:
                fault = q.popleft()

            if self.latency > 0:
                await asyncio.sleep(self.latency)

            if fault is not None:
                kind, retry_after = fault
                if kind == "5xx":
                    self._record(arrived, canonical, chat_id, 502)
                    return 502, self._error_payload(502, "Bad Gateway"), "application/json"
                if kind == "429":
                    self._record(arrived, canonical, chat_id, 429)
                    return (
                        429,
                        self._error_payload(429, f"Too Many Requests: retry after {retry_after}", retry_after),
                        "application/json",
                    )
                if kind == "drop":
                    self._record(arrived, canonical, chat_id, 0)
                    return 0, _DROP, ""
                # timeout: never answer (until stop() or 60 s)
                self._record(arrived, canonical, chat_id, 0)
                if counts_for_idle:
                    self._inflight -= 1
                    counts_for_idle = False
                assert self._stop_event is not None
                try:
                    await self._unless_client_gone(asyncio.wait_for(self._stop_event.wait(), 60), reader)
                except (TimeoutError, _ClientGone):
                    pass
                return 0, _DROP, ""

            if entry is None:
                self._record(arrived, canonical, chat_id, 404)
                return 404, self._error_payload(404, "Not Found"), "application/json"
            if parse_error is not None:
                raise parse_error
            assert params is not None
            result = entry[1](params)
            if asyncio.iscoroutine(result):
                try:
                    result = await self._unless_client_gone(result, reader)
                except _ClientGone:
                    self._record(arrived, canonical, chat_id, 0)
                    return 0, _DROP, ""
        except ApiError as exc:
            self._record(arrived, canonical, chat_id, exc.status)
            return exc.status, self._error_payload(exc.status, exc.description, exc.retry_after), "application/json"
        finally:
            if counts_for_idle:
                self._inflight -= 1
                self._last_activity = time.monotonic()
        self._record(arrived, canonical, chat_id, 200)
        payload = json.dumps({"ok": True, "result": result}, ensure_ascii=False).encode()
        return 200, payload, "application/json"

    def _parse_params(self, headers: dict[str, str], body: bytes, query: str) -> _Params:
        data: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes, str]] = {}
        if query:
            data.update(parse_qsl(query, keep_blank_values=True))
        ctype = headers.get("content-type", "")
        lct = ctype.lower()
        if body:
            if lct.startswith("application/json"):
                try:
                    obj = json.loads(body)
                except ValueError:
                    raise _bad("can't parse JSON") from None
                if not isinstance(obj, dict):
                    raise _bad("JSON object expected")
                data.update(obj)
            elif lct.startswith("multipart/form-data"):
                d, files = _parse_multipart(body, ctype)
                data.update(d)
            else:
                data.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        return _Params(data, files)

    def _serve_file(self, rest: str) -> tuple[int, Any, str]:
        token, _, file_path = rest.partition("/")
        if unquote(token) != self.token:
            return 401, self._error_payload(401, "Unauthorized"), "application/json"
        file_id = self._file_paths.get(unquote(file_path))
        if file_id is None:
            return 404, self._error_payload(404, "Not Found"), "application/json"
        _, content, mime = self._files[file_id]
        return 200, content, mime or "application/octet-stream"

    # ================================================================ helpers for methods
    def _get_chat(self, p: _Params, *, for_send: bool = True) -> _Chat:
        cid = p.chat_id()
        if cid is None:
            raise _bad("chat_id is empty")
        chat: _Chat | None
        if isinstance(cid, str):
            name = cid.lstrip("@").lower()
            chat = next(
                (c for c in self._chats.values() if c.type != "private" and (c.username or "").lower() == name),
                None,
            )
        else:
            chat = self._chats.get(cid)
        if chat is None:
            raise _bad("chat not found")
        if for_send and chat.blocked:
            if chat.type == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        return chat

    def _check_rate(self, chat: _Chat, paid: bool) -> None:
        if not self.enforce_limits:
            return
        now = time.monotonic()
        gbucket = self._paid_bucket if paid else self._global_bucket
        wait = max(gbucket.wait_needed(now), chat.bucket.wait_needed(now))
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        gbucket.take()
        chat.bucket.take()

    def _parse_text(self, text: str, parse_mode: str | None, *, caption: bool = False) -> ParsedText:
        mode = (parse_mode or "").strip().lower()
        if mode == "html":
            try:
                parsed = parse_html(text)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        elif mode in ("", "none"):
            parsed = ParsedText(text, [])
        elif mode in ("markdown", "markdownv2"):
            # Not used by Sauciens; keep the text as-is.
            parsed = ParsedText(text, [])
        else:
            raise _bad("unsupported parse_mode")
        parsed = strip_text(parsed)
        limit = MAX_CAPTION if caption else MAX_TEXT
        if utf16_len(parsed.text) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        return parsed

    def _validate_markup(self, p: _Params, *, inline_only: bool = False) -> dict | None:
        markup = p.json("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            total = 0
            for row in rows:
                for b in row:
                    total += 1
                    if not isinstance(b, dict) or not isinstance(b.get("text"), str):
                        raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
                    actions = [k for k in _INLINE_ACTIONS if b.get(k) is not None]
                    if not actions:
                        raise _bad(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    if "callback_data" in actions:
                        data = b["callback_data"]
                        if not isinstance(data, str) or not (1 <= len(data.encode("utf-8")) <= 64):
                            raise _bad("BUTTON_DATA_INVALID")
                    if "url" in actions:
                        url = b["url"]
                        if not isinstance(url, str) or not re.match(r"^(https?|tg)://\S+$", url, re.I):
                            raise _bad("BUTTON_URL_INVALID")
            if total > 100:
                raise _bad("reply markup is too long")
            return {"inline_keyboard": rows}
        if inline_only:
            raise _bad("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad("can't parse reply keyboard markup JSON object")
            for row in rows:
                for b in row:
                    if isinstance(b, str):
                        continue
                    if not isinstance(b, dict) or not isinstance(b.get("text"), str):
                        raise _bad('can\'t parse keyboard button: Field "text" must be of type String')
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        raise _bad("can't parse reply keyboard markup JSON object")

    def _reply_to(self, p: _Params, chat: _Chat) -> SimMessage | None:
        rp = p.json("reply_parameters")
        mid = None
        allow = p.bool("allow_sending_without_reply")
        if isinstance(rp, dict):
            mid = rp.get("message_id")
            allow = allow or bool(rp.get("allow_sending_without_reply"))
            target_chat_id = rp.get("chat_id")
            if target_chat_id is not None and target_chat_id != chat.id:
                other = self._chats.get(target_chat_id) if isinstance(target_chat_id, int) else None
                if other is None:
                    raise _bad("chat not found")
                chat = other
        elif p.has("reply_to_message_id"):
            mid = p.int("reply_to_message_id")
        if mid is None:
            return None
        target = chat.by_id.get(int(mid))
        if target is None or target.deleted:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return target

    _SEND_OPTION_KEYS = (
        "disable_notification",
        "protect_content",
        "allow_paid_broadcast",
        "link_preview_options",
        "disable_web_page_preview",
        "message_effect_id",
        "message_thread_id",
    )

    def _send_options(self, p: _Params) -> dict:
        out = {}
        for k in self._SEND_OPTION_KEYS:
            if p.has(k):
                v = p.data[k]
                if k == "link_preview_options":
                    v = p.json(k)
                elif k in (
                    "disable_notification",
                    "protect_content",
                    "allow_paid_broadcast",
                    "disable_web_page_preview",
                ):
                    v = p.bool(k)
                out[k] = v
        return out

    def _deliver_bot_message(self, chat: _Chat, **fields: Any) -> SimMessage:
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
        return msg

    def _mark_edited(self, msg: SimMessage) -> None:
        msg.edited += 1
        msg.edit_date = int(time.time())
        seq = self._bump(msg.chat)
        msg.seq = seq
        msg.chat.changes.append((seq, msg))

    # ================================================================ methods
    def _m_getme(self, p: _Params) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logout(self, p: _Params) -> bool:
        return True

    _m_close = _m_logout
    _m_setchatmenubutton = _m_logout
    _m_setmydescription = _m_logout
    _m_setmyshortdescription = _m_logout
    _m_setmyname = _m_logout

    def _m_getchatmenubutton(self, p: _Params) -> dict:
        return {"type": "commands"}

    def _m_deletewebhook(self, p: _Params) -> bool:
        if p.bool("drop_pending_updates"):
            self._updates.clear()
            self._delivered_upto = self._last_update_id
        return True

    def _m_getwebhookinfo(self, p: _Params) -> dict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    @staticmethod
    def _commands_key(p: _Params) -> str:
        scope = p.json("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True) + "|" + (p.str("language_code") or "")

    def _m_setmycommands(self, p: _Params) -> bool:
        cmds = p.json("commands")
        if not isinstance(cmds, list):
            raise _bad("can't parse commands JSON object")
        if len(cmds) > 100:
            raise _bad("too many commands")
        clean = []
        for c in cmds:
            if not isinstance(c, dict):
                raise _bad("can't parse BotCommand")
            name = c.get("command", "")
            desc = c.get("description", "")
            if not isinstance(name, str) or not _BOT_COMMAND_RE.match(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not isinstance(desc, str) or not (1 <= len(desc) <= 256):
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": desc})
        self.commands[self._commands_key(p)] = clean
        return True

    def _m_getmycommands(self, p: _Params) -> list:
        return self.commands.get(self._commands_key(p), [])

    def _m_deletemycommands(self, p: _Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    async def _m_getupdates(self, p: _Params) -> list:
        offset = p.int("offset")
        limit = p.int("limit", 100) or 100
        limit = min(max(limit, 1), 100)
        timeout = p.float("timeout") or 0.0
        allowed = p.json("allowed_updates")
        if isinstance(allowed, list):
            new_allowed = set(allowed) if allowed else None
            if new_allowed != self._allowed_updates:
                self._allowed_updates = new_allowed
                if new_allowed is not None:
                    self._updates = deque(
                        u for u in self._updates if any(k in new_allowed for k in u if k != "update_id")
                    )
        self._confirm(offset)

        # Like Telegram, a newer getUpdates terminates an older pending one with 409.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._poll_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            result = list(self._take(limit))
            if result:
                break
            remaining = deadline - loop.time()
            if remaining <= 0 or self._stopping:
                break
            assert self._update_event is not None
            ev = self._update_event
            try:
                await asyncio.wait_for(ev.wait(), remaining)
            except TimeoutError:
                pass
        if result:
            self._delivered_upto = max(self._delivered_upto, result[-1]["update_id"])
            self._last_activity = time.monotonic()
        return result

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        q = self._updates
        if offset > 0:
            while q and q[0]["update_id"] < offset:
                q.popleft()
        else:
            keep = -offset
            while len(q) > keep:
                q.popleft()

    def _take(self, limit: int):
        for i, u in enumerate(self._updates):
            if i >= limit:
                break
            yield u

    def _m_sendmessage(self, p: _Params) -> dict:
        chat = self._get_chat(p)
        text = p.str("text")
        if text is None or text == "":
            raise _bad("message text is empty")
        parsed = self._parse_text(text, p.str("parse_mode"))
        if not parsed.text:
            raise _bad("message text is empty")
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        msg = self._deliver_bot_message(
            chat,
            html=text,
            text=parsed.text,
            entities=parsed.entities,
            parse_mode=p.str("parse_mode"),
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _find_message_to_edit(self, p: _Params) -> SimMessage:
        if p.has("inline_message_id") and not p.has("chat_id"):
            raise _bad("message to edit not found")
        chat = self._get_chat(p, for_send=False)
        mid = p.int("message_id")
        if mid is None:
            raise _bad("message identifier is not specified")
        msg = chat.by_id.get(mid)
        if msg is None or msg.deleted:
            raise _bad("message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        return msg

    def _m_editmessagetext(self, p: _Params) -> dict:
        msg = self._find_message_to_edit(p)
        text = p.str("text")
        if text is None or text == "":
            raise _bad("message text is empty")
        if msg.document is not None or msg.location is not None or msg.contact is not None:
            raise _bad("there is no text in the message to edit")
        parsed = self._parse_text(text, p.str("parse_mode"))
        if not parsed.text:
            raise _bad("message text is empty")
        markup = self._validate_markup(p, inline_only=True)
        if parsed.text == msg.text and parsed.entities == msg.entities and markup == msg.inline_markup:
            raise _bad(NOT_MODIFIED[len("Bad Request: ") :])
        msg.html = text
        msg.text = parsed.text
        msg.entities = parsed.entities
        msg.parse_mode = p.str("parse_mode")
        msg.inline_markup = markup
        if msg.reply_markup_sent is None or "inline_keyboard" in msg.reply_markup_sent or markup:
            msg.reply_markup_sent = markup
        self._mark_edited(msg)
        return msg.to_dict()

    def _m_editmessagereplymarkup(self, p: _Params) -> dict:
        msg = self._find_message_to_edit(p)
        markup = self._validate_markup(p, inline_only=True)
        if markup == msg.inline_markup:
            raise _bad(NOT_MODIFIED[len("Bad Request: ") :])
        msg.inline_markup = markup
        if msg.reply_markup_sent is None or "inline_keyboard" in msg.reply_markup_sent or markup:
            msg.reply_markup_sent = markup
        self._mark_edited(msg)
        return msg.to_dict()

    def _m_answercallbackquery(self, p: _Params) -> bool:
        qid = p.str("callback_query_id")
        rec = self._callbacks.get(qid or "")
        if rec is None or rec["answered"]:
            raise _bad(QUERY_TOO_OLD[len("Bad Request: ") :])
        text = p.str("text")
        if text is not None and len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        rec["answered"] = True
        rec["text"] = text
        rec["show_alert"] = p.bool("show_alert")
        rec["url"] = p.str("url")
        self._bump()
        return True

    def _m_senddocument(self, p: _Params) -> dict:
        chat = self._get_chat(p)
        if "document" in p.files:
            filename, content, mime = p.files["document"]
            if not content:
                raise _bad("file must be non-empty")
            self._file_counter += 1
            file_id = f"BQACAgIAAxkDAAI{self._file_counter:08d}"
            unique = f"AgAD{self._file_counter:06d}"
            file_path = f"documents/file_{self._file_counter}"
            self._files[file_id] = (filename, content, mime)
            self._file_paths[file_path] = file_id
            self._file_meta[file_id] = (unique, file_path)
        else:
            ref = p.str("document")
            if not ref:
                raise _bad("there is no document in the request")
            if ref.startswith("attach://"):
                raise _bad("wrong file identifier/HTTP URL specified")
            if ref not in self._files:
                raise _bad("wrong file identifier/HTTP URL specified")
            file_id = ref
            filename, content, mime = self._files[ref]
            unique = self._file_meta[ref][0]
        caption = p.str("caption") or ""
        parsed = self._parse_text(caption, p.str("parse_mode"), caption=True) if caption else ParsedText("", [])
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        info: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": filename,
            "file_size": len(content),
        }
        if mime:
            info["mime_type"] = mime
        msg = self._deliver_bot_message(
            chat,
            html=caption,
            text=parsed.text,
            entities=parsed.entities,
            parse_mode=p.str("parse_mode"),
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            document=(filename, content),
            document_info=info,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _m_getfile(self, p: _Params) -> dict:
        fid = p.str("file_id") or ""
        if fid not in self._files:
            raise _bad("invalid file_id")
        filename, content, _ = self._files[fid]
        unique, path = self._file_meta[fid]
        return {"file_id": fid, "file_unique_id": unique, "file_size": len(content), "file_path": path}

    def _m_sendlocation(self, p: _Params) -> dict:
        chat = self._get_chat(p)
        lat = p.float("latitude")
        lon = p.float("longitude")
        if lat is None or not -90 <= lat <= 90:
            raise _bad("wrong latitude")
        if lon is None or not -180 <= lon <= 180:
            raise _bad("wrong longitude")
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        msg = self._deliver_bot_message(
            chat,
            location={"latitude": lat, "longitude": lon},
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _m_sendcontact(self, p: _Params) -> dict:
        chat = self._get_chat(p)
        phone = p.str("phone_number")
        first = p.str("first_name")
        if not phone:
            raise _bad("phone_number is empty")
        if not first:
            raise _bad("first_name is empty")
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first}
        if p.str("last_name"):
            contact["last_name"] = p.str("last_name")
        if p.str("vcard"):
            contact["vcard"] = p.str("vcard")
        markup = self._validate_markup(p)
        reply_to = self._reply_to(p, chat)
        self._check_rate(chat, p.bool("allow_paid_broadcast"))
        msg = self._deliver_bot_message(
            chat,
            contact=contact,
            inline_markup=markup if markup and "inline_keyboard" in markup else None,
            reply_markup_sent=markup,
            reply_to=reply_to,
            params=self._send_options(p),
        )
        return msg.to_dict()

    def _m_sendchataction(self, p: _Params) -> bool:
        self._get_chat(p)
        action = p.str("action")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def _m_deletemessage(self, p: _Params) -> bool:
        chat = self._get_chat(p, for_send=False)
        mid = p.int("message_id")
        msg = chat.by_id.get(mid) if mid is not None else None
        if msg is None or msg.deleted:
            raise _bad("message to delete not found")
        if not msg.from_bot and chat.type != "private":
            raise _bad("message can't be deleted")
        msg.deleted = True
        del chat.by_id[msg.message_id]
        chat.messages.remove(msg)
        if msg.from_bot:
            chat.bot_messages.remove(msg)
        self._bump(chat)
        return True

    def _m_getchat(self, p: _Params) -> dict:
        chat = self._get_chat(p, for_send=False)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
