"""/profile: the person's details with a button to change each part (the registration's
steps, ``handlers.steps``), who can call them (their organisations: leave one, let the others
call, let each see the phone number), the language, and Done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot.application.identity import Identity
from bot.application.memberships import Memberships
from bot.application.profile import Profile, ProfileOutcome
from bot.application.steps import EDITABLE, Step
from bot.domain.coalition import Reach
from bot.i18n import Translator
from bot.messenger.keyboards import Button, inline
from bot.messenger.render import esc, organisation_label, reach_view
from handlers.base import Who, answer_query, chat_of, edit_markup, edit_or_send, who
from handlers.boundary import NOT_VALID
from handlers.callbacks import MembershipAction, MembershipButton, ProfileButton, ProfilePart
from handlers.steps import StepDialogue

AskLanguage = Callable[[Update, str], Awaitable[None]]


def organisations_keyboard(reach: Reach, t: Translator) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    if not reach.shared_pool:
        if reach.open_to_coalition:
            rows.append([(t._("🚫 Only my organisations may alert me"), "mem:open:no")])
        else:
            rows.append([(t._("🤝 Let other organisations alert me"), "mem:open:yes")])
    for m in reach.memberships:
        org, label = m.organisation.id, organisation_label(m.organisation.name)
        phone = (
            (t._("🙈 Hide my number: {organisation}", organisation=label), f"mem:phone:{org}:no")
            if m.phone_visible
            else (t._("📞 Show my number: {organisation}", organisation=label), f"mem:phone:{org}:yes")
        )
        rows.append([phone])
        rows.append([(t._("🚪 Leave {organisation}", organisation=label), f"mem:leave:{org}")])
    rows.append([(t._("✔️ Done"), "mem:done")])
    return inline(rows)


class ProfileHandlers:
    def __init__(
        self,
        identity: Identity,
        profile: Profile,
        memberships: Memberships,
        dialogue: StepDialogue,
        ask_language: AskLanguage,
    ) -> None:
        self.identity = identity
        self.profile_uc = profile
        self.memberships = memberships
        self.dialogue = dialogue
        self.ask_language = ask_language

    async def profile(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        w = await who(self.identity, update)
        opened = await self.profile_uc.open_profile(w.address, w.person)
        if opened.outcome == ProfileOutcome.NOT_REGISTERED:
            await chat_of(update).send_message(w.t._("You are not registered yet. Send /start to join."))
        elif opened.outcome == ProfileOutcome.REGISTERING:
            assert opened.step is not None
            await self.dialogue.ask(update, w, opened.step, note=w.t._("Let's finish your registration first."))
        else:
            assert opened.person is not None
            await self.dialogue.show_profile(update, Who(w.address, opened.person, w.t))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: ProfileButton) -> None:
        action = button.part
        w = await who(self.identity, update)
        p = w.person
        if p is None or p.consent_at is None:
            await answer_query(update, w.t._("This button is no longer active."))
            return
        await answer_query(update)
        if action == ProfilePart.DONE:
            await edit_markup(update, None)
            await self.profile_uc.finish_editing(w.address, p)
            return
        if action == ProfilePart.LANGUAGE:
            await self.ask_language(update, w.lang)
            return
        if action == ProfilePart.ORGANISATIONS:
            reach = await self.memberships.reach(p)
            await chat_of(update).send_message(
                reach_view(reach, w.t), parse_mode="HTML", reply_markup=organisations_keyboard(reach, w.t)
            )
            return
        part = next((s for s in EDITABLE if s == action), None)
        if part is None:
            return
        await edit_markup(update, None)
        p = await self.profile_uc.start_edit(w.address, p, part)
        await self.dialogue.ask(update, Who(w.address, p, w.t), Step(part))

    async def on_membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE, button: MembershipButton) -> None:
        """The organisations' buttons. Each says what it does ("may call me": yes), so a double
        tap changes nothing twice; an organisation the person is not a member of (a stale or
        forged button) changes nothing."""
        w = await who(self.identity, update)
        p, t = w.person, w.t
        if p is None or p.consent_at is None or not p.active:
            await answer_query(update, t._("This button is no longer active."))
            return
        action = button.action
        if action == MembershipAction.DONE:
            await answer_query(update)
            await edit_markup(update, None)
            return
        reach: Reach | None
        notice: str | None = None
        if action == MembershipAction.OPEN:
            assert button.allowed is not None
            reach = await self.memberships.allow_other_organisations(p, button.allowed)
        elif action == MembershipAction.PHONE:
            assert button.organisation_id is not None and button.allowed is not None
            reach = await self.memberships.show_phone_to(p, button.organisation_id, button.allowed)
        elif action == MembershipAction.LEAVE:
            assert button.organisation_id is not None
            membership = (await self.memberships.reach(p)).membership(button.organisation_id)
            if membership is None:
                await answer_query(update, t._(NOT_VALID))
                return
            await answer_query(update)
            org = membership.organisation
            await edit_or_send(
                update,
                t._(
                    "Leave {organisation}? Its coordinators will no longer send you alerts, unless you let the "
                    "coalition's other organisations send you alerts.",
                    organisation=esc(org.name),
                ),
                inline([[(t._("🚪 Yes, leave"), f"mem:leaveyes:{org.id}"), (t._("No, stay"), "mem:back")]]),
            )
            return
        elif action == MembershipAction.LEAVE_YES:
            assert button.organisation_id is not None
            left = await self.memberships.leave_organisation(p, button.organisation_id)
            if left is None:
                await answer_query(update, t._(NOT_VALID))
                return
            notice = t._("You left {organisation}.", organisation=left.organisation.name)
            reach = await self.memberships.reach(p)
        else:  # BACK
            reach = await self.memberships.reach(p)
        if reach is None:
            await answer_query(update, t._(NOT_VALID))
            return
        await answer_query(update, notice)
        await edit_or_send(update, reach_view(reach, t), organisations_keyboard(reach, t))

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Leave a change half-way; False when the person was not changing anything."""
        w = await who(self.identity, update)
        if not await self.profile_uc.cancel_edit(w.address, w.person):
            return False
        await chat_of(update).send_message(
            w.t._("Cancelled. Your details are unchanged."), reply_markup=ReplyKeyboardRemove()
        )
        return True
