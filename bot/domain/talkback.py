"""Talk-back: a volunteer's message to the coordinator of an alert they received, and the
coordinator's reply. Plain data; the rules are in ``bot.application.talkback``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.people import Address

TEXT_MAX = 3000  # a message's text, so that it fits one Telegram message with its heading


class Direction(StrEnum):
    """The values of ``messages.direction``."""

    IN = "in"  # from the volunteer to the coordinator
    OUT = "out"  # the coordinator's reply to the volunteer


@dataclass(frozen=True)
class ReceivedAlert:
    """An open alert a person received: whom a message about it goes to."""

    alert_id: int
    coordinator: Address
    coordinator_name: str
    coordinator_language: str
    text: str  # the alert's text in the person's language, for a button's label


@dataclass(frozen=True)
class TalkMessage:
    id: int
    alert_id: int
    direction: Direction
    volunteer: Address
    volunteer_name: str | None  # None once the person has left (their rows are deleted then)
    coordinator: Address
    coordinator_name: str
    text: str
    created_at: datetime


def clean_text(text: str) -> str | None:
    """A message as it is sent on: trimmed; None when empty or too long."""
    text = text.strip()
    return text if text and len(text) <= TEXT_MAX else None
