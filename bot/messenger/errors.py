"""How a Telegram error is classified, in one place: the outbox transport, the interactive
rate limiter, the tracking messages and the handlers' edits all ask ``classify``.

Every Bot API call is a POST, so what matters about a failure on the wire is whether the
request may have reached Telegram. The request layer (bot/messenger/http.py and
bot/messenger/requests.py) says so with two ``NetworkError`` subclasses: ``NotSent`` (it
surely did not: no connection could be made, or none was free) and ``ServerError``
(Telegram's side answered 5xx). Any other ``NetworkError`` (a timeout while waiting for
the answer, a connection that broke after the request went out) may have been processed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut


class ErrorKind(StrEnum):
    NOT_MODIFIED = "not_modified"  # an edit to the same content: not an error at all
    RETRY_AFTER = "retry_after"  # 429: everyone waits ``retry_after`` seconds
    BLOCKED = "blocked"  # 403: the person blocked the bot (or never started it)
    CHAT_NOT_FOUND = "chat_not_found"  # 400: no such chat; permanent
    BAD_REQUEST = "bad_request"  # any other 400; permanent
    NOT_SENT = "not_sent"  # no connection to Telegram: surely not sent, passing
    SERVER = "server"  # 5xx from Telegram's side: passing
    NETWORK = "network"  # a timeout or a dropped connection: passing, but it may have arrived
    OTHER = "other"  # invalid token, conflict, chat migrated...: not ours to handle


class NotSent(NetworkError):
    """The request surely did not reach Telegram (connection refused or timed out, no free
    connection): sending it again cannot duplicate anything."""


class NotSentTimeout(NotSent, TimedOut):
    """Timed out connecting, or waiting for a free connection: nothing was sent."""


class ServerError(NetworkError):
    """Telegram (or a gateway in front of it) answered 5xx: it did not carry the request out."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


#: Failures after which a request may be sent again without any risk of a duplicate.
SAFE_TO_RESEND = frozenset({ErrorKind.RETRY_AFTER, ErrorKind.NOT_SENT, ErrorKind.SERVER})
#: Failures that say the Bot API is not usable now (not the request's fault).
UNREACHABLE = frozenset({ErrorKind.NOT_SENT, ErrorKind.SERVER, ErrorKind.NETWORK})


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
    if isinstance(exc, NotSent):
        return TelegramFailure(ErrorKind.NOT_SENT, f"not sent: {exc.message}")
    if isinstance(exc, ServerError):
        return TelegramFailure(ErrorKind.SERVER, exc.message)
    if isinstance(exc, NetworkError):  # TimedOut is one too
        return TelegramFailure(ErrorKind.NETWORK, f"{type(exc).__name__}: {exc.message}")
    return TelegramFailure(ErrorKind.OTHER, exc.message)


def is_not_modified(exc: TelegramError) -> bool:
    """An edit that changed nothing: callers treat it as done."""
    return classify(exc).kind == ErrorKind.NOT_MODIFIED
