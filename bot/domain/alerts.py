"""Alerts: what a coordinator asks for, whom it reaches, and the one-line ``/alert`` form."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

from bot.domain import places, skills
from bot.domain.coalition import Reachable
from bot.domain.languages import DEFAULT_LANGUAGE
from bot.domain.people import ALL_ABROAD, LATVIA_TZ, Address, StoredTimes, stored_problem
from bot.domain.spreadsheet import neutralise


class Severity(StrEnum):
    """``alerts.severity`` (the CHECK constraint in db/migrations/0002_alerts.sql)."""

    INFO = "info"
    URGENT = "urgent"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    """``alerts.status``."""

    OPEN = "open"
    CLOSED = "closed"


class Delivery(StrEnum):
    """``recipients.delivery``: how far the alert message to one recipient got."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"


class Response(StrEnum):
    """``recipients.response``: a recipient's answer."""

    NONE = "none"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    STANDBY = "standby"


SEVERITIES = tuple(Severity)
TEXT_LIMIT = 3500  # leaves room in Telegram's 4096 for the heading, sender and respond-by lines
ONE_LINE_KEYS = ("skills", "areas", "countries", "langs", "severity", "need", "drill", "by")


class Member(Reachable, StoredTimes, Protocol):
    """What choosing an alert's audience and queueing it read of a person: a ``Person``, or the
    lean ``Target`` that ``PeopleRepo.targets`` loads for a preview. Where they are and whom
    they belong to (``Reachable``) and their stored quiet hours and zone (``StoredTimes``) come
    from the rules that read them."""

    @property
    def id(self) -> int: ...
    @property
    def address(self) -> Address: ...
    @property
    def language(self) -> str: ...
    @property
    def skills(self) -> tuple[str, ...]: ...
    @property
    def active(self) -> bool: ...
    @property
    def blocked(self) -> bool: ...
    def is_paused(self, now: datetime) -> bool: ...
    def in_quiet_hours(self, now: datetime) -> bool: ...


@dataclass
class AudienceFilter:
    """AND across dimensions, OR within one. Place is one dimension: people in any of
    ``areas`` (ATVK codes) or abroad in any of ``countries`` (``*``: anywhere abroad)."""

    skills: list[str] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)

    def matches(self, p: Member) -> bool:
        if self.skills and not set(self.skills) & set(p.skills):
            return False
        if self.langs and p.language not in self.langs:
            return False
        if self.areas or self.countries:
            in_area = p.location_kind == "lv" and p.municipality in self.areas
            abroad = p.location_kind == "abroad" and (
                ALL_ABROAD in self.countries or (p.country or "") in self.countries
            )
            if not (in_area or abroad):
                return False
        return True

    def to_dict(self) -> dict[str, list[str]]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, list[str]]) -> AudienceFilter:
        return cls(**{k: list(data.get(k, [])) for k in ("skills", "areas", "countries", "langs")})


@dataclass
class AlertDraft:
    """What a coordinator is writing. ``texts``: language code -> text, in the order they
    were written; a language without its own text reads the default language's (the text for
    everyone), else any."""

    audience: AudienceFilter = field(default_factory=AudienceFilter)
    texts: dict[str, str] = field(default_factory=dict)
    severity: Severity = Severity.URGENT
    need: int | None = None
    respond_by: datetime | None = None
    drill: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "audience": self.audience.to_dict(),
            "texts": dict(self.texts),
            "severity": self.severity,
            "need": self.need,
            "respond_by": self.respond_by.isoformat() if self.respond_by else None,
            "drill": self.drill,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlertDraft:  # as to_dict wrote it, decoded from JSON
        """Also a draft saved before texts were a mapping (``text_lv``/``text_en``), e.g. in a
        session that was open across the upgrade."""
        respond_by = data.get("respond_by")
        need = data.get("need")
        return cls(
            audience=AudienceFilter.from_dict(data.get("audience") or {}),
            texts=texts_of(data),
            severity=Severity(str(data.get("severity") or Severity.URGENT)),
            need=need if isinstance(need, int) else None,
            respond_by=datetime.fromisoformat(respond_by) if isinstance(respond_by, str) else None,
            drill=bool(data.get("drill")),
        )

    @property
    def has_text(self) -> bool:
        return any(self.texts.values())

    def text_for(self, lang: str) -> str:
        own = self.texts.get(lang) or self.texts.get(DEFAULT_LANGUAGE)
        return own or next((text for text in self.texts.values() if text), "")


