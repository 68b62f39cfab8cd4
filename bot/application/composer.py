"""The /alert composer's rules: which step takes which input, the texts in every enabled
language, the draft's checks, and that nothing is sent before the preview was shown.

The draft lives in the coordinator's session (flow ``compose``), so a restart keeps it. Each
operation returns what to show next (``Shown``); the handler only renders that."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bot.application.alerting import COMPOSE, Alerting, Author, Drafts, SentAlert
from bot.application.approval import Approvals, NoApprover, Submitted
from bot.domain import places
from bot.domain.alerts import (
    TEXT_LIMIT,
    AlertDraft,
    Audience,
    DraftRef,
    Problem,
    Severity,
    parse_one_line,
    read_respond_by,
)
from bot.domain.coalition import Actor
from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.people import ALL_ABROAD, Address, Person
from bot.domain.places import Municipality
from bot.domain.sessions import Session
from bot.i18n import is_supported, language_codes

BY_PRESETS = ("30m", "1h", "2h", "4h")
AUDIENCE_TOLERANCE = 0.10  # a Send whose audience changed by more than this since its preview asks again
_TEXT_STEP = "text:"
_LEGACY_TEXT_STEPS = {"text_lv": "lv", "text_en": "en"}  # sessions saved before texts were a mapping


class ComposeStep(StrEnum):
    """Where the composer is (``sessions.step``); the text steps are ``text:<language>``."""

    MENU = "menu"
    NEED = "need"
    BY = "by"
    PREVIEW = "preview"


class View(StrEnum):
    SKILLS = "skills"
    AREAS = "areas"
    ABROAD = "abroad"
    LANGS = "langs"
    BY = "by"
    SEVERITY = "sev"


class Screen(StrEnum):
    """What the coordinator is shown next."""

    MENU = "menu"  # the draft's summary and the menu
    VIEW = "view"  # one of the lists (``view``, ``page``)
    ASK_TEXT = "ask_text"  # type the text in ``language`` (the first one is for everyone)
    ASK_NEED = "ask_need"
    PREVIEW = "preview"  # the alert as recipients will see it (``audience``)
    NO_TEXT = "no_text"  # a preview was asked for before any text
    NOBODY = "nobody"  # nobody matches: the menu again, with the reason
    NOT_PREVIEWED = "not_previewed"  # send was pressed before the preview
    STALE = "stale"  # a Send of an older preview: nothing sent; the current draft's preview (or menu) follows
    STALE_GONE = "stale_gone"  # a Send of a draft that was sent or discarded: nothing sent
    CONFIRM_CRITICAL = "confirm_critical"  # critical overrides quiet hours: confirm once (``audience``)
    SENT = "sent"  # ``sent``
    AWAITING_APPROVAL = "awaiting_approval"  # stored as a request for a second person's approval (``submitted``)
    NO_APPROVER = "no_approver"  # it needs approval but nobody else may give it: nothing sent, the draft kept
    DISCARDED = "discarded"
    GONE = "gone"  # no draft any more (a button of an old one)
    PROBLEMS = "problems"  # the one-line form was refused (``problems``)
    EMPTY_TEXT = "empty_text"
    TEXT_TOO_LONG = "text_too_long"  # ``length``
    BAD_NEED = "bad_need"
    BAD_BY = "bad_by"
    PAST_BY = "past_by"  # ``problems``: the time and now
    USE_BUTTONS = "use_buttons"
    OUTSIDE_SCOPE = "outside_scope"  # ``problems``: a place outside the coordinator's scope; nothing changed
    NOTHING = "nothing"  # not a coordinator any more: the draft is dropped silently


@dataclass
class Shown:
    screen: Screen
    draft: AlertDraft = field(default_factory=AlertDraft)
    new_message: bool = False  # the menu as a new message rather than by editing the last one
    view: View | None = None
    page: int = 0
    language: str | None = None
    for_everyone: bool = False  # the text asked for is the first, for everyone without their own
    audience: Audience | None = None
    problems: list[Problem] = field(default_factory=list)
    sent: SentAlert | None = None
    submitted: Submitted | None = None  # after AWAITING_APPROVAL: the request and how many got it
    length: int = 0
    ref: DraftRef | None = None  # the draft as shown, for the preview's Send
    notes: list[Problem] = field(default_factory=list)  # for the preview: e.g. a city and its novads both included
    stale: Shown | None = None  # after STALE: the current draft
    changed_from: int | None = None  # a preview shown again: the audience was this many at the last one


def text_step(language: str) -> str:
    return _TEXT_STEP + language


def text_language(step: str) -> str | None:
    """The language a text step asks for; None for the other steps."""
    if step.startswith(_TEXT_STEP):
        return step[len(_TEXT_STEP) :]
    return _LEGACY_TEXT_STEPS.get(step)


def text_order() -> list[str]:
    """The order the texts are asked in: the default language's first (it is for everyone),
    then every other enabled language."""
    return [DEFAULT_LANGUAGE] + [code for code in language_codes() if code != DEFAULT_LANGUAGE]


def _next_language(language: str) -> str | None:
    order = text_order()
    later = order[order.index(language) + 1 :] if language in order else []
    return later[0] if later else None


def outside_scope(actor: Actor, areas: Sequence[str], countries: Sequence[str]) -> Problem | None:
    """The ``outside_scope`` problem when some of ``areas`` and ``countries`` lie outside
    ``actor``'s scope (codes, comma-separated: the caller names them), else None."""
    out_areas, out_countries = actor.scope.outside(areas, countries)
    if not out_areas and not out_countries:
        return None
    return Problem(
        "outside_scope",
        {
            "areas": ",".join(out_areas),
            "countries": ",".join(out_countries),
            "organisation": actor.organisation.name if actor.organisation else "",
            "scope_areas": ",".join(actor.scope.areas),
            "scope_countries": ",".join(actor.scope.countries),
        },
    )


