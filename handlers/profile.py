"""/profile: the person's details with a button to change each part (the registration's
steps, ``handlers.steps``), the language, and Done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot.application.identity import Identity
from bot.application.profile import Profile, ProfileOutcome
from bot.application.steps import EDITABLE, Step
from handlers.base import Who, answer_query, chat_of, edit_markup, who
from handlers.callbacks import ProfileButton, ProfilePart
from handlers.steps import StepDialogue

AskLanguage = Callable[[Update, str], Awaitable[None]]


class ProfileHandlers:
    def __init__(self, identity: Identity, profile: Profile, dialogue: StepDialogue, ask_language: AskLanguage) -> None:
        self.identity = identity
        self.profile_uc = profile
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
        part = next((s for s in EDITABLE if s == action), None)
        if part is None:
            return
        await edit_markup(update, None)
        p = await self.profile_uc.start_edit(w.address, p, part)
        await self.dialogue.ask(update, Who(w.address, p, w.t), Step(part))

    async def cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
        """Leave a change half-way; False when the person was not changing anything."""
        w = await who(self.identity, update)
        if not await self.profile_uc.cancel_edit(w.address, w.person):
            return False
        await chat_of(update).send_message(
            w.t._("Cancelled. Your details are unchanged."), reply_markup=ReplyKeyboardRemove()
        )
        return True
