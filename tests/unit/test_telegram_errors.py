"""One classification of Telegram's errors (bot/messenger/errors.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.messenger.errors import ErrorKind, classify, is_not_modified


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (BadRequest("Message is not modified: specified new message content is the same"), ErrorKind.NOT_MODIFIED),
        (Forbidden("Forbidden: bot was blocked by the user"), ErrorKind.BLOCKED),
        (BadRequest("Chat not found"), ErrorKind.CHAT_NOT_FOUND),
        (BadRequest("Can't parse entities: unsupported start tag"), ErrorKind.BAD_REQUEST),
        (TimedOut(), ErrorKind.NETWORK),
        (NetworkError("Bad Gateway"), ErrorKind.NETWORK),
        (InvalidToken(), ErrorKind.OTHER),
        (ChatMigrated(42), ErrorKind.OTHER),
    ],
)
def test_each_error_has_its_kind(error, kind):
    assert classify(error).kind == kind
    assert is_not_modified(error) == (kind == ErrorKind.NOT_MODIFIED)


@pytest.mark.parametrize("retry_after", [7, timedelta(seconds=7)])
def test_retry_after_is_seconds_whether_an_int_or_a_timedelta(retry_after):
    failure = classify(RetryAfter(retry_after))
    assert failure.kind == ErrorKind.RETRY_AFTER
    assert failure.retry_after == 7.0


def test_a_network_error_names_its_type():
    assert classify(TimedOut("Timed out")).reason == "TimedOut: Timed out"
