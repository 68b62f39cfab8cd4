"""Simulated Telegram users and group chats driving the Bot API sandbox.

Obtain them from a running :class:`bot.sandbox.server.BotApiSandbox`::

    u = sandbox.user(1001, "Anna")
    await u.send("/start")
    msg = await u.wait_for("Sveiki")
    await u.press("Latviešu")

Everything runs on the sandbox's event loop; the coroutine methods must be awaited
from that loop (the normal case in pytest-asyncio tests).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .html import utf16_len

if TYPE_CHECKING:  # pragma: no cover
    from .chats import Chat as _Chat
    from .server import BotApiSandbox

__all__ = [
    "Match",
    "SimGroup",
    "SimMessage",
    "SimUser",
    "origin_channel",
    "origin_chat",
    "origin_hidden_user",
    "origin_user",
]

Match = str | Callable[["SimMessage"], Any] | None

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?")


@dataclass(eq=False)
class SimMessage:
    """One message in a sandbox chat (sent by the bot or by a simulated user).

    Bot edits update the object in place (``edited`` counts them).
    """

    chat: _Chat = field(repr=False)
    message_id: int
    date: int
    from_bot: bool
    sender: dict = field(repr=False)
    html: str = ""  # raw text / caption exactly as sent
    text: str = ""  # plain text as a person sees it (tags removed, entities unescaped)
    entities: list[dict] = field(default_factory=list, repr=False)
    parse_mode: str | None = field(default=None, repr=False)
    inline_markup: dict | None = field(default=None, repr=False)  # {"inline_keyboard": ...}
    reply_markup_sent: dict | None = field(default=None, repr=False)  # any markup as sent
    document: tuple[str, bytes] | None = field(default=None, repr=False)
    document_info: dict | None = field(default=None, repr=False)
    location: dict | None = field(default=None, repr=False)
    contact: dict | None = field(default=None, repr=False)
    sticker: dict | None = field(default=None, repr=False)
    edited: int = 0
    edit_date: int | None = field(default=None, repr=False)
    reply_to: SimMessage | None = field(default=None, repr=False)
    deleted: bool = field(default=False, repr=False)
    params: dict = field(default_factory=dict, repr=False)  # other send options (protect_content...)
    forward_origin: dict | None = field(default=None, repr=False)  # a forwarded message's MessageOrigin
    seq: int = field(default=0, repr=False)  # sandbox change sequence of the last create/edit

    @property
    def chat_id(self) -> int:
        return self.chat.id

    @property
    def caption(self) -> str | None:
        return self.text if self.document is not None else None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard as rows of (text, callback_data or url)."""
        if not self.inline_markup:
            return []
        rows = []
        for row in self.inline_markup.get("inline_keyboard", []):
            rows.append(
                [
                    (
                        b.get("text", ""),
                        b.get("callback_data") if "callback_data" in b else b.get("url"),
                    )
                    for b in row
                ]
            )
        return rows

    @property
    def button_labels(self) -> list[str]:
        return [t for row in self.buttons for t, _ in row]

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        """Rows of labels of the ReplyKeyboardMarkup sent with this message, if any."""
        return _keyboard_labels(self.reply_markup_sent)

    @property
    def removes_keyboard(self) -> bool:
        return bool(self.reply_markup_sent and self.reply_markup_sent.get("remove_keyboard"))

    def to_dict(self, *, nested: bool = True) -> dict:
        """The Telegram ``Message`` object for this message."""
        d: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.as_dict(),
            "from": self.sender,
        }
        if self.edit_date is not None:
            d["edit_date"] = self.edit_date
        if self.forward_origin is not None:
            d["forward_origin"] = self.forward_origin
        if self.document_info is not None:
            d["document"] = self.document_info
            if self.text:
                d["caption"] = self.text
                if self.entities:
                    d["caption_entities"] = self.entities
        elif self.location is not None:
            d["location"] = self.location
        elif self.contact is not None:
            d["contact"] = self.contact
        elif self.sticker is not None:
            d["sticker"] = self.sticker
        else:
            d["text"] = self.text
            if self.entities:
                d["entities"] = self.entities
        if self.inline_markup:
            d["reply_markup"] = self.inline_markup
        if nested and self.reply_to is not None:
            d["reply_to_message"] = self.reply_to.to_dict(nested=False)
        return d

    def describe(self) -> str:
        who = "bot" if self.from_bot else "user"
        body = self.text
        if self.document:
            body = f"[document {self.document[0]}] {body}"
        elif self.location:
            body = f"[location {self.location['latitude']},{self.location['longitude']}]"
        elif self.contact:
            body = f"[contact {self.contact['phone_number']}]"
        elif self.sticker:
            body = f"[sticker {self.sticker['emoji']}]"
        if len(body) > 300:
            body = body[:300] + "…"
        extra = ""
        if self.buttons:
            extra = f" buttons={self.button_labels}"
        kb = self.reply_keyboard
        if kb:
            extra += f" reply_keyboard={kb}"
        return f"#{self.message_id} ({who}{', edited' if self.edited else ''}): {body!r}{extra}"


