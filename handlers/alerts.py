"""/alert: the guided composer and the one-line form, the preview, and sending.

The rules (steps, texts, checks, preview before send) are ``bot.application.composer``'s;
this module reads the update, calls one of its operations and renders what it returns."""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler, ContextTypes, filters

from bot.application.alerting import COMPOSE
from bot.application.composer import BY_PRESETS, Composer, Screen, Shown, View
from bot.application.identity import Identity
from bot.domain import skills
from bot.domain.alerts import TEXT_LIMIT, Alert, AlertDraft, Audience, Problem, Severity
from bot.domain.people import ALL_ABROAD, LATVIA_TZ
from bot.i18n import N_, Translator, language_codes, language_name
from bot.logs import event
from bot.messenger.alert_render import (
    SEVERITY_LABELS,
    audience_lines,
    count_line,
    definition_lines,
    named_places,
    preview_keyboard,
    preview_texts,
)
from bot.messenger.approval import when
from bot.messenger.keyboards import Button, inline, paged
from bot.messenger.render import municipality_name
from handlers import callbacks
from handlers.base import (
    App,
    Who,
    answer_query,
    chat_of,
    coordinator,
    edit_markup,
    edit_or_send,
    message_of,
    user_of,
)
from handlers.callbacks import ComposerButton
from handlers.router import TextRouter

if TYPE_CHECKING:  # the router hands flows a session; its type moves to the domain (bot.domain.sessions)
    from bot.domain.sessions import Session

log = logging.getLogger(__name__)
esc = html.escape

PROBLEMS = {
    "unknown_key": N_("Unknown key “{key}”. Keys: skills, areas, countries, langs, severity, need, drill, by."),
    "unknown_skill": N_("Unknown skill “{value}”. /alert with no text shows the skills to choose from."),
    "unknown_area": N_("Unknown municipality “{value}”. Use an ATVK code or a name, e.g. areas=Ogre."),
    "unknown_country": N_("Unknown country “{value}”. Use codes like GB or IE, or * for everyone abroad."),
    "keys_in_text": N_(
        "The text contains {keys}: options go before the text, and a value with spaces goes in quotes, "
        'e.g. areas="Cēsu novads",Ogre skills=first_aid Text.'
    ),
    "past_by": N_("by={value} is already past: it is {now} now."),
    "unknown_language": N_("Unknown language “{value}”: use {languages}."),
    "bad_severity": N_("Severity must be info, urgent or critical, not “{value}”."),
    "bad_need": N_("need must be a whole number above 0, not “{value}”."),
    "bad_drill": N_("drill must be yes or no, not “{value}”."),
    "bad_by": N_("by must be a time like 18:30 or a delay like 90m or 2h, not “{value}”."),
    "no_text": N_("The alert has no text. Write it after the options."),
    "text_too_long": N_("The text is too long: {length} characters, at most {limit}."),
    "outside_scope": N_("Outside your scope: {places}. Your alerts for {organisation} may go only to: {scope}."),
}


def describe_problem(problem: Problem, t: Translator) -> str:
    if problem.code == "outside_scope":  # places and the scope by name, in the reader's language

        def named(areas: str, countries: str) -> str:
            codes = problem.values.get(areas, "").split(","), problem.values.get(countries, "").split(",")
            return esc(", ".join(named_places([a for a in codes[0] if a], [c for c in codes[1] if c], t)))

        return t._(
            PROBLEMS[problem.code],
            places=named("areas", "countries"),
            organisation=esc(problem.values.get("organisation", "")),
            scope=named("scope_areas", "scope_countries"),
        )
    values = {k: esc(v) for k, v in problem.values.items()}
    text = t._(PROBLEMS[problem.code], **values)
    if problem.values.get("suggestions"):
        text += " " + t._("Did you mean {suggestions}?", suggestions=values["suggestions"])
    return text


# Sends the coordinator the live tracking message of an alert (handlers.coordinator).
ShowTracking = Callable[[Update, Who, Alert], Awaitable[None]]


