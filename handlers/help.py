"""/help: the commands for the person's role."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.identity import Identity
from bot.i18n import N_
from handlers.base import App, message_of, who

VOLUNTEER_COMMANDS = (
    ("start", N_("join, or see that you are registered")),
    ("profile", N_("see and change your details")),
    ("language", N_("change the language")),
    ("pause", N_("pause alerts (optionally until a date)")),
    ("resume", N_("receive alerts again")),
    ("mydata", N_("get everything stored about you as a file")),
    ("forget", N_("erase everything about you")),
    ("cancel", N_("stop what you are doing")),
    ("help", N_("this list")),
)
COORDINATOR_COMMANDS = (
    ("alert", N_("compose an alert, or /alert key=value… TEXT in one line")),
    ("alerts", N_("open alerts")),
    ("status", N_("ID: the tally of an alert")),
    ("remind", N_("ID: remind those who have not answered")),
    ("followup", N_("ID TEXT: write to those who accepted")),
    ("close", N_("ID: close an alert")),
    ("export", N_("ID: the answers as a CSV file")),
    ("messages", N_("ID: volunteers' messages about an alert, and the replies")),
)


class Help:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    async def help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        t = w.t
        lines = [t._("<b>What I can do</b>")]
        lines += [f"/{cmd} — {t._(text)}" for cmd, text in VOLUNTEER_COMMANDS]
        if self.identity.is_coordinator(w.address):
            lines.append("")
            lines.append(t._("<b>For coordinators</b>"))
            lines += [f"/{cmd} — {t._(text)}" for cmd, text in COORDINATOR_COMMANDS]
        await message_of(update).reply_text("\n".join(lines), parse_mode="HTML")


def register(app: App, identity: Identity) -> None:
    app.add_handler(CommandHandler("help", Help(identity).help, filters=filters.ChatType.PRIVATE))