def _keyboard_labels(markup: dict | None) -> list[list[str]] | None:
    if not markup or "keyboard" not in markup:
        return None
    rows = []
    for row in markup["keyboard"]:
        rows.append([b if isinstance(b, str) else b.get("text", "") for b in row])
    return rows


def _clickable(msg: SimMessage, command: str) -> bool:
    """Whether Telegram shows ``command`` in ``msg`` as a clickable command: the whole of a
    ``/command`` token of the text, outside code and pre."""
    for m in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?![\w@])", msg.text):
        if m.group(0) != command:
            continue
        start = utf16_len(msg.text[: m.start()])
        inside_code = any(
            e["type"] in ("code", "pre") and e["offset"] <= start < e["offset"] + e["length"] for e in msg.entities
        )
        if not inside_code:
            return True
    return False


def _command_entities(text: str) -> list[dict]:
    m = _COMMAND_RE.match(text)
    if not m:
        return []
    # length in UTF-16 units == len for the ASCII-only command
    return [{"type": "bot_command", "offset": 0, "length": len(m.group(0))}]


# ---------------------------------------------------------------- forward origins
# The ``forward_origin`` of a forwarded message, one of the Bot API's four MessageOrigin types
# (https://core.telegram.org/bots/api#messageorigin); ``date``: when the original was sent.


def origin_user(user: SimUser | dict, date: int | None = None) -> dict:
    """MessageOriginUser: sent by a known user (or bot), ``user`` a SimUser or a User dict."""
    sender = user.user if isinstance(user, SimUser) else user
    return {"type": "user", "date": int(time.time()) if date is None else date, "sender_user": dict(sender)}


def origin_hidden_user(name: str, date: int | None = None) -> dict:
    """MessageOriginHiddenUser: sent by a user who hides their account in forwards."""
    return {"type": "hidden_user", "date": int(time.time()) if date is None else date, "sender_user_name": name}


def origin_chat(chat_id: int, title: str, date: int | None = None, author_signature: str | None = None) -> dict:
    """MessageOriginChat: sent on behalf of a group chat (``chat_id`` negative)."""
    chat = {"id": chat_id, "type": "supergroup" if chat_id <= -1_000_000_000_000 else "group", "title": title}
    origin: dict[str, Any] = {"type": "chat", "date": int(time.time()) if date is None else date, "sender_chat": chat}
    if author_signature is not None:
        origin["author_signature"] = author_signature
    return origin


def origin_channel(
    chat_id: int,
    title: str,
    message_id: int = 1,
    *,
    username: str | None = None,
    date: int | None = None,
    author_signature: str | None = None,
) -> dict:
    """MessageOriginChannel: a post in a channel (``chat_id`` like -100…)."""
    chat: dict[str, Any] = {"id": chat_id, "type": "channel", "title": title}
    if username is not None:
        chat["username"] = username
    origin: dict[str, Any] = {
        "type": "channel",
        "date": int(time.time()) if date is None else date,
        "chat": chat,
        "message_id": message_id,
    }
    if author_signature is not None:
        origin["author_signature"] = author_signature
    return origin