@dataclass(frozen=True)
class DraftRef:
    """Which draft, as it was: a preview's Send button carries it, so it sends exactly what
    that preview showed (``id`` is new for every draft, ``version`` grows with each change)."""

    id: str
    version: int


def texts_of(data: Mapping[str, object]) -> dict[str, str]:
    """The texts of a saved draft: its ``texts`` mapping, or the ``text_lv``/``text_en`` keys of
    an older one."""
    saved = data.get("texts")
    if isinstance(saved, dict):
        return {str(lang): text for lang, text in saved.items() if isinstance(text, str) and text}
    legacy = {"lv": data.get("text_lv"), "en": data.get("text_en")}
    return {lang: text for lang, text in legacy.items() if isinstance(text, str) and text}


@dataclass
class Alert:
    """An alert as sent: the draft plus who sent it, when, and where it stands."""

    id: int
    draft: AlertDraft
    author_name: str
    organisation: str
    created_at: datetime
    status: AlertStatus = AlertStatus.OPEN
    author_channel: str = "telegram"
    author_external_id: str = ""
    author_language: str = "lv"
    organisation_id: int | None = None  # the organisation it was sent for (None: an admin's own)
    organisation_code: str = ""  # that organisation's code ("" : none)
    verify_code: str | None = None  # /verify_CODE (bot.domain.verification); None: sent before codes

    @property
    def author(self) -> Address:
        return Address(self.author_channel, self.author_external_id)

    @property
    def open(self) -> bool:
        return self.status == AlertStatus.OPEN


@dataclass
class Tally:
    """An alert's recipients counted by delivery and by answer (field names are the values
    of ``Delivery`` and ``Response``)."""

    total: int = 0
    queued: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    accepted: int = 0
    declined: int = 0
    standby: int = 0
    none: int = 0


class AnswerStatus(StrEnum):
    """What became of a tap: recorded, too late (the alert is closed), or not for this person."""

    OK = "ok"
    CLOSED = "closed"
    NOT_RECIPIENT = "not_recipient"


@dataclass(frozen=True)
class Promotion:
    """The standby person who moved up when an accepted person withdrew."""

    recipient_id: int
    address: Address
    language: str
    name: str | None = None


@dataclass
class Answer:
    """What became of a tap, and the answer it left."""

    status: AnswerStatus
    response: Response = Response.NONE
    previous: Response = Response.NONE
    promoted: Promotion | None = None
    alert: Alert | None = None  # the alert as it was when the tap was recorded
    name: str | None = None  # of the person who tapped (for the coordinator's line on a withdrawal)

    @property
    def withdrew(self) -> bool:
        """A confirmed or standby person said they can't after all."""
        return self.response == Response.DECLINED and self.previous in (Response.ACCEPTED, Response.STANDBY)


@dataclass(frozen=True)
class RosterEntry:
    """Someone who answered an alert, for the coordinator: who is coming and how to reach them."""

    name: str
    response: Response
    eta: str | None
    responded_at: datetime | None
    phone: str | None
    address: Address
    member_of: tuple[int, ...] = ()  # the organisations the person belongs to
    phone_visible_to: tuple[int, ...] = ()  # those of them that may see the phone number


class RosterChangeKind(StrEnum):
    WITHDREW = "withdrew"
    PROMOTED = "promoted"


@dataclass(frozen=True)
class RosterChange:
    """Told to the coordinator in one short line."""

    kind: RosterChangeKind
    name: str


@dataclass
class ExportRow:
    """One recipient of an alert, as exported to the coordinator."""

    telegram_id: str
    delivery: str
    response: str
    eta: str | None
    responded_at: str | None
    name: str | None
    phone: str | None
    language: str
    municipality: str | None
    country: str | None
    city: str | None
    member_of: tuple[int, ...] = ()  # not exported: who may see ``phone`` (bot.domain.coalition.phone_shown)
    phone_visible_to: tuple[int, ...] = ()


EXPORT_HEADER = (
    "telegram_id",
    "delivery",
    "response",
    "eta",
    "responded_at",
    "name",
    "phone",
    "language",
    "municipality",
    "country",
    "city",
)