class ComposerDialogue:
    def __init__(self, identity: Identity, composer: Composer, show_tracking: ShowTracking, rate: float) -> None:
        self.identity = identity
        self.composer = composer
        self.show_tracking = show_tracking
        self.rate = rate  # the broadcast's messages per second, for the delivery time

    async def _coordinator(self, update: Update) -> Who | None:
        return await coordinator(
            self.identity,
            update,
            N_("Sorry, only coordinators can send alerts. If you should be one, ask your organisation."),
        )

    # ----- input ------------------------------------------------------------------

    async def alert(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        parts = (message_of(update).text or "").split(maxsplit=1)
        await self.render(update, w, await self.composer.start(w.acting, parts[1] if len(parts) > 1 else ""))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: ComposerButton) -> None:
        w = await self._coordinator(update)
        if w is None:
            return
        messenger_name = user_of(update).full_name
        shown = await self.composer.press(w.acting, w.person, messenger_name, w.lang, button.action, list(button.args))
        if shown.screen == Screen.GONE:
            await answer_query(update, w.t._("This draft is gone. Send /alert to start again."), alert=True)
            return
        if shown.screen in (Screen.STALE, Screen.STALE_GONE):
            await answer_query(update, w.t._("This preview is out of date. Nothing was sent."), alert=True)
            await edit_markup(update, None)
            if shown.stale is None:
                await chat_of(update).send_message(
                    w.t._("This preview is out of date: its draft was sent or discarded. Nothing was sent.")
                )
                return
            await chat_of(update).send_message(
                w.t._("This preview is out of date. Nothing was sent. The current draft:")
            )
            await self.render(update, w, shown.stale)
            return
        await answer_query(update)
        await self.render(update, w, shown)

    async def on_input(self, update: Update, w: Who, session: Session) -> None:
        text = message_of(update).text or ""
        w.actor = await self.identity.actor(w.address)
        await self.render(update, w, await self.composer.type_in(w.address, w.actor, session, text))

    # ----- what is shown ------------------------------------------------------------

    async def render(self, update: Update, w: Who, shown: Shown) -> None:
        t, draft = w.t, shown.draft
        reply = chat_of(update).send_message
        if shown.screen == Screen.MENU:
            await self.show_menu(update, w, shown)
        elif shown.screen == Screen.VIEW:
            assert shown.view is not None
            assert shown.audience is not None
            await self.view(update, w, draft, shown.view, shown.audience, shown.page)
        elif shown.screen == Screen.ASK_TEXT:
            assert shown.language is not None
            if shown.for_everyone:
                prompt = t._(
                    "Type the alert text in {language} (or one text for everyone). At most {limit} characters.",
                    language=t.language(shown.language),
                    limit=TEXT_LIMIT,
                )
                await edit_or_send(update, prompt)
            else:
                await message_of(update).reply_text(
                    t._(
                        "Now the {language} version, or use the same text for everyone.",
                        language=t.language(shown.language),
                    ),
                    reply_markup=inline([[(t._("Same text for everyone"), "cmp:same")]]),
                )
        elif shown.screen == Screen.ASK_NEED:
            await edit_or_send(
                update, t._("How many people are needed? Type a number."), inline([[(t._("No limit"), "cmp:noneed")]])
            )
        elif shown.screen == Screen.PREVIEW:
            await self.show_preview(update, w, shown)
        elif shown.screen == Screen.NO_TEXT:
            await reply(t._("The alert has no text yet: tap 📝 Text first."))
        elif shown.screen == Screen.NOBODY:
            assert shown.audience is not None
            await reply(
                t._("Nobody matches this audience, so nothing can be sent. Change the audience:")
                + "\n\n"
                + "\n".join(definition_lines(draft, t))
                + "\n"
                + audience_lines(shown.audience, t, self.rate),
                parse_mode="HTML",
                reply_markup=self.menu_keyboard(draft, t),
            )
        elif shown.screen == Screen.NOT_PREVIEWED:
            await reply(t._("Please look at the preview first."))
        elif shown.screen == Screen.SENT:
            assert shown.sent is not None
            if update.callback_query is not None:
                try:  # the preview's buttons go; the alert is out whether or not Telegram hears of it now
                    await edit_markup(update, None)
                except TelegramError as exc:
                    event(log, "preview_buttons_kept", alert=shown.sent.alert.id, error=type(exc).__name__)
            await self.show_tracking(update, w, shown.sent.alert)  # shown once Telegram is reachable, if not now
        elif shown.screen == Screen.AWAITING_APPROVAL:
            assert shown.submitted is not None
            approval = shown.submitted.approval
            if update.callback_query is not None:
                try:  # the preview's buttons go: the request stands whether or not Telegram hears of it now
                    await edit_markup(update, None)
                except TelegramError as exc:
                    event(log, "preview_buttons_kept", approval=approval.id, error=type(exc).__name__)
            await reply(self.waiting_text(shown, t), parse_mode="HTML")
        elif shown.screen == Screen.NO_APPROVER:
            if w.acting.is_admin:
                text = t._(
                    "⚠️ This alert needs a second person's approval, but there is no other admin to give it. "
                    "Nothing was sent; the draft is kept."
                )
            else:
                text = t._(
                    "⚠️ This alert needs a second person's approval, but nobody else in your organisation "
                    "or among the admins may give it. Nothing was sent; the draft is kept."
                )
            await reply(text)
        elif shown.screen == Screen.DISCARDED:
            await edit_or_send(update, t._("The draft was discarded. Nothing was sent."))
        elif shown.screen == Screen.PROBLEMS:
            lines = [t._("Nothing was sent:")] + [f"• {describe_problem(p, t)}" for p in shown.problems]
            await message_of(update).reply_text("\n".join(lines), parse_mode="HTML")
        elif shown.screen == Screen.EMPTY_TEXT:
            await message_of(update).reply_text(t._("Please type the text of the alert."))
        elif shown.screen == Screen.TEXT_TOO_LONG:
            await message_of(update).reply_text(
                t._(
                    "The text is too long: {length} characters, at most {limit}.", length=shown.length, limit=TEXT_LIMIT
                )
            )
        elif shown.screen == Screen.BAD_NEED:
            await message_of(update).reply_text(t._("Please type a whole number above 0."))
        elif shown.screen == Screen.BAD_BY:
            await message_of(update).reply_text(t._("Please type a time like 18:30, or a delay like 90m or 2h."))
        elif shown.screen == Screen.PAST_BY:
            await message_of(update).reply_text(
                describe_problem(shown.problems[0], t)
                + " "
                + t._("Please type a time still ahead, or a delay like 2h."),
                parse_mode="HTML",
            )
        elif shown.screen == Screen.CONFIRM_CRITICAL:
            assert shown.audience is not None
            await edit_or_send(update, self.critical_question(shown.audience, t), self.critical_keyboard(t))
        elif shown.screen == Screen.OUTSIDE_SCOPE:
            await reply("\n".join(describe_problem(p, t) for p in shown.problems), parse_mode="HTML")
        elif shown.screen == Screen.USE_BUTTONS:
            await message_of(update).reply_text(t._("Use the buttons of the draft above, or /cancel to discard it."))

    def waiting_text(self, shown: Shown, t: Translator) -> str:
        """The author's answer to Send when the alert waits for a second person's approval."""
        assert shown.submitted is not None
        submitted = shown.submitted
        approval = submitted.approval
        lines = [
            t.n_(
                "⏳ Waiting for approval (request #{id}): the alert to {n} person goes out once someone else approves it.",
                "⏳ Waiting for approval (request #{id}): the alert to {n} people goes out once someone else approves it.",
                approval.audience,
                id=approval.id,
            ),
            t.n_(
                "The request went to {n} person who may approve it.",
                "The request went to {n} people who may approve it.",
                submitted.reached,
            ),
        ]
        if submitted.reached < submitted.approvers:
            lines.append(
                t.n_(
                    "{n} more could not be reached now; they see it in /pending.",
                    "{n} more could not be reached now; they see it in /pending.",
                    submitted.approvers - submitted.reached,
                )
            )
        lines.append(t._("It expires at {time} if nobody decides.", time=when(approval.expires_at, t)))
        return "\n".join(lines)

    def summary(self, draft: AlertDraft, t: Translator) -> str:
        lines = [t._("<b>New alert</b>"), *definition_lines(draft, t)]
        for language in language_codes():
            if draft.texts.get(language):
                lines.append(
                    t._("Text ({language}): {text}", language=language, text=esc(_short(draft.texts[language])))
                )
        if not draft.has_text:
            lines.append(t._("Text: {text}", text="—"))
        return "\n".join(lines)

    def critical_question(self, audience: Audience, t: Translator) -> str:
        quiet = (
            t.n_(
                "{n} person is in quiet hours now and would be woken.",
                "{n} people are in quiet hours now and would be woken.",
                audience.quiet,
            )
            if audience.quiet
            else t._("No one is in quiet hours right now.")
        )
        return (
            t._(
                "🔴 <b>Critical</b> overrides quiet hours: it reaches people at night and whenever they asked not to be disturbed."
            )
            + " "
            + quiet
            + "\n"
            + t._("Make this alert critical?")
        )

    def critical_keyboard(self, t: Translator) -> InlineKeyboardMarkup:
        return inline([[(t._("🔴 Yes, critical"), f"cmp:sev:{Severity.CRITICAL}:ok"), (t._("⬅️ Back"), "cmp:v:sev")]])

    def menu_keyboard(self, draft: AlertDraft, t: Translator) -> InlineKeyboardMarkup:
        a = draft.audience
        rows: list[list[Button]] = [
            [
                (t._("🛠 Skills ({n})", n=len(a.skills)), "cmp:v:skills"),
                (t._("📍 Areas ({n})", n=len(a.areas)), "cmp:v:areas"),
            ],
            [(t._("🌍 Abroad ({n})", n=len(a.countries)), "cmp:v:abroad"), (t._("🗣 Languages"), "cmp:v:langs")],
            [(t._("📝 Text"), "cmp:text"), (t._("⚠️ Severity"), "cmp:v:sev")],
            [(t._("👥 Needed"), "cmp:need"), (t._("⏰ Answer by"), "cmp:v:by")],
            [(t._("🧪 Drill: yes") if draft.drill else t._("🧪 Drill: no"), "cmp:drill")],
            [(t._("👁 Preview"), "cmp:preview"), (t._("✖️ Cancel"), "cmp:cancel")],
        ]
        return inline(rows)

    async def show_menu(self, update: Update, w: Who, shown: Shown) -> None:
        assert shown.audience is not None
        text = self.summary(shown.draft, w.t) + "\n\n" + audience_lines(shown.audience, w.t, self.rate)
        markup = self.menu_keyboard(shown.draft, w.t)
        if shown.new_message or update.callback_query is None:
            await chat_of(update).send_message(text, parse_mode="HTML", reply_markup=markup)
        else:
            await edit_or_send(update, text, markup)

    async def view(
        self, update: Update, w: Who, draft: AlertDraft, name: View, audience: Audience, page: int = 0
    ) -> None:
        t, a = w.t, draft.audience
        back = [(t._("⬅️ Back"), "cmp:menu")]
        rows: list[list[Button]]
        if name == View.SKILLS:
            rows = [
                [(("✅ " if s.code in a.skills else "") + t._(s.label), f"cmp:sk:{s.code}")] for s in skills.skills()
            ]
            title = t._("Which skills? Nothing chosen means any.")
        elif name == View.AREAS:  # the municipalities of the coordinator's scope (all, for most)
            buttons = [
                (("✅ " if m.atvk in a.areas else "") + municipality_name(m, t), f"cmp:ar:{m.atvk}:{page}")
                for m in self.composer.offered_areas(w.acting)
            ]
            rows, _ = paged(buttons, page, 10, "cmp:arp")
            title = t._("Which municipalities? Nothing chosen (and no one abroad) means everywhere.")
            if not buttons:
                title = t._("Your scope includes no municipality in Latvia.")
        elif name == View.ABROAD:
            # the countries of the coordinator's scope: first those where people live, then the diaspora's, then
            # all others by name
            codes = await self.composer.offered_countries(w.acting, t.lang)
            buttons = [(("✅ " if c in a.countries else "") + t.country(c), f"cmp:co:{c}:{page}") for c in codes]
            paged_rows, _ = paged(buttons, page, 18, "cmp:cop", width=3)
            everyone: list[list[Button]] = [
                [
                    (
                        ("✅ " if ALL_ABROAD in a.countries else "") + t._("Everyone abroad"),
                        f"cmp:co:{ALL_ABROAD}:{page}",
                    )
                ]
            ]
            rows = [*(everyone if self.composer.offers_everyone_abroad(w.acting) else []), *paged_rows]
            title = t._("People abroad: everyone, or in which countries?")
            if not buttons:
                title = t._("Your scope includes no one abroad.")
        elif name == View.SEVERITY:
            rows = [
                [
                    (("✅ " if draft.severity == level else "") + f"{icon} {t._(label)}", f"cmp:sev:{level}")
                    for level, (icon, label) in SEVERITY_LABELS.items()
                ]
            ]
            title = t._("How severe? Critical also reaches people in their quiet hours.")
        elif name == View.LANGS:
            rows = [
                [
                    (("✅ " if code in a.langs else "") + language_name(code), f"cmp:lg:{code}")
                    for code in language_codes()
                ]
            ]
            title = t._("Which languages? Nothing chosen means all.")
        else:  # by
            rows = [[(p, f"cmp:by:{p}") for p in BY_PRESETS], [(t._("No deadline"), "cmp:by:none")]]
            title = t._("Answers needed by when? Choose, or type a time like 18:30.")
        rows.append(back)
        text = self.summary(draft, t) + "\n" + count_line(audience, t) + "\n\n" + title
        await edit_or_send(update, text, inline(rows))

    async def show_preview(self, update: Update, w: Who, shown: Shown) -> None:
        t, audience = w.t, shown.audience
        assert audience is not None and shown.ref is not None
        author = self.composer.author_of(w.person, user_of(update).full_name, w.acting)
        texts = preview_texts(
            shown.draft, audience, author.name, author.organisation, t, LATVIA_TZ, self.rate, shown.notes
        )
        if shown.changed_from is not None:
            n = len(audience.recipients)
            texts[-1] = (
                t.n_(
                    "⚠️ The audience changed since the preview: {n} person now instead of {before}. Nothing was sent; please confirm again.",
                    "⚠️ The audience changed since the preview: {n} people now instead of {before}. Nothing was sent; please confirm again.",
                    n,
                    before=shown.changed_from,
                )
                + "\n\n"
                + texts[-1]
            )
            if update.callback_query is not None:
                await edit_markup(update, None)
        for text in texts[:-1]:
            await chat_of(update).send_message(text, parse_mode="HTML")
        await chat_of(update).send_message(
            texts[-1], parse_mode="HTML", reply_markup=preview_keyboard(shown.ref, len(audience.recipients), t)
        )


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def register(
    app: App,
    identity: Identity,
    composer: Composer,
    router: TextRouter,
    show_tracking: ShowTracking,
    rate: float,
) -> None:
    c = ComposerDialogue(identity, composer, show_tracking, rate)
    app.add_handler(CommandHandler("alert", c.alert, filters=filters.ChatType.PRIVATE))
    app.add_handler(callbacks.on(ComposerButton, c.on_button))
    router.add_flow(COMPOSE, c.on_input, cancelled=N_("The draft was discarded. Nothing was sent."))
