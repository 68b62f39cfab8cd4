"""Bot API calls whose answer the bot does not read (beyond a message's id).

python-telegram-bot parses every answer into objects: for ``editMessageText`` and
``sendMessage`` that is the whole Message with its keyboard, about a sixth of the CPU a
button tap costs in a burst and almost half of what a broadcast message costs the sender at
1,000 a second (bench/README.md). ``edit_text`` and ``send_text`` call the method through
``Bot.do_api_request`` and leave the answer as JSON; they still go through the bot's rate
limiter (if it has one) and PTB's error mapping (``BadRequest``, ``RetryAfter``, ...).

The method names are written in lower case on purpose: Bot API method names are
case-insensitive, and PTB warns when ``do_api_request`` is given the name of a method it
wraps itself (``editMessageText``)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from bot.messenger.errors import is_not_modified

EDIT_MESSAGE_TEXT = "editmessagetext"
SEND_MESSAGE = "sendmessage"


async def edit_text(bot: Bot, chat_id: int, message_id: int, text: str, reply_markup: str | None = None) -> None:
    """Replace a message's HTML text and its inline keyboard (``reply_markup``: the
    keyboard as JSON; None removes it). Editing to the same content is not an error."""
    kwargs: dict[str, object] = {"chat_id": chat_id, "message_id": message_id, "text": text, "parse_mode": "HTML"}
    if reply_markup is not None:
        kwargs["reply_markup"] = reply_markup
    try:
        await bot.do_api_request(EDIT_MESSAGE_TEXT, api_kwargs=kwargs)
    except TelegramError as exc:
        if not is_not_modified(exc):
            raise


async def send_text(
    bot: Bot, chat_id: int, text: str, reply_markup: str | None = None, *, paid: bool = False
) -> int | None:
    """Send an HTML message (``reply_markup``: an inline keyboard as JSON; ``paid``: with
    ``allow_paid_broadcast``); returns its message id (None if Telegram's answer has none)."""
    kwargs: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": "HTML"}
    if reply_markup is not None:
        kwargs["reply_markup"] = reply_markup
    if paid:
        kwargs["allow_paid_broadcast"] = True
    answer = await bot.do_api_request(SEND_MESSAGE, api_kwargs=kwargs)
    message_id = answer.get("message_id") if isinstance(answer, dict) else None
    return message_id if isinstance(message_id, int) else None
