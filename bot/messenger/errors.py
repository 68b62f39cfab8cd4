"""How a Telegram error is classified, in one place: the outbox transport, the interactive
rate limiter, the tracking messages and the handlers' edits all ask ``classify``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError


class ErrorKind(StrEnum):
    NOT_MODIFIED = "not_modified"  # an edit to the same content: not an error at all
    RETRY_AFTER = "retry_after"  # 429: everyone waits ``retry_after`` seconds
    BLOCKED = "blocked"  # 403: the person blocked the bot (or never started it)
    CHAT_NOT_FOUND = "chat_not_found"  # 400: no such chat; permanent
    BAD_REQUEST = "bad_request"  # any other 400; permanent
    NETWORK = "network"  # 5xx, a timeout, a dropped connection: passing, try again
    OTHER = "other"  # invalid token, conflict, chat migrated...: not ours to handle


@dataclass(frozen=True)
class TelegramFailure:
    kind: ErrorKind
    reason: str
    retry_after: float = 0.0  # seconds, for RETRY_AFTER


def seconds(value: int | float | timedelta) -> float:
    """``RetryAfter.retry_after``: an int of seconds, or a timedelta in newer PTB versions."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: TelegramError) -> TelegramFailure:
    if isinstance(exc, RetryAfter):
        return TelegramFailure(ErrorKind.RETRY_AFTER, exc.message, seconds(exc.retry_after))
    if isinstance(exc, Forbidden):
        return TelegramFailure(ErrorKind.BLOCKED, exc.message)
    if isinstance(exc, BadRequest):  # a NetworkError subclass in PTB, so before it
        text = exc.message.lower()
        if "not modified" in text:
            return TelegramFailure(ErrorKind.NOT_MODIFIED, exc.message)
        if "chat not found" in text:
            return TelegramFailure(ErrorKind.CHAT_NOT_FOUND, exc.message)
        return TelegramFailure(ErrorKind.BAD_REQUEST, exc.message)
    if isinstance(exc, NetworkError):  # TimedOut is one too
        return TelegramFailure(ErrorKind.NETWORK, f"{type(exc).__name__}: {exc.message}")
    return TelegramFailure(ErrorKind.OTHER, exc.message)


def is_not_modified(exc: TelegramError) -> bool:
    """An edit that changed nothing: callers treat it as done."""
    return classify(exc).kind == ErrorKind.NOT_MODIFIED
