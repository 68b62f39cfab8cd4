"""The input boundary for buttons: every callback's data is parsed here into a typed command
before any handler sees it, and every value is checked against what its button may carry
(presets by index, countries against ISO codes and never Latvia for abroad, time zones and
pages in range, ids within SQLite's 64-bit range). Data that does not parse is answered with
"That button is no longer valid", logged once, and changes nothing; so is any button in a
group chat, with "Please write to me privately" (``handlers.boundary``).

A modified client can send any data, so nothing here trusts it: :func:`parse` returns a
command or None and never raises."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler, ContextTypes

from bot.application.composer import BY_PRESETS
from bot.application.talkback import TOKEN
from bot.domain import places, skills
from bot.domain.alerts import Severity
from bot.domain.coalition import valid_invite_code
from bot.domain.people import ALL_ABROAD, AVAILABILITY, is_abroad_country
from bot.i18n import is_supported
from bot.messenger.keyboards import NOOP

MAX_ID = 2**63 - 1  # SQLite's INTEGER
MAX_DATA_BYTES = 64  # Telegram's limit for callback data
MUNI_PAGE = 10  # municipalities per page, in registration and in the composer
TIMEZONE_BUTTONS = places.MAX_TIMEZONE_CHOICES  # the time zone step shows at most this many
QUIET_PRESETS = ("22:00-07:00", "23:00-08:00")  # the quiet hours offered as buttons, by index

_NUMBER = re.compile(r"[0-9]{1,19}")


# ----- the commands ------------------------------------------------------------------------


@dataclass(frozen=True)
class Noop:
    """A heading or a page counter."""


@dataclass(frozen=True)
class ChooseLanguage:
    lang: str


@dataclass(frozen=True)
class ChooseCoordinatorLanguage:
    """``clang:<code>``: a coordinator who is not a volunteer chooses the bot's language."""

    lang: str


@dataclass(frozen=True)
class Consent:
    lang: str
    agreed: bool


class StepAction(StrEnum):
    """``reg:<action>``: the buttons of the registration steps."""

    NAME_OK = "name_ok"
    WHERE = "where"
    ABROAD = "abroad"  # a location outside Latvia: go abroad after all
    MUNICIPALITY = "muni"
    MUNICIPALITY_PAGE = "mpage"
    COUNTRY = "country"
    TIMEZONE = "tz"
    SKILL = "skill"
    SKILLS_DONE = "skills_done"
    AVAILABILITY = "avail"
    QUIET = "quiet"
    COALITION = "coalition"  # reg:coalition:yes|no, "Other organisations in the coalition may call me"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class StepButton:
    """``value``: a checked code (municipality, country, skill, availability, ``lv`` or
    ``abroad``, ``yes`` or ``no``); ``number``: a page, a time zone's index or a quiet-hours
    preset's index (None for "no quiet hours")."""

    action: StepAction
    value: str | None = None
    number: int | None = None


class ProfilePart(StrEnum):
    NAME = "name"
    WHERE = "where"
    SKILLS = "skills"
    AVAILABILITY = "availability"
    QUIET = "quiet"
    PHONE = "phone"
    ORGANISATIONS = "orgs"  # who can call the person: their organisations
    LANGUAGE = "language"
    DONE = "done"


@dataclass(frozen=True)
class ProfileButton:
    part: ProfilePart


class MembershipAction(StrEnum):
    """``mem:<action>…``: the buttons of /profile's organisations."""

    OPEN = "open"  # mem:open:yes|no, other organisations may call me
    PHONE = "phone"  # mem:phone:<organisation id>:yes|no, it may see my phone number
    LEAVE = "leave"  # mem:leave:<organisation id>, asks first
    LEAVE_YES = "leaveyes"  # mem:leaveyes:<organisation id>
    BACK = "back"  # the organisations again
    DONE = "done"


@dataclass(frozen=True)
class MembershipButton:
    """``organisation_id``: for PHONE, LEAVE and LEAVE_YES; ``allowed``: for OPEN and PHONE."""

    action: MembershipAction
    organisation_id: int | None = None
    allowed: bool | None = None


@dataclass(frozen=True)
class NoticeButton:
    """``notice:<version>:yes|no``: the person agrees to that version of the privacy notice,
    or would rather erase their data (/forget's question)."""

    version: int
    agreed: bool


