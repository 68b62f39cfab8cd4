"""``/verify CODE``, ``/verify_CODE`` (the clickable line of every alert) and alerts forwarded
to the bot: whether Sauciens sent it, and if so what the alert said, so the person can compare
(``bot.application.verification``)."""

from __future__ import annotations

import math

from telegram import (
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)
from telegram.ext import CommandHandler, ContextTypes, MessageHandler, filters

from bot.application.identity import Identity
from bot.application.verification import Check, Finding, Verification
from bot.domain.alerts import Alert
from bot.domain.people import LATVIA_TZ
from bot.domain.verification import COMMAND, verify_command
from bot.i18n import Translator
from bot.messenger.alert_render import SEVERITY_LABELS, esc, when_in
from handlers.base import App, message_of, who

FIRST_LINE_SHOWN = 200  # characters of an alert's first line in the answer
TYPED_SHOWN = 24  # characters of a code that is not ours, repeated in the answer


def first_line(text: str) -> str:
    line = next((part.strip() for part in text.strip().splitlines() if part.strip()), "")
    return line if len(line) <= FIRST_LINE_SHOWN else line[: FIRST_LINE_SHOWN - 1] + "…"


def ask_whom(t: Translator) -> str:
    return t._(
        "Do not act on it until you have checked: ask the organisation named in it through a channel you already"
        " know (its website, or a phone number you trust)."
    )


def genuine_text(alert: Alert, t: Translator, *, forwarded: bool) -> str:
    d = alert.draft
    icon, label = SEVERITY_LABELS[d.severity]
    severity = f"{icon} {t._(label)}"
    if d.drill:
        severity += " · " + t._("🧪 EXERCISE, not a real emergency")
    lines = [
        t._("✅ <b>Genuine: Sauciens sent this message.</b>")
        if forwarded
        else t._("✅ <b>Genuine: Sauciens sent an alert with this code.</b>"),
        t._("Code: {code} · alert #{id}", code=alert.verify_code or "—", id=alert.id),
        t._("Organisation: {organisation}", organisation=esc(alert.organisation) or "—"),
        t._("Coordinator: {name}", name=esc(alert.author_name)),
        t._("Sent: {time}", time=when_in(alert.created_at, t, LATVIA_TZ, always=True)),
        t._("Severity: {severity}", severity=severity),
    ]
    texts = [(lang, first_line(text)) for lang, text in d.texts.items() if text.strip()]
    if len(texts) == 1:
        lines.append(t._("First line: “{line}”", line=esc(texts[0][1])))
    else:
        lines += [
            t._("First line ({language}): “{line}”", language=t.language(lang), line=esc(line)) for lang, line in texts
        ]
    if not alert.open:
        lines.append(t._("🔒 This alert is closed."))
    lines += ["", t._("Compare this with the message you were shown: if anything differs, do not trust it.")]
    return "\n".join(lines)


def origin_name(origin: MessageOrigin, t: Translator) -> str:
    """Whom a forwarded message came from, as the person knows them."""
    if isinstance(origin, MessageOriginUser):
        return esc(origin.sender_user.full_name)
    if isinstance(origin, MessageOriginHiddenUser):
        return t._("an account that hides its name ({name})", name=esc(origin.sender_user_name))
    if isinstance(origin, MessageOriginChannel):
        return t._("the channel “{title}”", title=esc(origin.chat.title or ""))
    if isinstance(origin, MessageOriginChat):
        return t._("the group “{title}”", title=esc(origin.sender_chat.title or ""))
    return t._("someone else")


