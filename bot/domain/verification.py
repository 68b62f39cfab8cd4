"""Verifiable alerts: every alert carries a code (``K7Q2PX``: six characters from A–Z and 2–9),
shown as the command ``/verify_K7Q2PX``, with which anyone can ask the bot whether the alert
is genuine; and the limit on guessing codes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789"  # no 0 or 1, which read like O and I
LENGTH = 6
COMMAND = "verify"  # /verify CODE, and /verify_CODE (a command Telegram makes clickable)
_CODE = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")
# a code written as a command: in an alert's text, or typed (Telegram may add @botname)
_IN_TEXT = re.compile(rf"/{COMMAND}_([A-Za-z0-9]{{{LENGTH}}})(?![A-Za-z0-9_])")
_TYPED = re.compile(rf"^/?{COMMAND}_", re.IGNORECASE)


def new_verify_code() -> str:
    """A fresh random code (uniqueness is the database's: ``alerts.verify_code`` has a unique index)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def is_verify_code(code: str) -> bool:
    return _CODE.fullmatch(code) is not None


def verify_command(code: str) -> str:
    """``/verify_K7Q2PX``."""
    return f"/{COMMAND}_{code}"


def read_code(typed: str) -> str | None:
    """The code someone typed, in any case, bare or as ``/verify_CODE`` (``@botname`` after it
    too), or None when it is not a code at all."""
    value = _TYPED.sub("", typed.strip()).split("@", 1)[0].strip().upper()
    return value if is_verify_code(value) else None


def code_in_text(text: str) -> str | None:
    """The code of the first ``/verify_CODE`` in an alert's text, or None."""
    m = _IN_TEXT.search(text)
    if m is None:
        return None
    code = m.group(1).upper()
    return code if is_verify_code(code) else None


@dataclass(frozen=True)
class GuessLimit:
    """How many codes that are not ours one person may try: at most ``guesses`` within
    ``window_seconds``; then they are asked to try later."""

    guesses: int
    window_seconds: float

    def allows(self, recent: int) -> bool:
        """Whether someone with ``recent`` codes that were not ours in the window may try another."""
        return recent < self.guesses


GUESS_LIMIT = GuessLimit(guesses=5, window_seconds=600.0)  # the rule, with its numbers in one place
