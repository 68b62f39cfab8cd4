"""Organisations and their coordinators in the chat: ``/invite`` makes invite links
(``https://t.me/<bot>?start=<code>``), ``/start <code>`` opens one (a coordinator's or an
organisation admin's link asks for consent; a volunteers' link makes the person a member of
the organisation), and ``/coordinators`` lists an organisation's coordinators with a button
to revoke each. Who may do what is the use cases' (``bot.application.coalition``).

Two handlers sit outside the main group: ``/start <code>`` runs in the boundary's group
(``INVITES``), so that it comes before every ``/start``; a volunteers' link for someone not yet
registered then lets ``/start`` carry on exactly as without a link. And after the privacy
notice's consent button (``JOINS``, after registration's handler) the person joins the
organisation whose link they opened."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ContextTypes, filters

from bot.application.coalition import (
    Accepted,
    Coalition,
    Joined,
    JoinOutcome,
    LinkStatus,
    Listed,
    Opened,
    Refusal,
    Refused,
)
from bot.application.identity import Identity
from bot.domain import places
from bot.domain.coalition import (
    INVITE_ALPHABET,
    INVITE_CODE_LENGTH,
    Coordinator,
    Invite,
    InviteKind,
    StoredRole,
    granted_scope,
)
from bot.domain.people import Address
from bot.domain.scopes import PlaceKind, UnknownPlace, read_scope, split_options
from bot.i18n import N_, Translator, language_codes
from bot.logs import event
from bot.messenger.keyboards import Button, inline
from bot.messenger.render import municipality_name, scope_text
from handlers import callbacks
from handlers.base import App, Who, answer_query, coordinator, edit_or_send, esc, message_of, user_of, who
from handlers.callbacks import Consent, CoordinatorAction, CoordinatorButton, InviteButton
from handlers.help import coordinator_lines

log = logging.getLogger(__name__)

INVITES = -1  # the boundary's group, after its checks: before every /start handler
JOINS = 1  # after the main group: after registration's consent handler
START_CODE = re.compile(rf"^/start(@\w+)?\s+[{INVITE_ALPHABET}]{{{INVITE_CODE_LENGTH}}}\s*$")
INVITE_KEYS = ("areas", "countries", "org")

ROLE_LABELS = {
    StoredRole.COORDINATOR: N_("coordinator"),
    StoredRole.ORGADMIN: N_("organisation admin"),
}
WELCOME = {
    StoredRole.COORDINATOR: N_("✅ Welcome! You are now a coordinator of <b>{organisation}</b>. Where: {scope}."),
    StoredRole.ORGADMIN: N_("✅ Welcome! You are now an organisation admin of <b>{organisation}</b>. Where: {scope}."),
}
REPLACES = {
    StoredRole.COORDINATOR: N_("You are a coordinator of {organisation} now: accepting replaces that."),
    StoredRole.ORGADMIN: N_("You are an organisation admin of {organisation} now: accepting replaces that."),
}
LINK_MADE = {
    InviteKind.COORDINATOR: N_(
        "🔗 Invite link for a coordinator of <b>{organisation}</b> (where: {scope}). It works once, "
        "for 72 hours; send it only to the person you invite:\n{link}"
    ),
    InviteKind.ORGADMIN: N_(
        "🔗 Invite link for an organisation admin of <b>{organisation}</b> (where: {scope}). It works once, "
        "for 72 hours; send it only to the person you invite:\n{link}"
    ),
    InviteKind.VOLUNTEERS: N_(
        "🔗 Link for the volunteers of <b>{organisation}</b>: whoever opens it joins the organisation. "
        "It may be shared and does not expire:\n{link}"
    ),
}
INVITED = {
    InviteKind.COORDINATOR: N_(
        "<b>Invitation</b>\nYou are invited to coordinate for <b>{organisation}</b>: to send its alerts to "
        "volunteers and see who is coming. Where: {scope}."
    ),
    InviteKind.ORGADMIN: N_(
        "<b>Invitation</b>\nYou are invited to be an organisation admin of <b>{organisation}</b>: to invite and "
        "revoke its coordinators, and to send its alerts. Where: {scope}."
    ),
}
LINK_REFUSED = {
    LinkStatus.EXPIRED: N_("This invite link has expired: links work for 72 hours. Please ask for a new one."),
    LinkStatus.USED: N_("This invite link has been used already: each works once. Please ask for a new one."),
    LinkStatus.REVOKED: N_(
        "This invite link is no longer valid: whoever made it may no longer invite. Please ask the organisation "
        "for a new one."
    ),
    LinkStatus.UNKNOWN: N_("This invite link is not valid. Check that it was copied whole, or ask for a new one."),
    LinkStatus.OWN: N_("This is your own invite link: send it to the person you invite."),
    LinkStatus.IS_ADMIN: N_("You are an admin and have every right already: this link is not for you."),
}
USAGE = N_(
    "Please say whom to invite: /invite coordinator [areas=…] [countries=…], /invite orgadmin org=CODE, "
    "or /invite volunteers. Admins add org=CODE."
)
NOT_SENT = N_("No link was made.")
COORDINATORS_ONLY = N_("Sorry, this is for coordinators only.")


def invite_link(bot_username: str | None, code: str) -> str:
    return f"https://t.me/{bot_username or 'bot'}?start={code}"


def role_label(role: StoredRole, t: Translator) -> str:
    return t._(ROLE_LABELS[role])


def display_name(c: Coordinator) -> str:
    return c.name or c.address.external_id


def unknown_place_line(problem: UnknownPlace, t: Translator) -> str:
    if problem.kind == PlaceKind.AREA:
        names = [municipality_name(m, t) for code in problem.suggestions if (m := places.municipality(code))]
        text = t._("Unknown municipality “{value}”.", value=esc(problem.value))
    else:
        names = [t.country(code) for code in problem.suggestions]
        text = t._("Unknown country “{value}”.", value=esc(problem.value))
    if names:
        text += " " + t._("Did you mean {suggestions}?", suggestions=esc(", ".join(names)))
    return text


class CoalitionHandlers:
    def __init__(self, identity: Identity, coalition: Coalition, languages: Collection[str]) -> None:
        self.identity = identity
        self.coalition = coalition
        self.languages = tuple(languages)

    # ----- /start <code> ----------------------------------------------------------------

    async def start_with_code(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answers and stops, except for a volunteers' link opened by someone not registered:
        then /start carries on (its handlers come after this one)."""
        code = (context.args or [""])[0]
        w = await who(self.identity, update)
        opened = await self.coalition.open_invite(code, w.address)
        invite = opened.invite
        if opened.status == LinkStatus.OPEN and invite is not None and invite.kind == InviteKind.VOLUNTEERS:
            joined = await self.coalition.join_by_volunteer_link(code, w.address, w.person)
            if isinstance(joined, Joined):
                await self._show_joined(update, w, joined)
                if joined.registration_needed:
                    return  # on to /start
            else:
                await self._refuse_link(update, w, joined)
            raise ApplicationHandlerStop
        if opened.status != LinkStatus.OPEN or invite is None:
            await self._refuse_link(update, w, opened)
            raise ApplicationHandlerStop
        await self._ask_consent(update, w, opened, invite)
        raise ApplicationHandlerStop

    async def _refuse_link(self, update: Update, w: Who, opened: Opened) -> None:
        await message_of(update).reply_text(w.t._(LINK_REFUSED[opened.status]))

    async def _ask_consent(self, update: Update, w: Who, opened: Opened, invite: Invite) -> None:
        t = w.t
        organisation = invite.organisation
        lines = [
            t._(
                INVITED[invite.kind],
                organisation=esc(organisation.name),
                scope=esc(scope_text(granted_scope(invite.scope, organisation), t)),
            )
        ]
        if opened.current is not None:
            lines.append(t._(REPLACES[opened.current.role], organisation=esc(opened.current.organisation.name)))
        lines += [
            t._("If you accept, your Telegram name and id are kept with this role, and the audit trail records it."),
            "",
            t._("Do you accept?"),
        ]
        buttons = [[(t._("✅ Accept"), f"inv:yes:{invite.code}"), (t._("Decline"), f"inv:no:{invite.code}")]]
        await message_of(update).reply_text("\n".join(lines), parse_mode="HTML", reply_markup=inline(buttons))

    async def _show_joined(self, update: Update, w: Who, joined: Joined) -> None:
        t = w.t
        name = esc(joined.organisation.name)
        if joined.outcome == JoinOutcome.AFTER_CONSENT:
            text = t._(
                "This link is from <b>{organisation}</b>: once you agree to the privacy notice, you join Sauciens "
                "as one of its volunteers.",
                organisation=name,
            )
        elif joined.outcome == JoinOutcome.ALREADY:
            text = t._("You are already one of the volunteers of <b>{organisation}</b>.", organisation=name)
        elif joined.registration_needed:
            text = t._("✅ You are now one of the volunteers of <b>{organisation}</b>.", organisation=name)
        else:
            text = t._(
                "✅ You are now one of the volunteers of <b>{organisation}</b>: its coordinators can send you "
                "its alerts. /profile shows your details.",
                organisation=name,
            )
        await message_of(update).reply_text(text, parse_mode="HTML")

    async def on_invite_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: InviteButton) -> None:
        w = await who(self.identity, update)
        t = w.t
        if not button.accept:
            await answer_query(update)
            await edit_or_send(update, t._("All right, nothing changed."))
            return
        user = user_of(update)
        name = " ".join(filter(None, [user.first_name, user.last_name])) or None
        accepted = await self.coalition.accept_invite(button.code, w.address, name)
        if not isinstance(accepted, Accepted):
            await answer_query(update)
            await edit_or_send(update, t._(LINK_REFUSED[accepted.status]))
            return
        await answer_query(update)
        c = accepted.coordinator
        await edit_or_send(
            update,
            t._(
                WELCOME[c.role],
                organisation=esc(c.organisation.name),
                scope=esc(scope_text(granted_scope(c.scope, c.organisation), t)),
            ),
        )
        lines = [t._("<b>For coordinators</b>"), *coordinator_lines(t)]
        await message_of(update).reply_text("\n".join(lines), parse_mode="HTML")

    async def after_consent(self, update: Update, context: ContextTypes.DEFAULT_TYPE, consent: Consent) -> None:
        """After registration's consent handler: whoever opened a volunteers' link before
        agreeing joins its organisation now (they were told so when they opened it)."""
        address = Address.telegram(user_of(update).id)
        if consent.agreed:
            await self.coalition.join_after_consent(address)
        else:
            self.coalition.forget_pending(address)

    # ----- /invite ----------------------------------------------------------------------

    async def invite(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await coordinator(self.identity, update, COORDINATORS_ONLY)
        if w is None:
            return
        assert w.actor is not None
        t = w.t
        text = message_of(update).text or ""
        options, words = split_options(text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else "")
        kind = next((k for k in InviteKind if words and words[0].lower() == k.value), None)
        if kind is None or len(words) != 1:
            await message_of(update).reply_text(t._(USAGE))
            return
        problems: list[str] = []
        values: dict[str, list[str]] = {key: [] for key in INVITE_KEYS}
        for key, value in options:
            if key not in INVITE_KEYS:
                problems.append(t._("Unknown option {key}=.", key=esc(key)))
            else:
                values[key].append(value)
        if kind == InviteKind.VOLUNTEERS and (values["areas"] or values["countries"]):
            problems.append(t._("A volunteers' link has no areas or countries."))
        reading = read_scope(values["areas"], values["countries"], self.languages)
        problems += [unknown_place_line(p, t) for p in reading.unknown]
        if problems or reading.scope is None:
            await message_of(update).reply_text("\n".join([*problems, t._(NOT_SENT)]), parse_mode="HTML")
            return
        org = values["org"][-1] if values["org"] else None
        made = await self.coalition.create_invite(w.actor, kind, org, reading.scope)
        if isinstance(made, Refused):
            await message_of(update).reply_text(
                "\n".join([await self._invite_refusal(made, kind, org, t), t._(NOT_SENT)]), parse_mode="HTML"
            )
            return
        scope = granted_scope(made.scope, made.organisation)
        await message_of(update).reply_text(
            t._(
                LINK_MADE[kind],
                organisation=esc(made.organisation.name),
                scope=esc(scope_text(scope, t)),
                link=esc(invite_link(context.bot.username, made.code)),
            ),
            parse_mode="HTML",
            disable_web_page_preview=True,
        )

    async def _invite_refusal(self, refused: Refused, kind: InviteKind, org: str | None, t: Translator) -> str:
        if refused.reason == Refusal.NOT_ALLOWED and kind == InviteKind.ORGADMIN:
            return t._("Only admins may invite organisation admins.")
        if refused.reason == Refusal.NOT_ALLOWED:
            return t._("Only organisation admins and admins may invite.")
        if refused.reason == Refusal.OUTSIDE_SCOPE:
            assert refused.organisation is not None and refused.scope is not None
            return t._(
                "That is outside the scope you may give for {organisation}: {scope}.",
                organisation=esc(refused.organisation.name),
                scope=esc(scope_text(refused.scope, t)),
            )
        codes = ", ".join(o.code for o in await self.coalition.organisations())
        if refused.reason == Refusal.NO_ORGANISATION:
            text = t._("There is no organisation “{code}”.", code=esc(org or ""))
        else:
            text = t._("Please name the organisation: org=CODE.")
        if codes:
            return text + " " + t._("Organisations: {codes}.", codes=esc(codes))
        return text + " " + t._("There are no organisations yet.")

    # ----- /coordinators ----------------------------------------------------------------

    async def coordinators(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await coordinator(self.identity, update, COORDINATORS_ONLY)
        if w is None:
            return
        assert w.actor is not None
        t = w.t
        listed = await self.coalition.coordinators_of(w.actor)
        if not listed:
            await message_of(update).reply_text(t._("There are no coordinators yet. /invite coordinator makes a link."))
            return
        lines = [t._("<b>Coordinators</b>")]
        buttons: list[list[Button]] = []
        shown_org: int | None = None
        for entry in listed:
            c = entry.coordinator
            if c.organisation.id != shown_org:
                shown_org = c.organisation.id
                lines += [
                    "",
                    t._(
                        "<b>{organisation}</b> ({code}), where: {scope}",
                        organisation=esc(c.organisation.name),
                        code=esc(c.organisation.code),
                        scope=esc(scope_text(c.organisation.scope, t)),
                    ),
                ]
            lines.append(self._line(entry, t))
            if entry.revocable:
                label = t._("✖️ Revoke {name}", name=display_name(c))
                buttons.append([(label[:60], f"crd:{CoordinatorAction.ASK}:{c.address.external_id}")])
        await message_of(update).reply_text(
            "\n".join(lines), parse_mode="HTML", reply_markup=inline(buttons) if buttons else None
        )

    def _line(self, entry: Listed, t: Translator) -> str:
        c = entry.coordinator
        line = f"• {esc(display_name(c))} ({esc(c.address.external_id)}) — {role_label(c.role, t)}"
        if not c.scope.everywhere:
            line += "; " + t._("where: {scope}", scope=esc(scope_text(c.scope, t)))
        return line

    async def on_coordinator_button(
        self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: CoordinatorButton
    ) -> None:
        w = await coordinator(self.identity, update, COORDINATORS_ONLY)
        if w is None:
            return
        assert w.actor is not None
        t = w.t
        target = Address.telegram(button.telegram_id)
        if button.action == CoordinatorAction.KEEP:
            await answer_query(update)
            await edit_or_send(update, t._("All right, nothing changed."))
            return
        if button.action == CoordinatorAction.ASK:
            found = await self.coalition.revocation(target, w.actor)
            if isinstance(found, Refused):
                await self._refuse_revoke(update, w, found)
                return
            await answer_query(update)
            await edit_or_send(
                update,
                t._(
                    "Revoke <b>{name}</b> ({id}), {role} of {organisation}? Every right ends at once.",
                    name=esc(display_name(found)),
                    id=esc(found.address.external_id),
                    role=role_label(found.role, t),
                    organisation=esc(found.organisation.name),
                ),
                inline(
                    [
                        [
                            (t._("Revoke"), f"crd:{CoordinatorAction.REVOKE}:{button.telegram_id}"),
                            (t._("Keep"), f"crd:{CoordinatorAction.KEEP}:{button.telegram_id}"),
                        ]
                    ]
                ),
            )
            return
        revoked = await self.coalition.revoke_coordinator(target, w.actor)
        if isinstance(revoked, Refused):
            await self._refuse_revoke(update, w, revoked)
            return
        await answer_query(update)
        await edit_or_send(
            update,
            t._(
                "🚫 {name} ({id}) no longer coordinates for {organisation}.",
                name=esc(display_name(revoked)),
                id=esc(revoked.address.external_id),
                organisation=esc(revoked.organisation.name),
            ),
        )

    async def _refuse_revoke(self, update: Update, w: Who, refused: Refused) -> None:
        t = w.t
        if refused.reason == Refusal.SELF:
            text = t._("You cannot revoke yourself: please ask an admin.")
        elif refused.reason == Refusal.NOT_ALLOWED:
            text = t._("You may revoke only the coordinators of your own organisation, and only as its admin.")
        else:
            text = t._("They no longer coordinate: there is nothing to revoke.")
        event(log, "revoke_button_refused", user=w.address.external_id, reason=refused.reason)
        await answer_query(update, text, alert=True)


def register(app: App, identity: Identity, coalition: Coalition) -> CoalitionHandlers:
    """``/start <code>`` (group ``INVITES``), /invite, /coordinators and their buttons, and the
    join after consent (group ``JOINS``)."""
    h = CoalitionHandlers(identity, coalition, language_codes())
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", h.start_with_code, filters=private & filters.Regex(START_CODE)), INVITES)
    app.add_handler(callbacks.on(Consent, h.after_consent), JOINS)
    app.add_handler(CommandHandler("invite", h.invite, filters=private))
    app.add_handler(CommandHandler("coordinators", h.coordinators, filters=private))
    app.add_handler(callbacks.on(InviteButton, h.on_invite_button))
    app.add_handler(callbacks.on(CoordinatorButton, h.on_coordinator_button))
    return h
