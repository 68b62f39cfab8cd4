"""In group chats the bot registers no one: it asks people to write to it privately."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.i18n import normalise_language, translator
from handlers.base import App, message_of


async def ask_to_write_privately(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    t = translator(normalise_language(user.language_code if user else None))
    link = f"https://t.me/{context.bot.username}?start=join"
    await message_of(update).reply_text(
        t._("Please write to me privately: registration and alerts happen in a private chat."),
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(t._("Open a private chat"), url=link)]]),
    )


def register(app: App) -> None:
    groups = filters.ChatType.GROUPS
    app.add_handler(MessageHandler(groups & filters.COMMAND, ask_to_write_privately))
