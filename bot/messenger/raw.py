"""Bot API calls whose answer the bot does not read.

python-telegram-bot parses every answer into objects: for ``editMessageText`` that is the
whole edited Message with its keyboard, about a sixth of the CPU a button tap costs in a
burst (bench/README.md). ``edit_text`` calls the method through ``Bot.do_api_request`` and
leaves the answer as JSON; it still goes through the bot's rate limiter and error mapping
(``BadRequest``, ``RetryAfter``, ...).

The method name is written in lower case on purpose: Bot API method names are
case-insensitive, and PTB warns when ``do_api_request`` is given the name of a method it
wraps itself (``editMessageText``)."""

from __future__ import annotations

from telegram import Bot
from telegram.error import TelegramError

from bot.messenger.errors import is_not_modified

EDIT_MESSAGE_TEXT = "editmessagetext"


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
