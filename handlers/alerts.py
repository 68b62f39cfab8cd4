"""/alert: the guided composer and the one-line form, the preview, and sending.

The draft lives in the coordinator's session (flow ``compose``), so a restart keeps it.
Nothing is sent before the coordinator presses the first button of the preview."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.application.alerting import COMPOSE, Alerting, Author, Drafts
from bot.application.identity import Identity
from bot.domain import places, skills
from bot.domain.alerts import (
    ALL_ABROAD,
    SEVERITIES,
    TEXT_LIMIT,
    Alert,
    AlertDraft,
    Problem,
    parse_one_line,
    parse_respond_by,
)
from bot.i18n import N_, Translator
from bot.logs import event
from bot.messenger.alert_render import (
    SEVERITY_LABELS,
    audience_lines,
    preview_keyboard,
    preview_texts,
)
from bot.messenger.keyboards import Button, columns, inline, paged
from handlers.base import Who, answer_query, coordinator, edit_or_send
from handlers.router import TextRouter

if TYPE_CHECKING:  # the router hands flows a session; its type moves to the domain (bot.domain.sessions)
    from bot.domain.sessions import Session

log = logging.getLogger(__name__)
esc = html.escape
BY_PRESETS = ("30m", "1h", "2h", "4h")

PROBLEMS = {
    "unknown_key": N_("Unknown key “{key}”. Keys: skills, areas, countries, langs, severity, need, drill, by."),
    "unknown_skill": N_("Unknown skill “{value}”. /alert with no text shows the skills to choose from."),
    "unknown_area": N_("Unknown municipality “{value}”. Use an ATVK code or a name, e.g. areas=Ogre."),
    "unknown_country": N_("Unknown country “{value}”. Use codes like GB or IE, or * for everyone abroad."),
    "unknown_language": N_("Unknown language “{value}”: use lv or en."),
    "bad_severity": N_("Severity must be info, urgent or critical, not “{value}”."),
    "bad_need": N_("need must be a whole number above 0, not “{value}”."),
    "bad_drill": N_("drill must be yes or no, not “{value}”."),
    "bad_by": N_("by must be a time like 18:30 or a delay like 90m or 2h, not “{value}”."),
    "no_text": N_("The alert has no text. Write it after the options."),
    "text_too_long": N_("The text is too long: {length} characters, at most {limit}."),
}


def describe_problem(problem: Problem, t: Translator) -> str:
    return t._(PROBLEMS[problem.code], **{k: esc(v) for k, v in problem.values.items()})


# Sends the coordinator the live tracking message of an alert (handlers.coordinator).
ShowTracking = Callable[[Update, Who, Alert], Awaitable[None]]


class Composer:
    def __init__(
        self, identity: Identity, alerting: Alerting, drafts: Drafts, show_tracking: ShowTracking, rate: float
    ) -> None:
        self.identity = identity
        self.alerting = alerting
        self.drafts = drafts
        self.show_tracking = show_tracking
        self.rate = rate  # the broadcast's messages per second, for the delivery time

    async def _coordinator(self, update: Update) -> Who | None:
        return await coordinator(
            self.identity,
            update,
            N_("Sorry, only coordinators can send alerts. If you should be one, ask your organisation."),
        )

    # ----- entry ------------------------------------------------------------------

    async def alert(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        text = update.effective_message.text or ""
        args = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
        if not args.strip():
            await self.drafts.compose(w.address, AlertDraft(), "menu")
            await self.show_menu(update, w, AlertDraft(), new=True)
            return
        draft, problems = parse_one_line(args, datetime.now(UTC))
        if draft is None:
            lines = [w.t._("Nothing was sent:")] + [f"• {describe_problem(p, w.t)}" for p in problems]
            await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")
            return
        await self.drafts.compose(w.address, draft, "preview")
        await self.show_preview(update, w, draft)

    # ----- the menu and its views ------------------------------------------------------

    def _draft(self, session: Session) -> AlertDraft:
        return self.drafts.draft_of(session)

    async def _save(self, w: Who, session: Session, draft: AlertDraft, step: str | None = None) -> None:
        await self.drafts.save(w.address, session, draft, step)

    def summary(self, draft: AlertDraft, t: Translator) -> str:
        a = draft.audience
        skill_names = [s.label(t.lang) for s in skills.skills() if s.code in a.skills]
        area_names = [m.name(t.lang) for m in places.municipalities() if m.atvk in a.areas]
        abroad = [t._("everyone abroad") if c == ALL_ABROAD else t.country(c) for c in a.countries]
        where = ", ".join(area_names + abroad) or t._("anywhere")
        icon, label = SEVERITY_LABELS[draft.severity]
        lines = [
            t._("<b>New alert</b>"),
            t._("Skills: {skills}", skills=esc(", ".join(skill_names)) or t._("any")),
            t._("Where: {place}", place=esc(where)),
            t._("Languages: {langs}", langs=", ".join(a.langs) or t._("all")),
            t._("Severity: {severity}", severity=f"{icon} {t._(label)}"),
            t._("Needed: {need}", need=draft.need or "—"),
            t._("Answer by: {time}", time=t.datetime(draft.respond_by) if draft.respond_by else "—"),
            t._("Drill: {drill}", drill=t._("yes") if draft.drill else t._("no")),
        ]
        if draft.text_lv:
            lines.append(t._("Text (lv): {text}", text=esc(_short(draft.text_lv))))
        if draft.text_en:
            lines.append(t._("Text (en): {text}", text=esc(_short(draft.text_en))))
        if not draft.has_text:
            lines.append(t._("Text: {text}", text="—"))
        return "\n".join(lines)

    def menu_keyboard(self, draft: AlertDraft, t: Translator) -> InlineKeyboardMarkup:
        a = draft.audience
        rows: list[list[Button]] = [
            [
                (t._("🛠 Skills ({n})", n=len(a.skills)), "cmp:v:skills"),
                (t._("📍 Areas ({n})", n=len(a.areas)), "cmp:v:areas"),
            ],
            [(t._("🌍 Abroad ({n})", n=len(a.countries)), "cmp:v:abroad"), (t._("🗣 Languages"), "cmp:v:langs")],
            [(t._("📝 Text"), "cmp:text"), (t._("⚠️ Severity"), "cmp:sev")],
            [(t._("👥 Needed"), "cmp:need"), (t._("⏰ Answer by"), "cmp:v:by")],
            [(t._("🧪 Drill: yes") if draft.drill else t._("🧪 Drill: no"), "cmp:drill")],
            [(t._("👁 Preview"), "cmp:preview"), (t._("✖️ Cancel"), "cmp:cancel")],
        ]
        return inline(rows)

    async def show_menu(self, update: Update, w: Who, draft: AlertDraft, new: bool = False) -> None:
        audience = await self.alerting.audience_of(draft)
        text = self.summary(draft, w.t) + "\n\n" + audience_lines(audience, w.t, self.rate)
        markup = self.menu_keyboard(draft, w.t)
        if new or update.callback_query is None:
            await update.effective_chat.send_message(text, parse_mode="HTML", reply_markup=markup)
        else:
            await edit_or_send(update, text, markup)

    async def view(self, update: Update, w: Who, draft: AlertDraft, name: str, page: int = 0) -> None:
        t, a = w.t, draft.audience
        back = [(t._("⬅️ Back"), "cmp:menu")]
        rows: list[list[Button]]
        if name == "skills":
            rows = [
                [(("✅ " if s.code in a.skills else "") + s.label(t.lang), f"cmp:sk:{s.code}")] for s in skills.skills()
            ]
            title = t._("Which skills? Nothing chosen means any.")
        elif name == "areas":
            buttons = [
                (("✅ " if m.atvk in a.areas else "") + m.name(t.lang), f"cmp:ar:{m.atvk}:{page}")
                for m in places.municipalities()
            ]
            rows, _ = paged(buttons, page, 10, "cmp:arp")
            title = t._("Which municipalities? Nothing chosen (and no one abroad) means everywhere.")
        elif name == "abroad":
            present = await self.alerting.countries_abroad()
            codes = list(dict.fromkeys([c for c in places.DIASPORA_COUNTRIES[:9]] + present))
            buttons = [(("✅ " if c in a.countries else "") + t.country(c), f"cmp:co:{c}") for c in codes]
            rows = [
                [(("✅ " if ALL_ABROAD in a.countries else "") + t._("Everyone abroad"), f"cmp:co:{ALL_ABROAD}")],
                *columns(buttons, 3),
            ]
            title = t._("People abroad: everyone, or in which countries?")
        elif name == "langs":
            rows = [
                [
                    (("✅ " if lang in a.langs else "") + label, f"cmp:lg:{lang}")
                    for lang, label in (("lv", "Latviešu"), ("en", "English"))
                ]
            ]
            title = t._("Which languages? Nothing chosen means all.")
        else:  # by
            rows = [[(p, f"cmp:by:{p}") for p in BY_PRESETS], [(t._("No deadline"), "cmp:by:none")]]
            title = t._("Answers needed by when? Choose, or type a time like 18:30.")
        rows.append(back)
        await edit_or_send(update, self.summary(draft, t) + "\n\n" + title, inline(rows))

    # ----- buttons ----------------------------------------------------------------

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        t = w.t
        session = await self.drafts.current(w.address)
        if session is None or session.flow != COMPOSE:
            await answer_query(update, t._("This draft is gone. Send /alert to start again."), alert=True)
            return
        parts = update.callback_query.data.split(":")
        action = parts[1]
        draft = self._draft(session)
        a = draft.audience
        await answer_query(update)
        if action == "menu":
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft)
        elif action == "v":
            await self._save(w, session, draft, "by" if parts[2] == "by" else "menu")
            await self.view(update, w, draft, parts[2])
        elif action in ("sk", "ar", "co", "lg"):
            value = parts[2]
            target = {"sk": a.skills, "ar": a.areas, "co": a.countries, "lg": a.langs}[action]
            if value in target:
                target.remove(value)
            else:
                target.append(value)
            await self._save(w, session, draft)
            view = {"sk": "skills", "ar": "areas", "co": "abroad", "lg": "langs"}[action]
            await self.view(update, w, draft, view, page=int(parts[3]) if action == "ar" and len(parts) > 3 else 0)
        elif action == "arp":
            await self.view(update, w, draft, "areas", page=int(parts[2]))
        elif action == "sev":
            draft.severity = SEVERITIES[(SEVERITIES.index(draft.severity) + 1) % len(SEVERITIES)]
            await self._save(w, session, draft)
            await self.show_menu(update, w, draft)
        elif action == "drill":
            draft.drill = not draft.drill
            await self._save(w, session, draft)
            await self.show_menu(update, w, draft)
        elif action == "by":
            value = parts[2]
            draft.respond_by = None if value == "none" else parse_respond_by(value, datetime.now(UTC))
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft)
        elif action == "text":
            await self._save(w, session, draft, "text_lv")
            await edit_or_send(
                update,
                t._(
                    "Type the alert text in Latvian (or one text for everyone). At most {limit} characters.",
                    limit=TEXT_LIMIT,
                ),
            )
        elif action == "same":
            draft.text_en = None
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft)
        elif action == "need":
            await self._save(w, session, draft, "need")
            await edit_or_send(
                update, t._("How many people are needed? Type a number."), inline([[(t._("No limit"), "cmp:noneed")]])
            )
        elif action == "noneed":
            draft.need = None
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft)
        elif action == "preview":
            await self._save(w, session, draft, "preview")
            await self.show_preview(update, w, draft)
        elif action == "send":
            await self.send(update, w, session, draft)
        elif action == "cancel":
            await self.drafts.discard(w.address)
            await edit_or_send(update, t._("The draft was discarded. Nothing was sent."))

    async def show_preview(self, update: Update, w: Who, draft: AlertDraft) -> None:
        t = w.t
        if not draft.has_text:
            await update.effective_chat.send_message(t._("The alert has no text yet: tap 📝 Text first."))
            return
        audience = await self.alerting.audience_of(draft)
        if not audience.recipients:
            await self.drafts.compose(w.address, draft, "menu")
            await update.effective_chat.send_message(
                t._("Nobody matches this audience, so nothing can be sent. Change the audience:")
                + "\n\n"
                + audience_lines(audience, t, self.rate),
                parse_mode="HTML",
                reply_markup=self.menu_keyboard(draft, t),
            )
            return
        author = self.author(w, update)
        texts = preview_texts(draft, audience, author.name, author.organisation, t, "Europe/Riga", self.rate)
        for text in texts[:-1]:
            await update.effective_chat.send_message(text, parse_mode="HTML")
        await update.effective_chat.send_message(
            texts[-1], parse_mode="HTML", reply_markup=preview_keyboard(len(audience.recipients), t)
        )

    def author(self, w: Who, update: Update) -> Author:
        return self.alerting.author_of(w.person, update.effective_user.full_name)

    async def send(self, update: Update, w: Who, session: Session, draft: AlertDraft) -> None:
        t = w.t
        if session.step != "preview":
            await update.effective_chat.send_message(t._("Please look at the preview first."))
            return
        await self.drafts.discard(w.address)  # a second press cannot send twice
        author = self.author(w, update)
        sent = await self.alerting.send_alert(
            draft, author=w.address, author_name=author.name, organisation=author.organisation, author_language=w.lang
        )
        if update.callback_query is not None:
            try:  # the preview's buttons go; the alert is out whether or not Telegram hears of it now
                await update.callback_query.edit_message_reply_markup(None)
            except TelegramError as exc:
                event(log, "preview_buttons_kept", alert=sent.alert.id, error=type(exc).__name__)
        await self.show_tracking(update, w, sent.alert)  # shown once Telegram is reachable, if not now

    # ----- typed input ------------------------------------------------------------

    async def on_input(self, update: Update, w: Who, session: Session) -> None:
        t = w.t
        msg = update.effective_message
        text = (msg.text or "").strip()
        draft = self._draft(session)
        if not self.identity.is_coordinator(w.address):
            await self.drafts.discard(w.address)
            return
        if session.step in ("text_lv", "text_en"):
            if not text:
                await msg.reply_text(t._("Please type the text of the alert."))
                return
            if len(text) > TEXT_LIMIT:
                await msg.reply_text(
                    t._(
                        "The text is too long: {length} characters, at most {limit}.",
                        length=len(text),
                        limit=TEXT_LIMIT,
                    )
                )
                return
            if session.step == "text_lv":
                draft.text_lv = text
                await self._save(w, session, draft, "text_en")
                await msg.reply_text(
                    t._("Now the English version, or use the same text for everyone."),
                    reply_markup=inline([[(t._("Same text for everyone"), "cmp:same")]]),
                )
                return
            draft.text_en = text
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft, new=True)
        elif session.step == "need":
            if not text.isdigit() or int(text) <= 0:
                await msg.reply_text(t._("Please type a whole number above 0."))
                return
            draft.need = int(text)
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft, new=True)
        elif session.step == "by":
            when = parse_respond_by(text, datetime.now(UTC))
            if when is None:
                await msg.reply_text(t._("Please type a time like 18:30, or a delay like 90m or 2h."))
                return
            draft.respond_by = when
            await self._save(w, session, draft, "menu")
            await self.show_menu(update, w, draft, new=True)
        else:
            await msg.reply_text(t._("Use the buttons of the draft above, or /cancel to discard it."))


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def register(
    app: Application,
    identity: Identity,
    alerting: Alerting,
    drafts: Drafts,
    router: TextRouter,
    show_tracking: ShowTracking,
    rate: float,
) -> None:
    c = Composer(identity, alerting, drafts, show_tracking, rate)
    app.add_handler(CommandHandler("alert", c.alert, filters=filters.ChatType.PRIVATE))
    app.add_handler(CallbackQueryHandler(c.on_button, pattern=r"^cmp:"))
    router.add_flow(COMPOSE, c.on_input, cancelled=N_("The draft was discarded. Nothing was sent."))