def _matches(msg: SimMessage, match: Match) -> bool:
    if match is None:
        return True
    if isinstance(match, str):
        return match in msg.text
    return bool(match(msg))


class _Waitable:
    """Shared waiting logic for users and groups."""

    _sandbox: BotApiSandbox

    async def _wait_message(
        self, chat: _Chat | None, since: int, match: Match, timeout: float, what: str
    ) -> SimMessage:
        def find() -> SimMessage | None:
            if chat is None:
                return None
            best: SimMessage | None = None
            for seq, msg in reversed(chat.changes):
                if seq <= since:
                    break
                if msg.deleted or msg.seq != seq:  # only the latest state of each message
                    continue
                if _matches(msg, match):
                    best = msg  # keep going back: return the earliest matching change
            return best

        def failure() -> str:
            recent = chat.bot_messages[-5:] if chat is not None else []
            shown = "\n  ".join(m.describe() for m in recent) or "(no bot messages)"
            return (
                f"{what}: no bot message matching {match!r} after the last action "
                f"within {timeout}s. Last bot messages:\n  {shown}"
            )

        return await self._sandbox._wait_until(find, timeout, failure, chat.signal if chat is not None else None)


class SimUser(_Waitable):
    """A simulated Telegram user talking to the bot in a private chat."""

    def __init__(self, sandbox: BotApiSandbox, user: dict):
        self._sandbox = sandbox
        self.user = user  # Telegram User dict
        self._action_seq = 0
        self._group_action: dict[int, int] = {}

    # ---------------------------------------------------------------- properties
    @property
    def id(self) -> int:
        return self.user["id"]

    @property
    def first_name(self) -> str:
        return self.user["first_name"]

    @property
    def username(self) -> str | None:
        return self.user.get("username")

    @property
    def chat(self) -> _Chat | None:
        return self._sandbox._chats.get(self.id)

    @property
    def started(self) -> bool:
        return self.chat is not None

    @property
    def blocked(self) -> bool:
        return self.id in self._sandbox._blocked

    @property
    def messages(self) -> list[SimMessage]:
        """The bot's messages in this user's private chat, in order (live list)."""
        chat = self.chat
        return chat.bot_messages if chat is not None else []

    @property
    def history(self) -> list[SimMessage]:
        """All messages (user's and bot's) of the private chat."""
        chat = self.chat
        return chat.messages if chat is not None else []

    @property
    def last(self) -> SimMessage | None:
        msgs = self.messages
        return msgs[-1] if msgs else None

    @property
    def reply_keyboard(self) -> list[list[str]] | None:
        chat = self.chat
        return _keyboard_labels(chat.reply_keyboard) if chat is not None else None

    def __repr__(self) -> str:
        return f"SimUser({self.id}, {self.first_name!r})"

    # ---------------------------------------------------------------- actions
    def _private_chat_for_action(self) -> _Chat:
        if self.blocked:
            raise AssertionError(f"{self!r} has blocked the bot and cannot write to it; call unblock() first")
        return self._sandbox._ensure_private_chat(self)

    def _mark_action(self) -> None:
        self._action_seq = self._sandbox._seq

    async def send(self, text: str) -> dict:
        """Write ``text`` in the private chat; returns the user's Message dict."""
        chat = self._private_chat_for_action()
        self._mark_action()
        msg = self._sandbox._add_user_message(chat, self, text=text, entities=_command_entities(text))
        data = msg.to_dict()
        self._sandbox._push_update("message", data)
        return data

    async def send_in_group(self, group: SimGroup, text: str) -> dict:
        chat = group.chat
        self._mark_action()
        group._action_seq = self._sandbox._seq
        msg = self._sandbox._add_user_message(chat, self, text=text, entities=_command_entities(text))
        data = msg.to_dict()
        self._sandbox._push_update("message", data)
        return data

    async def share_location(self, latitude: float, longitude: float) -> dict:
        chat = self._private_chat_for_action()
        self._mark_action()
        msg = self._sandbox._add_user_message(
            chat, self, location={"latitude": float(latitude), "longitude": float(longitude)}
        )
        data = msg.to_dict()
        self._sandbox._push_update("message", data)
        return data

    async def share_contact(
        self,
        phone_number: str,
        own: bool = True,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> dict:
        """Share a contact; ``own`` → the user's own contact (contact.user_id == user id)."""
        chat = self._private_chat_for_action()
        self._mark_action()
        contact: dict[str, Any] = {"phone_number": phone_number}
        if own:
            contact["first_name"] = first_name or self.user["first_name"]
            ln = last_name if last_name is not None else self.user.get("last_name")
            if ln:
                contact["last_name"] = ln
            contact["user_id"] = self.id
        else:
            contact["first_name"] = first_name or "Cits"
            if last_name:
                contact["last_name"] = last_name
            contact["user_id"] = self.id + 7_000_000_000
        msg = self._sandbox._add_user_message(chat, self, contact=contact)
        data = msg.to_dict()
        self._sandbox._push_update("message", data)
        return data

    async def send_sticker(self, emoji: str = "👍") -> dict:
        """Send a (regular, static) sticker in the private chat."""
        chat = self._private_chat_for_action()
        self._mark_action()
        sticker = {
            "file_id": f"sticker-{self.id}",
            "file_unique_id": f"sticker-{self.id}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        msg = self._sandbox._add_user_message(chat, self, sticker=sticker)
        data = msg.to_dict()
        self._sandbox._push_update("message", data)
        return data

    async def forward(self, message: SimMessage) -> dict:
        """Forward ``message`` (one the bot sent, or any other sandbox message) to the bot: its
        content, with a ``forward_origin`` naming its sender (MessageOriginUser; the bot's own
        User for the bot's messages). Inline buttons are not forwarded."""
        return await self._forward(
            origin_user(message.sender, message.date),
            text=message.text,
            entities=list(message.entities),
            document_info=message.document_info,
            location=message.location,
            contact=message.contact,
            sticker=message.sticker,
        )

    async def forward_text(self, text: str, origin: dict, entities: list[dict] | None = None) -> dict:
        """Forward a message with ``text`` that came from ``origin`` (``origin_user(...)``,
        ``origin_hidden_user(...)``, ``origin_chat(...)``, ``origin_channel(...)``): e.g. a fake
        alert someone else wrote."""
        return await self._forward(origin, text=text, entities=list(entities or []))

    async def _forward(self, origin: dict, **content: Any) -> dict:
        chat = self._private_chat_for_action()
        self._mark_action()
        fields = {k: v for k, v in content.items() if v is not None}
        msg = self._sandbox._add_user_message(chat, self, forward_origin=origin, **fields)
        data = msg.to_dict()
        self._sandbox._push_update("message", data)
        return data

    async def tap_command(self, command: str, message: SimMessage | None = None) -> dict:
        """Tap ``command`` (like ``/verify_K7Q2PX``) where it stands in a bot message (``message``,
        else the newest that has it), as Telegram makes it clickable: a command of its own, not
        inside code or pre. Sends it, as Telegram does."""
        candidates = [message] if message is not None else list(reversed(self.messages))
        for msg in candidates:
            if _clickable(msg, command):
                return await self.send(command)
        shown = [m.describe() for m in candidates[:3]]
        raise AssertionError(f"{self!r}: no bot message with a clickable {command!r}; newest: {shown}")

    async def tap_reply_button(self, label: str) -> dict:
        """Tap a button of the currently shown reply keyboard (sends its text)."""
        chat = self.chat
        markup = chat.reply_keyboard if chat is not None else None
        rows = _keyboard_labels(markup)
        labels = [t for row in rows or [] for t in row]
        if label not in labels:
            raise AssertionError(
                f"{self!r}: no reply-keyboard button {label!r}; visible reply keyboard: {rows if rows else 'none'}"
            )
        if chat is not None and markup and markup.get("one_time_keyboard"):
            chat.reply_keyboard = None
        return await self.send(label)

    async def press(self, label_or_data: str, message: SimMessage | int | None = None, *, chat: Any = None) -> str:
        """Tap an inline button; returns the callback query id.

        Searches the given message, or the bot's messages in the private chat (or in
        ``chat``, a SimGroup) from the newest: first for a button whose text or
        callback_data equals ``label_or_data``, then for one whose text contains it.
        """
        target_chat = self._resolve_chat(chat, message)
        if target_chat is None:
            raise AssertionError(f"{self!r} has no chat with the bot; nothing to press")
        if isinstance(message, int):
            found = target_chat.by_id.get(message)
            if found is None or found.deleted:
                raise AssertionError(f"message {message} not found in chat {target_chat.id}")
            candidates = [found]
        elif isinstance(message, SimMessage):
            candidates = [message]
        else:
            candidates = list(reversed(target_chat.bot_messages))

        hit: tuple[SimMessage, dict] | None = None
        for msg in candidates:
            for row in (msg.inline_markup or {}).get("inline_keyboard", []):
                for b in row:
                    if b.get("text") == label_or_data or b.get("callback_data") == label_or_data:
                        hit = (msg, b)
                        break
                if hit:
                    break
            if hit:
                break
        if hit is None:
            needle = label_or_data.casefold()
            for msg in candidates:
                for row in (msg.inline_markup or {}).get("inline_keyboard", []):
                    for b in row:
                        if needle in b.get("text", "").casefold():
                            hit = (msg, b)
                            break
                    if hit:
                        break
                if hit:
                    break
        if hit is None:
            visible = [f"#{m.message_id}: {m.buttons}" for m in candidates[:5] if m.inline_markup]
            raise AssertionError(
                f"{self!r}: no inline button matching {label_or_data!r} in chat {target_chat.id}. "
                f"Visible buttons (newest first): {visible or 'none'}. "
                f"Last bot messages: {[m.describe() for m in target_chat.bot_messages[-3:]]}"
            )
        msg, button = hit
        if "callback_data" not in button:
            raise AssertionError(f"{self!r}: button {button.get('text')!r} is not a callback button ({button})")
        self._mark_action()
        if target_chat.type != "private":
            self._group_action[target_chat.id] = self._action_seq
        return self._sandbox._push_callback(self, msg, button["callback_data"])

    async def forge_callback(self, data: Any, message: SimMessage | None = None, *, chat: Any = None) -> str:
        """A modified client: a tap carrying any ``data`` (even data no button has, or not
        a string), on ``message`` or else the newest bot message in the private chat (or in
        ``chat``, a SimGroup); returns the callback query id."""
        target_chat = self._resolve_chat(chat, message)
        if message is None:
            candidates = target_chat.bot_messages if target_chat is not None else []
            if not candidates:
                raise AssertionError(f"{self!r}: no bot message to attach a forged callback to")
            message = candidates[-1]
        self._mark_action()
        if message.chat.type != "private":
            self._group_action[message.chat.id] = self._action_seq
        return self._sandbox._push_callback(self, message, data)

    async def edit_last(self, text: str) -> dict:
        """Edit the user's own newest message in the private chat to ``text`` (an
        ``edited_message`` update); returns the edited Message dict."""
        chat = self._private_chat_for_action()
        own = [m for m in chat.messages if not m.from_bot and m.text]
        if not own:
            raise AssertionError(f"{self!r} has written nothing to edit")
        msg = own[-1]
        self._mark_action()
        msg.text = msg.html = text
        msg.entities = _command_entities(text)
        msg.edit_date = int(time.time())
        data = msg.to_dict()
        self._sandbox._push_update("edited_message", data)
        return data

    def _resolve_chat(self, chat: Any, message: Any) -> _Chat | None:
        if isinstance(message, SimMessage):
            return message.chat
        if chat is None:
            return self.chat
        if isinstance(chat, SimGroup):
            return chat.chat
        if isinstance(chat, int):
            return self._sandbox._chats.get(chat)
        return chat

    def callback_answer(self, query_id: str) -> dict | None:
        """What the bot answered to the callback query (text, show_alert, url) or None."""
        rec = self._sandbox._callbacks.get(query_id)
        if rec is None or not rec["answered"]:
            return None
        return {"text": rec["text"], "show_alert": rec["show_alert"], "url": rec["url"]}

    async def wait_answered(self, query_id: str, timeout: float = 5.0) -> dict:
        return await self._sandbox._wait_until(
            lambda: self.callback_answer(query_id),
            timeout,
            lambda: f"callback query {query_id} was not answered within {timeout}s",
        )

    async def wait_for(self, match: Match = None, timeout: float = 5.0, *, chat: Any = None) -> SimMessage:
        """Wait for a bot message (new or edited) after the last user action.

        ``match`` is a substring of the plain text or a predicate on SimMessage.
        """
        target = self._resolve_chat(chat, None)
        since = self._action_seq
        if target is not None and target.type != "private":
            since = self._group_action.get(target.id, self._action_seq)
        return await self._wait_message(target, since, match, timeout, repr(self))

    async def wait_for_edit(
        self, message_id: int | SimMessage, match: Match = None, timeout: float = 5.0
    ) -> SimMessage:
        """Wait until the given bot message is edited (after the last action) and matches."""
        mid = message_id.message_id if isinstance(message_id, SimMessage) else message_id
        chat = message_id.chat if isinstance(message_id, SimMessage) else self.chat
        since = self._action_seq

        def find() -> SimMessage | None:
            msg = chat.by_id.get(mid) if chat is not None else None
            if msg is not None and msg.edited and msg.seq > since and _matches(msg, match):
                return msg
            return None

        def failure() -> str:
            msg = chat.by_id.get(mid) if chat is not None else None
            return (
                f"{self!r}: message {mid} was not edited to match {match!r} within {timeout}s; "
                f"now: {msg.describe() if msg else 'missing'}"
            )

        return await self._sandbox._wait_until(find, timeout, failure, chat.signal if chat is not None else None)

    async def wait_no_message(self, timeout: float = 0.5) -> None:
        """Assert that the bot sends/edits nothing in the private chat for ``timeout`` s."""
        since = self._sandbox._seq
        try:
            msg = await self._wait_message(self.chat, since, None, timeout, repr(self))
        except AssertionError:
            return
        raise AssertionError(f"{self!r}: unexpected bot message {msg.describe()}")

    def block(self) -> None:
        self._sandbox.block(self.id)

    def unblock(self) -> None:
        self._sandbox.unblock(self.id)


class SimGroup(_Waitable):
    """A group chat the bot is a member of."""

    def __init__(self, sandbox: BotApiSandbox, chat: _Chat):
        self._sandbox = sandbox
        self.chat = chat
        self._action_seq = 0

    @property
    def id(self) -> int:
        return self.chat.id

    chat_id = id

    @property
    def title(self) -> str:
        return self.chat.title or ""

    @property
    def messages(self) -> list[SimMessage]:
        return self.chat.bot_messages

    @property
    def history(self) -> list[SimMessage]:
        return self.chat.messages

    @property
    def last(self) -> SimMessage | None:
        return self.chat.bot_messages[-1] if self.chat.bot_messages else None

    async def wait_for(self, match: Match = None, timeout: float = 5.0) -> SimMessage:
        """Wait for a bot message in the group after the last user message there."""
        return await self._wait_message(self.chat, self._action_seq, match, timeout, repr(self))

    def block(self) -> None:
        """Kick the bot from the group (sends get 403)."""
        self._sandbox.block(self.id)

    def unblock(self) -> None:
        self._sandbox.unblock(self.id)

    def __repr__(self) -> str:
        return f"SimGroup({self.id}, {self.title!r})"