def _toggle(values: list[str], value: str) -> None:
    if value in values:
        values.remove(value)
    else:
        values.append(value)


class Composer:
    def __init__(self, alerting: Alerting, drafts: Drafts, approvals: Approvals) -> None:
        self._alerting = alerting
        self._drafts = drafts
        self._approvals = approvals

    async def start(self, actor: Actor, args: str, now: datetime | None = None) -> Shown:
        """/alert by ``actor``: with nothing after it, a new draft at the menu; else the
        one-line form, straight to the preview."""
        address = actor.address
        if not args.strip():
            draft = AlertDraft()
            await self._drafts.compose(address, draft, ComposeStep.MENU)
            return await self._menu(actor, draft, new_message=True)
        parsed = parse_one_line(args, now or datetime.now(UTC), language_codes())
        if parsed.draft is None:
            return Shown(Screen.PROBLEMS, problems=parsed.problems)
        problem = outside_scope(actor, parsed.draft.audience.areas, parsed.draft.audience.countries)
        if problem is not None:  # refused, naming the scope: nothing is kept or sent
            return Shown(Screen.PROBLEMS, problems=[problem])
        ref = await self._drafts.compose(address, parsed.draft, ComposeStep.PREVIEW)
        shown = await self._preview(actor, parsed.draft, ref)
        shown.notes = parsed.notes
        return shown

    async def press(
        self, actor: Actor, person: Person | None, messenger_name: str, language: str, action: str, args: list[str]
    ) -> Shown:
        """A ``cmp:<action>:<args>`` button of the draft (its data checked at the input boundary,
        handlers/callbacks.py), pressed by ``actor`` (``person``, ``messenger_name`` and
        ``language``: who would send it)."""
        address = actor.address
        session = await self._drafts.current(address)
        if session is None or session.flow != COMPOSE:
            return Shown(Screen.STALE_GONE if action == "send" else Screen.GONE)
        draft = self._drafts.draft_of(session)
        a = draft.audience
        arg = args[0] if args else ""
        if action == "menu":
            await self._save(address, session, draft, ComposeStep.MENU)
            return await self._menu(actor, draft)
        if action == "v" and arg in tuple(View):
            await self._save(address, session, draft, ComposeStep.BY if arg == View.BY else ComposeStep.MENU)
            return await self._view(actor, draft, View(arg))
        if action in ("sk", "ar", "co", "lg"):
            target = {"sk": a.skills, "ar": a.areas, "co": a.countries, "lg": a.langs}[action]
            if action in ("ar", "co") and arg not in target:  # taking a place out is always allowed
                problem = outside_scope(actor, [arg] if action == "ar" else [], [arg] if action == "co" else [])
                if problem is not None:  # not offered in the lists: a forged or outdated button
                    return Shown(Screen.OUTSIDE_SCOPE, draft, problems=[problem])
            if action != "lg" or is_supported(arg):
                _toggle(target, arg)
                await self._save(address, session, draft)
            view = {"sk": View.SKILLS, "ar": View.AREAS, "co": View.ABROAD, "lg": View.LANGS}[action]
            page = int(args[1]) if action in ("ar", "co") and len(args) > 1 and args[1].isdigit() else 0
            return await self._view(actor, draft, view, page)
        if action in ("arp", "cop"):
            return await self._view(
                actor, draft, View.AREAS if action == "arp" else View.ABROAD, int(arg) if arg.isdigit() else 0
            )
        if action == "sev":
            if arg not in tuple(Severity):
                return await self._view(actor, draft, View.SEVERITY)
            if arg == Severity.CRITICAL and draft.severity != Severity.CRITICAL and args[1:2] != ["ok"]:
                # critical reaches people in their quiet hours: one confirmation first
                return Shown(Screen.CONFIRM_CRITICAL, draft, audience=await self._alerting.audience_of(draft, actor))
            draft.severity = Severity(arg)
        elif action == "drill":
            draft.drill = not draft.drill
        elif action == "by":
            if arg == "none":
                draft.respond_by = None
            else:
                when = read_respond_by(arg, datetime.now(UTC))
                draft.respond_by = when if isinstance(when, datetime) else draft.respond_by
            session.step = ComposeStep.MENU
        elif action == "noneed":
            draft.need = None
            session.step = ComposeStep.MENU
        elif action == "same":
            # the languages not written yet read the text for everyone
            writing = text_language(session.step)
            order = text_order()
            if writing in order:
                for later in order[order.index(writing) :]:
                    if later != DEFAULT_LANGUAGE:
                        draft.texts.pop(later, None)
            session.step = ComposeStep.MENU
        elif action == "text":
            await self._save(address, session, draft, text_step(DEFAULT_LANGUAGE))
            return Shown(Screen.ASK_TEXT, draft, language=DEFAULT_LANGUAGE, for_everyone=True)
        elif action == "need":
            await self._save(address, session, draft, ComposeStep.NEED)
            return Shown(Screen.ASK_NEED, draft)
        elif action == "preview":
            await self._save(address, session, draft, ComposeStep.PREVIEW)
            return await self._preview(actor, draft, self._drafts.ref_of(session))
        elif action == "send":
            pressed = _send_args(args)
            author = self._alerting.author_of(person, messenger_name, actor)
            return await self._send(actor, session, draft, pressed, author, language)
        elif action == "cancel":
            await self._drafts.discard(address)
            return Shown(Screen.DISCARDED)
        else:
            return Shown(Screen.USE_BUTTONS, draft)
        await self._save(address, session, draft)
        return await self._menu(actor, draft)

    async def type_in(self, address: Address, actor: Actor | None, session: Session, text: str) -> Shown:
        """Something typed while composing: the step says what it may be (``actor`` None: not a
        coordinator any more)."""
        if actor is None:
            await self._drafts.discard(address)
            return Shown(Screen.NOTHING)
        text = text.strip()
        draft = self._drafts.draft_of(session)
        language = text_language(session.step)
        if language is not None:
            if not text:
                return Shown(Screen.EMPTY_TEXT, draft)
            if len(text) > TEXT_LIMIT:
                return Shown(Screen.TEXT_TOO_LONG, draft, length=len(text))
            draft.texts[language] = text
            following = _next_language(language)
            if following is not None:
                await self._save(address, session, draft, text_step(following))
                return Shown(Screen.ASK_TEXT, draft, language=following)
        elif session.step == ComposeStep.NEED:
            if not text.isdigit() or int(text) <= 0:
                return Shown(Screen.BAD_NEED, draft)
            draft.need = int(text)
        elif session.step == ComposeStep.BY:
            when = read_respond_by(text, datetime.now(UTC))
            if isinstance(when, Problem):
                return Shown(Screen.PAST_BY if when.code == "past_by" else Screen.BAD_BY, draft, problems=[when])
            draft.respond_by = when
        else:
            return Shown(Screen.USE_BUTTONS, draft)
        await self._save(address, session, draft, ComposeStep.MENU)
        return await self._menu(actor, draft, new_message=True)

    def offered_areas(self, actor: Actor) -> list[Municipality]:
        """The municipalities the composer's list offers ``actor``: those of their scope."""
        return [m for m in places.municipalities() if actor.scope.covers_area(m.atvk)]

    async def offered_countries(self, actor: Actor, language: str) -> list[str]:
        """The countries the composer's list offers ``actor``, within their scope: first those
        where people live, then the diaspora's, then all others by name in ``language``."""
        present = await self._alerting.countries_abroad()
        everyone = [code for code, _ in places.all_countries(language) if code != places.LATVIA]
        codes = dict.fromkeys([*present, *places.DIASPORA_COUNTRIES, *everyone])
        return [c for c in codes if actor.scope.covers_country(c)]

    def offers_everyone_abroad(self, actor: Actor) -> bool:
        return actor.scope.covers_country(ALL_ABROAD)

    def author_of(self, person: Person | None, messenger_name: str, actor: Actor) -> Author:
        return self._alerting.author_of(person, messenger_name, actor)

    # ----- the rules behind the screens ------------------------------------------------

    async def _save(self, address: Address, session: Session, draft: AlertDraft, step: str | None = None) -> None:
        await self._drafts.save(address, session, draft, step)

    async def _menu(self, actor: Actor, draft: AlertDraft, new_message: bool = False) -> Shown:
        audience = await self._alerting.audience_of(draft, actor)
        return Shown(Screen.MENU, draft, new_message=new_message, audience=audience)

    async def _view(self, actor: Actor, draft: AlertDraft, view: View, page: int = 0) -> Shown:
        """A list, with the live count (every screen shows whom the draft reaches now)."""
        audience = await self._alerting.audience_of(draft, actor)
        return Shown(Screen.VIEW, draft, view=view, page=page, audience=audience)

    async def _preview(self, actor: Actor, draft: AlertDraft, ref: DraftRef) -> Shown:
        if not draft.has_text:
            return Shown(Screen.NO_TEXT, draft)
        problem = outside_scope(actor, draft.audience.areas, draft.audience.countries)
        if problem is not None:  # e.g. the scope was narrowed since the places were chosen
            await self._drafts.move_to(actor.address, ComposeStep.MENU)
            return Shown(Screen.OUTSIDE_SCOPE, draft, problems=[problem])
        audience = await self._alerting.audience_of(draft, actor)
        if not audience.recipients:
            await self._drafts.move_to(actor.address, ComposeStep.MENU)
            return Shown(Screen.NOBODY, draft, audience=audience)
        return Shown(Screen.PREVIEW, draft, audience=audience, ref=ref)

    async def _send(
        self,
        actor: Actor,
        session: Session,
        draft: AlertDraft,
        pressed: tuple[DraftRef, int] | None,
        author: Author,
        language: str,
    ) -> Shown:
        address = actor.address
        current = self._drafts.ref_of(session)
        if pressed is None or pressed[0] != current:
            # an older preview (edited, replaced): nothing is sent; the current draft is shown
            if session.step == ComposeStep.PREVIEW:
                again = await self._preview(actor, draft, current)
            else:
                again = await self._menu(actor, draft, new_message=True)
            return Shown(Screen.STALE, draft, stale=again)
        if session.step != ComposeStep.PREVIEW:
            return Shown(Screen.NOT_PREVIEWED, draft)
        previewed = pressed[1]
        audience = await self._alerting.audience_of(draft, actor)
        now = len(audience.recipients)
        if not audience.recipients:
            await self._drafts.move_to(address, ComposeStep.MENU)
            return Shown(Screen.NOBODY, draft, audience=audience)
        if abs(now - previewed) > AUDIENCE_TOLERANCE * previewed:
            # the audience grew or shrank since the preview: the coordinator confirms again
            await self._save(address, session, draft)
            return Shown(Screen.PREVIEW, draft, audience=audience, ref=current, changed_from=previewed)
        await self._drafts.discard(address)  # a second press cannot send twice
        if self._approvals.needed(draft, now):
            # large or critical: a second person approves it before anything is sent
            submitted = await self._approvals.submit(
                draft, actor=actor, author=author, author_language=language, audience=audience
            )
            if isinstance(submitted, NoApprover):
                await self._drafts.save(address, session, draft)  # kept as it was: its preview's Send still works
                return Shown(Screen.NO_APPROVER, draft, audience=audience)
            return Shown(Screen.AWAITING_APPROVAL, draft, audience=audience, submitted=submitted)
        # to whom the press just counted (a national roster's audience is read once, not twice)
        sent = await self._alerting.send_alert(
            draft, actor=actor, author=author, author_language=language, audience=audience
        )
        return Shown(Screen.SENT, draft, sent=sent)


def send_data(ref: DraftRef, recipients: int) -> str:
    """The callback data of a preview's Send: the draft, its version and the count it showed."""
    return f"cmp:send:{ref.id}:{ref.version}:{recipients}"


def _send_args(args: list[str]) -> tuple[DraftRef, int] | None:
    """``send_data``'s arguments read back; None for anything else (an old ``cmp:send``)."""
    if len(args) != 3 or not args[1].isdigit() or not args[2].isdigit():
        return None
    return DraftRef(args[0], int(args[1])), int(args[2])