class PauseChoice(StrEnum):
    OPEN = "open"
    WEEK = "week"
    DATE = "date"


@dataclass(frozen=True)
class PauseButton:
    choice: PauseChoice


@dataclass(frozen=True)
class ForgetButton:
    erase: bool


class AnswerChoice(StrEnum):
    YES = "yes"
    IN_30M = "30m"
    IN_2H = "2h"
    NO = "no"


@dataclass(frozen=True)
class AnswerButton:
    alert_id: int
    choice: AnswerChoice


class TrackingAction(StrEnum):
    REMIND = "remind"
    FOLLOWUP = "followup"
    CLOSE = "close"
    CLOSE_YES = "closeyes"
    KEEP = "keep"
    EXPORT = "export"


@dataclass(frozen=True)
class TrackingButton:
    action: TrackingAction
    alert_id: int


class TalkAction(StrEnum):
    """``talk:<action>``: talk-back's buttons."""

    SEND = "send"  # talk:send:<alert id>:<token>, the volunteer's Yes
    DROP = "drop"  # talk:drop:<token>, the volunteer's No
    REPLY = "reply"  # talk:reply:<message id>, the coordinator's Reply


@dataclass(frozen=True)
class TalkButton:
    """``number``: an alert id (SEND) or a message id (REPLY); ``token``: the question's (SEND, DROP)."""

    action: TalkAction
    number: int | None = None
    token: str | None = None


class ApprovalAction(StrEnum):
    """``apv:<action>:<request id>``: a request for a second person's approval."""

    APPROVE = "yes"
    REJECT = "no"  # asks for the reason
    NO_REASON = "noreason"  # reject without giving one
    OPEN = "open"  # /pending: show the request again


@dataclass(frozen=True)
class ApprovalButton:
    action: ApprovalAction
    approval_id: int


class ComposerView(StrEnum):
    SKILLS = "skills"
    AREAS = "areas"
    ABROAD = "abroad"
    LANGS = "langs"
    BY = "by"
    SEVERITY = "sev"


# The composer's buttons without a value, and those with one (``cmp:<action>:<value>``).
COMPOSER_PLAIN = frozenset({"menu", "sev", "drill", "text", "same", "need", "noneed", "preview", "send", "cancel"})
COUNTRY_PAGES = 100  # more than the composer's pages of countries can ever be
_DRAFT_ID = re.compile(r"[A-Za-z0-9_-]{1,24}")


@dataclass(frozen=True)
class ComposerButton:
    """``cmp:<action>[:<arg>…]``, each argument checked for its action: a view, a skill, a
    municipality or country (with the page it was shown on), a language, an answer-by preset
    or ``none``, a level (``critical:ok`` once confirmed), a page, or a preview's Send with its
    draft, version and count."""

    action: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class InviteButton:
    """``inv:<yes|no>:<code>``: accept or decline the invite link one opened (``code``: its code,
    checked for the codes' form; whether it is a real link is the use case's)."""

    accept: bool
    code: str


class CoordinatorAction(StrEnum):
    """``crd:<action>:<telegram id>``: /coordinators' buttons."""

    ASK = "ask"  # Revoke: ask to confirm
    REVOKE = "yes"  # confirmed
    KEEP = "no"


@dataclass(frozen=True)
class CoordinatorButton:
    action: CoordinatorAction
    telegram_id: int


Command = (
    Noop
    | ChooseLanguage
    | ChooseCoordinatorLanguage
    | Consent
    | StepButton
    | ProfileButton
    | MembershipButton
    | NoticeButton
    | PauseButton
    | ForgetButton
    | AnswerButton
    | TrackingButton
    | ComposerButton
    | TalkButton
    | ApprovalButton
    | InviteButton
    | CoordinatorButton
)


# ----- parsing -----------------------------------------------------------------------------


def _id(text: str) -> int | None:
    if not _NUMBER.fullmatch(text):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_id(text: str) -> int | None:
    """An id typed after a command ("12" or "#12"), within SQLite's range; None otherwise."""
    return _id(text.removeprefix("#"))


def _index(text: str, limit: int) -> int | None:
    """A whole number 0 <= n < limit."""
    if not _NUMBER.fullmatch(text) or len(text) > 6:
        return None
    value = int(text)
    return value if value < limit else None


