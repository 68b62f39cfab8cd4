"""Chat state: one chat's messages, its reply keyboard, its flood bucket and a signal that
wakes whoever waits for the bot to write there."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from .limits import Bucket

if TYPE_CHECKING:
    from .users import SimMessage


class Signal:
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


class Chat:
    """State of one chat (private chat with a user, or a group)."""

    def __init__(self, chat_id: int, type_: str, bucket: Bucket, blocked: set[int], **info: Any):
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
        self.bucket = bucket  # the chat's flood limit
        self.reply_keyboard: dict | None = None
        self.signal = Signal()  # fired when a bot message here is created/edited/deleted
        self._blocked = blocked  # the sandbox's set of blocked chat ids
        self._dict: dict | None = None

    @property
    def blocked(self) -> bool:
        return self.id in self._blocked

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
        return f"Chat({self.id}, {self.type})"