def answer_text(
    check: Check, t: Translator, *, typed: str = "", forwarded_from: str | None = None, bot_username: str = ""
) -> str:
    """The answer to a code (``typed``: as the person wrote it) or to a forwarded message
    (``forwarded_from``: whom it came from, ``bot_username``: this bot's)."""
    if check.finding is Finding.GENUINE:
        assert check.alert is not None
        return genuine_text(check.alert, t, forwarded=forwarded_from is not None)
    if check.finding is Finding.TRY_LATER:
        minutes = max(1, math.ceil(check.retry_in / 60))
        return t.n_(
            "🕐 You have tried several codes that are not ours. Please try again in {n} minute.",
            "🕐 You have tried several codes that are not ours. Please try again in {n} minutes.",
            minutes,
        )
    if check.finding is Finding.NOT_FROM_US:
        lines = [
            t._("⚠️ <b>This message was not sent by Sauciens.</b>"),
            t._(
                "It was forwarded from {origin}, not from this bot (@{bot}): only messages from this bot are"
                " Sauciens alerts.",
                origin=forwarded_from or t._("someone else"),
                bot=esc(bot_username),
            ),
            ask_whom(t),
        ]
        if check.code is not None:
            lines.append(
                t._(
                    "It carries the code {command}: tap it to see what the alert with that code says, and compare.",
                    command=verify_command(check.code),
                )
            )
        return "\n\n".join(lines)
    if check.finding is Finding.OUR_MESSAGE:
        return t._("✅ Sauciens sent this message, but it carries no alert's code, so there is nothing more to check.")
    shown = typed.strip()[:TYPED_SHOWN]
    return "\n\n".join(
        [
            t._("❌ <b>Not ours: the code {code} was not issued by Sauciens.</b>", code=esc(shown)),
            t._("No alert sent through this bot has it: a message that shows it did not come from Sauciens.")
            + " "
            + ask_whom(t),
        ]
    )


USAGE_EXAMPLE = "K7Q2PX"


class Verify:
    def __init__(self, identity: Identity, verification: Verification) -> None:
        self.identity = identity
        self.verification = verification

    async def on_verify(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/verify CODE``."""
        w = await who(self.identity, update)
        if not context.args:
            text = w.t._(
                "Send the code from the alert, like /{command} {example}, or tap its line {line}. You can also"
                " forward the alert to me.",
                command=COMMAND,
                example=USAGE_EXAMPLE,
                line=verify_command(USAGE_EXAMPLE),
            )
            await message_of(update).reply_text(text)
            return
        typed = "".join(context.args)[:64]  # "K7Q 2PX" too
        check = await self.verification.check_code(w.address, typed)
        await message_of(update).reply_text(answer_text(check, w.t, typed=typed), parse_mode="HTML")

    async def on_verify_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/verify_CODE``: the line of an alert, tapped (or typed)."""
        w = await who(self.identity, update)
        typed = (message_of(update).text or "").split()[0]
        check = await self.verification.check_code(w.address, typed)
        shown = typed.split("_", 1)[1].split("@", 1)[0] or typed  # the code, as typed
        await message_of(update).reply_text(answer_text(check, w.t, typed=shown), parse_mode="HTML")

    async def on_forwarded(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A forwarded message, whatever flow the person is in: genuine only if it came from this bot."""
        message = message_of(update)
        origin = message.forward_origin
        assert origin is not None, "registered for forwarded messages only"
        w = await who(self.identity, update)
        from_this_bot = isinstance(origin, MessageOriginUser) and origin.sender_user.id == context.bot.id
        check = await self.verification.check_forwarded(
            w.address, from_this_bot=from_this_bot, text=message.text or message.caption or ""
        )
        text = answer_text(check, w.t, forwarded_from=origin_name(origin, w.t), bot_username=context.bot.username or "")
        await message.reply_text(text, parse_mode="HTML")


def register(app: App, identity: Identity, verification: Verification) -> None:
    """Before the flows' typed input (a forward is never input) and the unknown-command handler."""
    v = Verify(identity, verification)
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.FORWARDED, v.on_forwarded))
    app.add_handler(CommandHandler(COMMAND, v.on_verify, filters=private))
    app.add_handler(MessageHandler(private & filters.Regex(rf"(?i)^/{COMMAND}_\S*"), v.on_verify_command))