def municipality_pages() -> int:
    return max(1, -(-len(places.municipalities()) // MUNI_PAGE))


def _enum(kind: type[StrEnum], text: str) -> StrEnum | None:
    try:
        return kind(text)
    except ValueError:
        return None


def _step(args: list[str]) -> StepButton | None:
    action = _enum(StepAction, args[0]) if args else None
    rest = args[1:]
    if action is None:
        return None
    assert isinstance(action, StepAction)
    if action in (StepAction.NAME_OK, StepAction.SKILLS_DONE, StepAction.CONFIRM, StepAction.ABROAD):
        return StepButton(action) if not rest else None
    if len(rest) != 1:
        return None
    value = rest[0]
    if action == StepAction.WHERE:
        return StepButton(action, value) if value in ("lv", "abroad") else None
    if action == StepAction.MUNICIPALITY:
        return StepButton(action, value) if places.municipality(value) is not None else None
    if action == StepAction.MUNICIPALITY_PAGE:
        page = _index(value, municipality_pages())
        return StepButton(action, number=page) if page is not None else None
    if action == StepAction.COUNTRY:
        return StepButton(action, value) if is_abroad_country(value) else None
    if action == StepAction.TIMEZONE:
        index = _index(value, TIMEZONE_BUTTONS)
        return StepButton(action, number=index) if index is not None else None
    if action == StepAction.SKILL:
        return StepButton(action, value) if skills.skill(value) is not None else None
    if action == StepAction.AVAILABILITY:
        return StepButton(action, value) if value in AVAILABILITY else None
    if action == StepAction.COALITION:
        return StepButton(action, value) if value in ("yes", "no") else None
    # StepAction.QUIET: a preset's index, or none
    if value == "none":
        return StepButton(action)
    preset = _index(value, len(QUIET_PRESETS))
    return StepButton(action, number=preset) if preset is not None else None


_YES_NO = {"yes": True, "no": False}


def _membership(args: list[str]) -> MembershipButton | None:
    action = _enum(MembershipAction, args[0]) if args else None
    rest = args[1:]
    if not isinstance(action, MembershipAction):
        return None
    if action in (MembershipAction.BACK, MembershipAction.DONE):
        return MembershipButton(action) if not rest else None
    if action == MembershipAction.OPEN:
        return MembershipButton(action, allowed=_YES_NO[rest[0]]) if len(rest) == 1 and rest[0] in _YES_NO else None
    if action in (MembershipAction.LEAVE, MembershipAction.LEAVE_YES):
        organisation_id = _id(rest[0]) if len(rest) == 1 else None
        return MembershipButton(action, organisation_id) if organisation_id else None
    if action == MembershipAction.PHONE and len(rest) == 2 and rest[1] in _YES_NO:
        organisation_id = _id(rest[0])
        return MembershipButton(action, organisation_id, _YES_NO[rest[1]]) if organisation_id else None
    return None


def _talk(args: list[str]) -> TalkButton | None:
    action = _enum(TalkAction, args[0]) if args else None
    rest = args[1:]
    if action == TalkAction.SEND and len(rest) == 2 and TOKEN.fullmatch(rest[1]):
        alert_id = _id(rest[0])
        return TalkButton(TalkAction.SEND, alert_id, rest[1]) if alert_id else None
    if action == TalkAction.DROP and len(rest) == 1 and TOKEN.fullmatch(rest[0]):
        return TalkButton(TalkAction.DROP, token=rest[0])
    if action == TalkAction.REPLY and len(rest) == 1:
        message_id = _id(rest[0])
        return TalkButton(TalkAction.REPLY, message_id) if message_id else None
    return None


def _composer(args: list[str]) -> ComposerButton | None:
    if not args:
        return None
    action, rest = args[0], tuple(args[1:])
    if action in COMPOSER_PLAIN and not rest:
        return ComposerButton(action)
    ok = False
    if action == "arp":
        ok = len(rest) == 1 and _index(rest[0], municipality_pages()) is not None
    elif action == "cop":
        ok = len(rest) == 1 and _index(rest[0], COUNTRY_PAGES) is not None
    elif action == "ar":
        ok = len(rest) == 2 and places.municipality(rest[0]) is not None
        ok = ok and _index(rest[1], municipality_pages()) is not None
    elif action == "co":
        ok = len(rest) in (1, 2) and (rest[0] == ALL_ABROAD or is_abroad_country(rest[0]))
        ok = ok and (len(rest) == 1 or _index(rest[1], COUNTRY_PAGES) is not None)
    elif action == "sev":
        level = _enum(Severity, rest[0]) if rest else None
        ok = level is not None and (len(rest) == 1 or (rest[1:] == ("ok",) and level == Severity.CRITICAL))
    elif action == "send":
        ok = len(rest) == 3 and _DRAFT_ID.fullmatch(rest[0]) is not None and _id(rest[1]) is not None
        ok = ok and _NUMBER.fullmatch(rest[2]) is not None
    elif len(rest) == 1:
        checks: dict[str, Callable[[str], bool]] = {
            "v": lambda v: _enum(ComposerView, v) is not None,
            "sk": lambda v: skills.skill(v) is not None,
            "lg": is_supported,
            "by": lambda v: v == "none" or v in BY_PRESETS,
        }
        check = checks.get(action)
        ok = check is not None and check(rest[0])
    return ComposerButton(action, rest) if ok else None


def parse(data: object) -> Command | None:
    """The command a button's data stands for; None for anything no button of ours carries."""
    if not isinstance(data, str) or len(data.encode("utf-8", "replace")) > MAX_DATA_BYTES:
        return None
    if data == NOOP:
        return Noop()
    prefix, *args = data.split(":")
    if prefix == "lang":
        return ChooseLanguage(args[0]) if len(args) == 1 and is_supported(args[0]) else None
    if prefix == "clang":
        return ChooseCoordinatorLanguage(args[0]) if len(args) == 1 and is_supported(args[0]) else None
    if prefix == "consent":
        if len(args) == 2 and is_supported(args[0]) and args[1] in ("yes", "no"):
            return Consent(args[0], args[1] == "yes")
        return None
    if prefix == "reg":
        return _step(args)
    if prefix == "prof":
        part = _enum(ProfilePart, args[0]) if len(args) == 1 else None
        return ProfileButton(part) if isinstance(part, ProfilePart) else None
    if prefix == "mem":
        return _membership(args)
    if prefix == "notice":
        version = _id(args[0]) if len(args) == 2 and args[1] in _YES_NO else None
        return NoticeButton(version, _YES_NO[args[1]]) if version else None
    if prefix == "pause":
        choice = _enum(PauseChoice, args[0]) if len(args) == 1 else None
        return PauseButton(choice) if isinstance(choice, PauseChoice) else None
    if prefix == "forget":
        return ForgetButton(args[0] == "yes") if len(args) == 1 and args[0] in ("yes", "no") else None
    if prefix == "ans":
        if len(args) != 2:
            return None
        alert_id, answer = _id(args[0]), _enum(AnswerChoice, args[1])
        return AnswerButton(alert_id, answer) if alert_id and isinstance(answer, AnswerChoice) else None
    if prefix == "trk":
        if len(args) != 2:
            return None
        action, alert_id = _enum(TrackingAction, args[0]), _id(args[1])
        return TrackingButton(action, alert_id) if alert_id and isinstance(action, TrackingAction) else None
    if prefix == "cmp":
        return _composer(args)
    if prefix == "talk":
        return _talk(args)
    if prefix == "apv":
        if len(args) != 2:
            return None
        choice, approval_id = _enum(ApprovalAction, args[0]), _id(args[1])
        return ApprovalButton(choice, approval_id) if approval_id and isinstance(choice, ApprovalAction) else None
    if prefix == "inv":
        if len(args) == 2 and args[0] in ("yes", "no") and valid_invite_code(args[1]):
            return InviteButton(args[0] == "yes", args[1])
        return None
    if prefix == "crd":
        if len(args) != 2:
            return None
        crd, telegram_id = _enum(CoordinatorAction, args[0]), _id(args[1])
        return CoordinatorButton(crd, telegram_id) if telegram_id and isinstance(crd, CoordinatorAction) else None
    return None


# ----- handlers ----------------------------------------------------------------------------

C = TypeVar("C", bound=Command)


def on(
    kind: type[C], callback: Callable[[Update, ContextTypes.DEFAULT_TYPE, C], Awaitable[None]]
) -> CallbackQueryHandler:
    """A handler for the buttons whose data parses into a ``kind`` command; ``callback``
    gets the command (the raw data is for this module only)."""

    async def run(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        command = parse(update.callback_query.data)
        assert isinstance(command, kind)
        await callback(update, context, command)

    return CallbackQueryHandler(run, pattern=lambda data: isinstance(parse(data), kind))