def write_export_csv(rows: list[ExportRow], out: TextIO) -> None:
    """The alert export: a promise to coordinators' spreadsheets, so the header is fixed."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_HEADER)
    for r in rows:
        writer.writerow([neutralise(getattr(r, col) or "") for col in EXPORT_HEADER])


@dataclass
class Audience:
    recipients: list[Member]
    paused: int = 0
    blocked: int = 0
    quiet: int = 0
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (person id, why) for unusable stored data
    out_of_scope: int = 0  # matched the filter, but the sender may not reach them (scope, organisation)


def select_audience(
    people: Iterable[Member],
    audience: AudienceFilter,
    severity: Severity,
    now: datetime,
    reach: Callable[[Member], bool] | None = None,
) -> Audience:
    """Who gets the alert; people the sender may not reach (``reach``: the coalition's rule
    for the sender, ``bot.domain.coalition.may_reach``) and paused, blocked and (unless
    critical) quiet-hours people are left out and counted separately. A person whose stored
    data is unusable (quiet hours or a time zone that cannot be read) is skipped and listed in
    ``invalid``: no one row can stop an alert. This is the rule, in full:
    ``PeopleRepo.targets`` only narrows the rows it reads, it never decides."""
    result = Audience(recipients=[])
    for p in people:
        if not p.active or not audience.matches(p):
            continue
        if reach is not None and not reach(p):
            result.out_of_scope += 1
            continue
        problem = stored_problem(p)
        if problem is not None:
            result.invalid.append((p.id, problem))
        elif p.blocked:
            result.blocked += 1
        elif p.is_paused(now):
            result.paused += 1
        elif severity != Severity.CRITICAL and p.in_quiet_hours(now):
            result.quiet += 1
        else:
            result.recipients.append(p)
    return result


def delivery_seconds(recipients: int, rate: float) -> float:
    return recipients / rate if rate > 0 else 0.0


# ----- the one-line form ------------------------------------------------------------


@dataclass
class Problem:
    """A reason the one-line form was refused: a message id and its values, translated by
    the caller (the domain does not speak any language)."""

    code: str
    values: dict[str, str] = field(default_factory=dict)


_DURATION = re.compile(r"^(\d{1,3})\s*(m|min|h)$")
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})$")
# the quotes phones type for " (and their single counterparts): one and the same in the one-line form
QUOTES = "\"„“”‟«»‘’‚‛'"
_KEY = re.compile(r"([A-Za-z_]+)=")
_KEY_IN_TEXT = re.compile(r"(?<![\w=])(" + "|".join(ONE_LINE_KEYS) + r")\s*=", re.IGNORECASE)
DRILL_YES = ("yes", "true", "1", "jā", "ja")
DRILL_NO = ("no", "false", "0", "nē", "ne")


def read_respond_by(value: str, now: datetime, tz: str = LATVIA_TZ) -> datetime | Problem:
    """'90m', '2h' from now, or a clock time like '18:30' in ``tz``: the occurrence nearest to
    now (so '01:00' at 23:00 is tomorrow's), refused as ``past_by`` when that has gone by
    (``by=18:30`` at 21:05), as ``bad_by`` when it is not a time at all."""
    value = value.strip().lower()
    m = _DURATION.match(value)
    if m:
        amount = int(m.group(1))
        delta = timedelta(hours=amount) if m.group(2) == "h" else timedelta(minutes=amount)
        return now + delta if delta > timedelta(0) else Problem("bad_by", {"value": value})
    m = _CLOCK.match(value)
    if m and int(m.group(1)) < 24 and int(m.group(2)) < 60:
        zone = ZoneInfo(tz)
        local = now.astimezone(zone)
        today = local.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=0, microsecond=0)
        # wall-clock arithmetic in the zone, then normalised (a DST change moves it by the hour it should)
        choices = [(today + timedelta(days=d)).astimezone(UTC) for d in (-1, 0, 1)]
        target = min(choices, key=lambda c: abs(c - now))
        if target <= now:
            return Problem("past_by", {"value": value, "now": local.strftime("%H:%M")})
        return target
    return Problem("bad_by", {"value": value})


def parse_respond_by(value: str, now: datetime, tz: str = LATVIA_TZ) -> datetime | None:
    """``read_respond_by`` without the reason: None for a time past or not a time."""
    when = read_respond_by(value, now, tz)
    return when if isinstance(when, datetime) else None


@dataclass
class OneLine:
    """The one-line form read: the draft (None when refused, then ``problems``), and
    ``notes`` for the preview (``twins``: a name that is a state city's and its novads')."""

    draft: AlertDraft | None
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def _unquote(value: str) -> str:
    return "".join(c for c in value if c not in QUOTES)


def _split_options(args: str) -> tuple[list[tuple[str, str]], str]:
    """Leading ``key=value`` words, and the text after them. A value runs to the next space
    outside quotes; any of ``QUOTES`` opens and any closes a quoted part."""
    options: list[tuple[str, str]] = []
    rest = args.strip()
    while True:
        m = _KEY.match(rest)
        if not m:
            return options, rest
        i, quoted = m.end(), False
        while i < len(rest) and (quoted or not rest[i].isspace()):
            if rest[i] in QUOTES:
                quoted = not quoted
            i += 1
        options.append((m.group(1).lower(), rest[m.end() : i]))
        rest = rest[i:].lstrip()


def _suggest(problem: str, value: str, suggestions: list[str]) -> Problem:
    values = {"value": value}
    if suggestions:
        values["suggestions"] = ", ".join(suggestions)
    return Problem(problem, values)


def parse_one_line(args: str, now: datetime, languages: Collection[str]) -> OneLine:
    """``[skills=a,b] [areas=X,Y] [countries=GB,IE] [langs=lv,en] [severity=…] [need=N]
    [drill=yes] [by=2h|18:30] TEXT``: leading ``key=value`` words, then the text, which is
    for everyone. Values resolve exactly or are refused with suggestions; a known key with
    ``=`` inside the text is refused too (it was meant as an option: a value with spaces not
    in quotes). ``langs`` must be among ``languages`` (the enabled language codes)."""
    draft = AlertDraft()
    problems: list[Problem] = []
    notes: list[Problem] = []
    options, text = _split_options(args)
    for key, raw in options:
        value = _unquote(raw).strip()
        items = [v.strip() for v in value.split(",") if v.strip()]
        if key not in ONE_LINE_KEYS:
            problems.append(Problem("unknown_key", {"key": key}))
        elif key == "skills":
            for code in items:
                if skills.skill(code.lower()) is None:
                    close = skills.suggest_skill(code)
                    problems.append(_suggest("unknown_skill", code, [close] if close else []))
                else:
                    draft.audience.skills.append(code.lower())
        elif key == "areas":
            for name in items:
                found = places.exact_municipality(name)
                if not found.found:
                    problems.append(_suggest("unknown_area", name, [m.name_lv for m in found.suggestions]))
                    continue
                draft.audience.areas.extend(m.atvk for m in found.found)
                if found.twins:
                    city, novads = found.found
                    notes.append(Problem("twins", {"value": name, "city": city.atvk, "municipality": novads.atvk}))
        elif key == "countries":
            for code in items:
                if code in (ALL_ABROAD, "all"):
                    draft.audience.countries.append(ALL_ABROAD)
                    continue
                match = places.exact_country(code, languages)
                if not match.found or match.found[0] == places.LATVIA:
                    problems.append(_suggest("unknown_country", code, [c for c in match.suggestions if c != "LV"]))
                else:
                    draft.audience.countries.append(match.found[0])
        elif key == "langs":
            for lang in items:
                if lang.lower() not in languages:
                    problems.append(Problem("unknown_language", {"value": lang, "languages": ", ".join(languages)}))
                else:
                    draft.audience.langs.append(lang.lower())
        elif key == "severity":
            if value.lower() not in SEVERITIES:
                problems.append(Problem("bad_severity", {"value": value}))
            else:
                draft.severity = Severity(value.lower())
        elif key == "need":
            if not value.isdigit() or not 0 < int(value) <= 100000:
                problems.append(Problem("bad_need", {"value": value}))
            else:
                draft.need = int(value)
        elif key == "drill":
            if value.lower() not in DRILL_YES + DRILL_NO:
                problems.append(Problem("bad_drill", {"value": value}))
            else:
                draft.drill = value.lower() in DRILL_YES
        elif key == "by":
            when = read_respond_by(value, now)
            if isinstance(when, Problem):
                problems.append(when)
            else:
                draft.respond_by = when
    text = text.strip()
    leftover = list(dict.fromkeys(m.group(1).lower() for m in _KEY_IN_TEXT.finditer(text)))
    if leftover:
        problems.append(Problem("keys_in_text", {"keys": ", ".join(f"{k}=" for k in leftover)}))
    if not text:
        problems.append(Problem("no_text"))
    elif len(text) > TEXT_LIMIT:
        problems.append(Problem("text_too_long", {"length": str(len(text)), "limit": str(TEXT_LIMIT)}))
    for dim in ("skills", "areas", "countries", "langs"):
        values = getattr(draft.audience, dim)
        setattr(draft.audience, dim, list(dict.fromkeys(values)))
    if text:
        draft.texts = {DEFAULT_LANGUAGE: text}
    if problems:
        return OneLine(None, problems)
    return OneLine(draft, notes=notes)
