"""``python -m bot demo``: a whole mobilisation, offline, against the local Telegram sandbox.

Two hundred simulated people register through the real chat flow, a coordinator sends an
alert with the one-line form, a second coordinator approves it (the demo has every alert
approved by a second person), people answer (some accept, some decline, some stay silent),
an accepted person withdraws and a standby person moves up, the coordinator sends a
follow-up and closes the alert. The bot is the real one (PTB's HTTP stack, a SQLite file in
a temporary directory); only Telegram is simulated, with its flood limits (30 messages a
second overall, about one a second per chat) and a 20-50 ms round trip.

The script presses buttons by their callback data, so it does not depend on the wording of
the catalogs. ``demo()`` returns a :class:`DemoReport` (the tests check it); ``run_demo()``
prints the story and returns the exit code."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import shutil
import sys
import tempfile
import textwrap
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, TextIO

from bot.domain.coalition import Actor
from bot.domain.people import Address
from bot.sandbox.scenarios import button_data, has_button, register_volunteer
from bot.sandbox.server import BotApiSandbox, SandboxObserver
from bot.sandbox.users import SimMessage, SimUser

TOKEN = "123456:SANDBOX-demo-token"
COORDINATOR_ID = 9000
COORDINATOR = ("Ilze", "Kalniņa")
APPROVER_ID = 9001  # the second admin, who approves the alert
APPROVER = ("Jānis", "Ozols")
FIRST_ID = 100_001

AREAS = "Ogre,Rīga,Jūrmala,Salaspils,Ķekava,Mārupe,Ropaži,Ādaži,Sigulda,Saulkrasti"  # Rīga and around
ALERT_TEXT = (
    "Plūdi Ogrē: Ogre izgājusi no krastiem, applūst ielas pie upes. Vajag {need} cilvēkus iedzīvotāju "
    "evakuācijai; īpaši noder pirmās palīdzības prasmes vai savs auto. / Floods in Ogre: we need {need} "
    "people to help evacuate residents; first aid skills or a car are especially useful."
)
FOLLOWUP_TEXT = (
    "Pulcēšanās: Ogres ugunsdzēsēju depo, Mālkalnes prospekts 3, plkst. 18:00. Ņemiet līdzi "
    "gumijas zābakus un lukturi. / Meeting point: Ogre fire station, Mālkalnes prospekts 3, 18:00. "
    "Bring rubber boots and a torch."
)

# ----- the population ----------------------------------------------------------------------

LV_MEN = (
    "Jānis",
    "Andris",
    "Mārtiņš",
    "Edgars",
    "Raivis",
    "Artūrs",
    "Roberts",
    "Dāvis",
    "Oskars",
    "Gatis",
    "Ivars",
    "Kristaps",
    "Uldis",
    "Normunds",
    "Aigars",
)
LV_MEN_SURNAMES = (
    "Bērziņš",
    "Kalniņš",
    "Ozoliņš",
    "Jansons",
    "Liepiņš",
    "Krūmiņš",
    "Balodis",
    "Zariņš",
    "Pētersons",
    "Vītols",
    "Kļaviņš",
    "Eglītis",
    "Siliņš",
    "Lācis",
    "Ābols",
)
LV_WOMEN = (
    "Anna",
    "Līga",
    "Ilze",
    "Kristīne",
    "Laura",
    "Dace",
    "Inese",
    "Elīna",
    "Marta",
    "Agnese",
    "Zane",
    "Sanita",
    "Evija",
    "Baiba",
    "Rūta",
)
LV_WOMEN_SURNAMES = (
    "Bērziņa",
    "Kalniņa",
    "Ozoliņa",
    "Jansone",
    "Liepiņa",
    "Krūmiņa",
    "Balode",
    "Zariņa",
    "Pētersone",
    "Vītola",
    "Kļaviņa",
    "Eglīte",
    "Siliņa",
    "Lāce",
    "Ābola",
)
OTHER_FIRST = (
    "Tom",
    "Sarah",
    "Olena",
    "Mark",
    "Emily",
    "Andriy",
    "James",
    "Sophie",
    "Daniel",
    "Kateryna",
    "Liam",
    "Grace",
)
OTHER_LAST = (
    "Walker",
    "O'Brien",
    "Kovalenko",
    "Smith",
    "Murphy",
    "Shevchenko",
    "Taylor",
    "Novak",
    "Fischer",
    "Hansen",
    "Byrne",
    "Evans",
)

# (weight, how people type it); all resolve to one municipality (some via the "did you mean" list)
PLACES: tuple[tuple[int, tuple[str, ...]], ...] = (
    (28, ("Rīga", "riga", "Rīgā", "RIGA", "Riga")),
    (14, ("Ogre", "ogre", "Ogres novads", "Ogrē", "Ikšķile", "Lielvārde", "ogres nov.")),
    (8, ("Jūrmala", "jurmala", "Jūrmalā", "Jurmalas pilseta")),
    (4, ("Cēsis", "cesis")),
    (4, ("Valmiera",)),
    (4, ("Liepāja", "liepaja")),
    (3, ("Daugavpils",)),
    (3, ("Jelgava",)),
    (3, ("Salaspils",)),
    (3, ("Sigulda",)),
    (3, ("Ķekava", "kekava")),
    (3, ("Mārupe", "marupe")),
    (2, ("Ropaži",)),
    (2, ("Ādaži", "adazi")),
    (2, ("Tukums",)),
    (2, ("Bauska",)),
    (2, ("Ventspils",)),
    (2, ("Rēzekne",)),
    (2, ("Kuldīga",)),
    (2, ("Talsi",)),
    (2, ("Madona",)),
    (2, ("Saulkrasti",)),
)
# country code, how the name is typed (None: press its button), cities
ABROAD: tuple[tuple[str, tuple[str | None, ...], tuple[str, ...]], ...] = (
    ("GB", (None, "UK", "Lielbritānija"), ("London", "Manchester", "Peterborough", "Birmingham")),
    ("IE", (None, "ireland", "Īrija"), ("Dublin", "Cork", "Limerick")),
    ("DE", (None, "Germany", "Vācija"), ("Berlin", "Hamburg", "München")),
    ("NO", (None, "Norway", "Norvēģija"), ("Oslo", "Bergen", "Stavanger")),
)
SKILL_WEIGHTS = {
    "first_aid": 30,
    "driver": 26,
    "medical": 6,
    "psych_support": 6,
    "care": 8,
    "evacuation": 8,
    "shelter": 6,
    "food": 10,
    "logistics": 10,
    "aid_sorting": 9,
    "search_rescue": 5,
    "cleanup": 9,
    "construction": 6,
    "equipment": 5,
    "animal_care": 5,
    "translation": 6,
    "it_comms": 6,
}
ABROAD_SKILLS = {
    "translation": 20,
    "it_comms": 14,
    "advocacy_media": 14,
    "fundraising": 16,
    "psych_support": 8,
    "coordination": 8,
    "legal": 5,
}


@dataclass
class Volunteer:
    """The plan for one simulated person."""

    id: int
    first: str
    last: str
    lang: str
    language_code: str
    place: str | None = None  # typed municipality (in Latvia)
    country: str | None = None  # abroad
    country_typed: str | None = None
    city: str | None = None
    skills: tuple[str, ...] = ()
    availability: str = "any"
    quiet: str | None = None
    phone: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def where(self) -> str:
        return f"{self.city}, {self.country}" if self.country else f"“{self.place}”"


def _pick(rng: random.Random, weights: dict[str, int], k: int) -> tuple[str, ...]:
    chosen: list[str] = []
    pool = dict(weights)
    for _ in range(k):
        code = rng.choices(list(pool), weights=list(pool.values()))[0]
        chosen.append(code)
        del pool[code]
    return tuple(chosen)


def population(n: int, seed: int = 7) -> list[Volunteer]:
    """``n`` people: the first three are shown in full (lv in Ogre, en in Rīga, abroad)."""
    rng = random.Random(seed)
    people: list[Volunteer] = []
    for i in range(n):
        vid = FIRST_ID + i
        abroad = i == 2 or (i > 2 and rng.random() < 0.14)
        lang = "lv" if i in (0, 2) else "en" if i == 1 else rng.choices(("lv", "en"), (0.72, 0.28))[0]
        if lang == "lv" or abroad:
            female = rng.random() < 0.55
            first = rng.choice(LV_WOMEN if female else LV_MEN)
            last = rng.choice(LV_WOMEN_SURNAMES if female else LV_MEN_SURNAMES)
        else:
            first, last = rng.choice(OTHER_FIRST), rng.choice(OTHER_LAST)
        code = lang if rng.random() < 0.8 else ("en-GB" if lang == "en" else "lv")
        v = Volunteer(vid, first, last, lang, code)
        if abroad:
            country, typed, cities = ABROAD[1] if i == 2 else rng.choice(ABROAD)
            v.country, v.country_typed, v.city = country, rng.choice(typed), rng.choice(cities)
            v.skills = _pick(rng, ABROAD_SKILLS, rng.choice((1, 1, 2, 2, 3)))
        else:
            variants = (
                PLACES[1][1]
                if i == 0
                else PLACES[0][1]
                if i == 1
                else rng.choices([p for _, p in PLACES], [w for w, _ in PLACES])[0]
            )
            v.place = variants[0] if i < 2 else rng.choice(variants)
            v.skills = ("first_aid", "driver") if i == 0 else _pick(rng, SKILL_WEIGHTS, rng.choice((1, 1, 2, 2, 3)))
        v.availability = rng.choices(("any", "weekdays", "evenings_weekends", "weekends"), (5, 2, 3, 1))[0]
        v.quiet = rng.choices((None, "22:00-07:00", "23:00-08:00"), (85, 10, 5))[0] if i > 2 else None
        if rng.random() < 0.4 or i == 0:
            v.phone = (
                f"+3712{rng.randrange(1000000, 9999999)}"
                if not abroad
                else f"+44 7{rng.randrange(100000000, 999999999)}"
            )
        people.append(v)
    return people


# ----- the sandbox, with a jittered round trip and a record of what people saw -----------------


@dataclass
class Seen:
    """One thing that happened in a chat, as the person saw it at that moment."""

    time: float
    who: str  # "bot", "edit", "user", "tap", "toast"
    text: str = ""
    buttons: list[list[str]] = field(default_factory=list)
    keyboard: list[list[str]] | None = None
    message_id: int | None = None


def _labels(msg: SimMessage) -> list[list[str]]:
    return [[label for label, _ in row] for row in msg.buttons]


class DemoSandbox(BotApiSandbox):
    """The Bot API sandbox with a 20-50 ms round trip and a recorder (through the sandbox's
    observer hooks): every bot message (and every edit) in a watched chat, every message with
    answer buttons, and every message's creation time."""

    def __init__(
        self, *args: Any, latency_range: tuple[float, float] = (0.02, 0.05), seed: int = 1, **kwargs: Any
    ) -> None:
        jitter = random.Random(seed)
        super().__init__(*args, latency=lambda: jitter.uniform(*latency_range), **kwargs)
        self.recorder = Recorder()
        self.add_observer(self.recorder)
        self.watched = self.recorder.watched
        self.answer_messages = self.recorder.answer_messages
        self.bot_sends = self.recorder.bot_sends


class Recorder(SandboxObserver):
    """What watched people saw, as it happened (see :class:`DemoSandbox`)."""

    def __init__(self) -> None:
        self.watched: dict[int, list[Seen]] = {}
        self.answer_messages: list[tuple[float, int, SimMessage]] = []  # (time, chat, msg) with ans: buttons
        self.bot_sends: list[tuple[float, int]] = []  # (time, chat) of each message the bot sent

    def bot_message(self, msg: SimMessage) -> None:
        now = time.monotonic()
        self.bot_sends.append((now, msg.chat.id))
        if any(d.startswith("ans:") for d in button_data(msg)):
            self.answer_messages.append((now, msg.chat.id, msg))
        seen = self.watched.get(msg.chat.id)
        if seen is not None:
            seen.append(
                Seen(
                    now,
                    "bot",
                    msg.text if msg.location is None else "📍 (location)",
                    _labels(msg),
                    msg.reply_keyboard,
                    msg.message_id,
                )
            )

    def bot_edit(self, msg: SimMessage) -> None:
        seen = self.watched.get(msg.chat.id)
        if seen is not None:
            seen.append(Seen(time.monotonic(), "edit", msg.text, _labels(msg), None, msg.message_id))

    def user_message(self, msg: SimMessage) -> None:
        seen = self.watched.get(msg.chat.id)
        if seen is not None:
            text = msg.text or ("📱 (shares the phone number)" if msg.contact else "📍 (shares a location)")
            seen.append(Seen(time.monotonic(), "user", text))

    def tap(self, user: SimUser, msg: SimMessage, data: str) -> None:
        seen = self.watched.get(msg.chat.id)
        if seen is not None:
            label = next((lbl for row in msg.buttons for lbl, d in row if d == data), data)
            seen.append(Seen(time.monotonic(), "tap", label))

    def callback_answered(self, query: dict[str, Any]) -> None:
        if query.get("text"):
            seen = self.watched.get(query["chat_id"])
            if seen is not None:
                seen.append(Seen(time.monotonic(), "toast", query["text"]))


# ----- printing ------------------------------------------------------------------------------


class Console:
    """The story on the terminal: event lines, and one status line updated in place on a
    terminal (on a pipe, printed only when it changes, at most once a second)."""

    def __init__(self, out: TextIO, started: float) -> None:
        self.out = out
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self.started = started
        self._status = ""
        self._printed_at = 0.0

    def line(self, text: str = "") -> None:
        self._clear()
        print(text, file=self.out)
        self._redraw()

    def status(self, text: str, every: float = 1.0) -> None:
        if self.tty:
            self._status = text
            self.out.write("\r\x1b[2K" + text)
            self.out.flush()
        elif text != self._status and time.monotonic() - self._printed_at >= every:
            self._status = text
            self._printed_at = time.monotonic()
            print(text, file=self.out)

    def end_status(self) -> None:
        if self.tty and self._status:
            self.out.write("\n")
            self.out.flush()
        self._status = ""

    def _clear(self) -> None:
        if self.tty and self._status:
            self.out.write("\r\x1b[2K")

    def _redraw(self) -> None:
        if self.tty and self._status:
            self.out.write(self._status)
            self.out.flush()

    def since(self, moment: float) -> str:
        return f"t+{time.monotonic() - moment:.1f}s"


def _indent(text: str, prefix: str, width: int = 96) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        wrapped = textwrap.wrap(para, width - len(prefix)) or [""]
        lines += [prefix + w for w in wrapped]
    return lines


def _buttons_line(rows: list[list[str]], limit: int = 10, width: int = 90) -> list[str]:
    """Buttons as [label] rows; a long keyboard (skills, municipalities) is shortened and
    wrapped."""
    flat = [label for row in rows for label in row]
    if len(flat) <= limit:
        return ["  ".join(f"[{b}]" for b in row) for row in rows]
    words = [f"[{b}]" for b in flat[: limit - 1]] + [f"… (+{len(flat) - limit} more)", f"[{flat[-1]}]"]
    lines, current = [], ""
    for word in words:
        if current and len(current) + 2 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current}  {word}" if current else word
    return [*lines, current]


def transcript(title: str, seen: list[Seen], name: str) -> list[str]:
    out = [f"┌── {title}"]
    last_buttons: dict[int, list[list[str]]] = {}
    last_text: dict[int, str] = {}
    for s in seen:
        if s.who == "user":
            out += _indent(s.text, f"│ 👤 {name}: ")[:1] + _indent(s.text, "│    ")[1:]
        elif s.who == "tap":
            out.append(f"│ 👤 {name} taps [{s.text}]")
        elif s.who == "toast":
            out.append(f"│    💬 {s.text}")
        else:
            mid = s.message_id or 0
            if s.who == "edit" and last_text.get(mid) == s.text:
                before = {b for row in last_buttons.get(mid, []) for b in row}
                now = [b for row in s.buttons for b in row]
                changed = [b for b in now if b not in before]
                shown = (
                    "  ".join(f"[{b}]" for b in changed)
                    if changed
                    else "(buttons removed)"
                    if not now
                    else "(buttons changed)"
                )
                out.append(f"│ 🤖 ✎ {shown}")
            else:
                head = "│ 🤖 ✎ " if s.who == "edit" else "│ 🤖 "
                body = _indent(s.text, "│    ")
                out.append(head + body[0][len("│    ") :])
                out += body[1:]
                out += ["│    " + b for b in _buttons_line(s.buttons)]
                if s.keyboard:
                    out.append("│    ⌨ " + "  ".join(f"[{b}]" for row in s.keyboard for b in row))
            last_buttons[mid] = s.buttons
            last_text[mid] = s.text
    out.append("└" + "─" * 60)
    return out


# ----- the report --------------------------------------------------------------------------


@dataclass
class DemoReport:
    volunteers: int = 0
    registered: int = 0
    registration_failed: int = 0
    registration_seconds: float = 0.0
    registration_messages: int = 0
    registration_429: int = 0
    by_language: dict[str, int] = field(default_factory=dict)
    in_latvia: int = 0
    municipalities: int = 0
    abroad: int = 0
    countries: int = 0
    top_skills: list[tuple[str, int]] = field(default_factory=list)
    alert_id: int | None = None
    approved: str | None = None  # what the author was told when the second coordinator approved
    need: int = 0
    recipients: int = 0
    left_out_quiet: int = 0
    alert_messages_per_recipient: dict[int, int] = field(default_factory=dict)
    delivery_seconds: float = 0.0
    delivery_rate: float = 0.0
    first_after_send: float = 0.0
    delivery_429: int = 0
    quota_filled_after: float | None = None
    answers: dict[str, int] = field(default_factory=dict)
    withdrew: str | None = None
    promoted: str | None = None
    reminders_sent: int = 0
    followups_sent: int = 0
    followup_announced: int | None = None
    thanked: int = 0
    released: int = 0
    closing_edits: int = 0
    late_tap_answer: str | None = None
    errors_logged: int = 0
    warnings_logged: int = 0
    retry_warnings: int = 0
    total_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.problems else 0


class _Capture(logging.Handler):
    """Keeps the bot's warnings and errors out of the terminal; the report counts them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def quiet_logs() -> Any:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    levels = {
        name: logging.getLogger(name).level for name in ("httpx", "httpcore", "telegram", "apscheduler", "aiosqlite")
    }
    capture = _Capture()
    root.handlers[:] = [capture]
    root.setLevel(logging.WARNING)
    for name in levels:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield capture
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# ----- the story -----------------------------------------------------------------------------


# Each registration is about 13 bot messages and Telegram allows 30 a second: 200 people take
# about 90 s, which keeps the whole demo near two minutes.
DEFAULT_VOLUNTEERS = 200


async def demo(
    volunteers: int = DEFAULT_VOLUNTEERS,
    *,
    concurrency: int = 56,
    need: int | None = None,
    seed: int = 7,
    pace: float = 0.8,
    speed: float = 1.0,
    transcripts: int = 3,
    out: TextIO | None = None,
) -> DemoReport:
    """Run the whole demo and return its report.

    ``pace`` scales how long people take for each registration step (about a second to tap,
    longer to read or type); ``speed`` scales how long they take to answer the alert and the
    coordinator's pauses (0.3: three times faster). Telegram's limits are never scaled. A
    registration costs the bot about 12 messages and Telegram allows 30 a second, so the
    registration of N people takes at least N × 13 / 30 seconds (200: about 90 s)."""
    from bot.app import Sauciens
    from bot.settings import load_settings

    out = out or sys.stdout
    started = time.monotonic()
    con = Console(out, started)
    report = DemoReport(volunteers=volunteers)
    need = need or (12 if volunteers >= 150 else max(2, volunteers // 12))
    rng = random.Random(seed + 1)
    tmp = Path(tempfile.mkdtemp(prefix="sauciens-demo-"))
    sandbox = DemoSandbox(TOKEN, chat_rate=1.0, chat_burst=3, global_rate=30.0, global_burst=30, seed=seed)
    bot: Sauciens | None = None
    tasks: list[asyncio.Task[Any]] = []
    with quiet_logs() as capture:
        try:
            await sandbox.start()
            settings = load_settings(
                None,
                telegram={
                    "token": TOKEN,
                    "api_base_url": sandbox.base_url,
                    "api_base_file_url": sandbox.base_file_url,
                    "poll_timeout": 1,
                },
                database={"path": str(tmp / "sauciens.sqlite3")},
                access={"admin_ids": [COORDINATOR_ID, APPROVER_ID], "organisation": "LAPAS"},
                # every alert waits for a second person's approval, so that the demo shows it
                alerts={"tracking_update_seconds": 1, "remind_after_minutes": 30, "approval_above": 0},
                logging={"level": "WARNING"},
            )
            _warm_up()
            bot = Sauciens(settings)
            await bot.start()
            con.line(
                "Sauciens demo: the real bot against a local Telegram sandbox (30 msg/s overall, ~1/s per chat, 20–50 ms round trip)."
            )
            con.line(f"Data in {tmp} (removed at the end).")
            con.line()
            people = population(volunteers, seed)
            await _register_everyone(sandbox, people, report, con, concurrency, pace, transcripts, rng)
            await _summarise_registrations(bot, report, con)
            await _mobilise(sandbox, bot, people, report, con, need, speed, rng, tasks)
        except Exception as exc:
            report.problems.append(
                f"the demo stopped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
        finally:
            con.end_status()
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if bot is not None:
                with contextlib.suppress(Exception):
                    await bot.stop()
            await sandbox.stop()
            shutil.rmtree(tmp, ignore_errors=True)
            errors = [r for r in capture.records if r.levelno >= logging.ERROR]
            report.errors_logged = len(errors)
            report.warnings_logged = len(capture.records) - len(errors)
            report.retry_warnings = sum(1 for r in capture.records if "retry_after" in str(r.msg))
            if os.environ.get("SAUCIENS_DEMO_LOG"):  # for developers: what the bot logged
                formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
                for record in capture.records:
                    print(formatter.format(record), file=sys.stderr)
            if errors:
                first = errors[0]
                report.problems.append(
                    f"the bot logged {len(errors)} error(s), first: {first.name}: {first.getMessage()[:160]}"
                )
    report.total_seconds = time.monotonic() - started
    _print_report(report, con)
    return report


async def run_demo(volunteers: int | None = None, **options: Any) -> int:
    """The CLI's entry point: prints the story and returns the exit code. The number of
    people can also come from ``SAUCIENS_DEMO_VOLUNTEERS``."""
    if volunteers is None:
        try:
            volunteers = int(os.environ.get("SAUCIENS_DEMO_VOLUNTEERS", DEFAULT_VOLUNTEERS))
        except ValueError:
            volunteers = DEFAULT_VOLUNTEERS
    report = await demo(max(3, volunteers), **options)
    return report.exit_code


# ----- act 1: registration ----------------------------------------------------------------------


async def _register_everyone(
    sandbox: DemoSandbox,
    people: list[Volunteer],
    report: DemoReport,
    con: Console,
    concurrency: int,
    pace: float,
    transcripts: int,
    rng: random.Random,
) -> None:
    con.line(
        f"━━ 1. Registration: {len(people)} people open the bot and register through the chat, {concurrency} at a time"
    )
    shown = people[: min(transcripts, len(people))]
    for v in shown:
        sandbox.watched[v.id] = []
    gate = asyncio.Semaphore(concurrency)
    done = 0
    failures: list[str] = []
    first_send = len(sandbox.bot_sends)
    t0 = time.monotonic()
    limited0 = sandbox.count("sendMessage", 429)

    async def think(what: str) -> None:  # a human pace: tap in about a second, read, type
        if what == "tap":
            seconds = rng.uniform(0.5, 1.5)
        elif what == "read":
            seconds = rng.uniform(1.5, 3.0)
        else:
            seconds = 1.0 + 0.15 * len(what) * rng.uniform(0.7, 1.3)
        await asyncio.sleep(seconds * pace)

    async def one(index: int, v: Volunteer) -> None:
        nonlocal done
        async with gate:
            if index < concurrency:  # the first ones arrive over a few seconds, not all at once
                await asyncio.sleep(index / concurrency * 8.0 * pace)
            u = sandbox.user(v.id, v.first, v.last, language_code=v.language_code)
            try:
                await register_volunteer(
                    u,
                    lang=v.lang,
                    place=v.place,
                    country=v.country,
                    country_typed=v.country_typed,
                    city=v.city,
                    skills=v.skills,
                    availability=v.availability,
                    quiet=v.quiet,
                    phone=v.phone,
                    think=think,
                    timeout=20.0,
                )
            except AssertionError as exc:
                failures.append(f"{v.name}: {str(exc).splitlines()[0][:200]}")
            done += 1

    tasks = [asyncio.create_task(one(i, v)) for i, v in enumerate(people)]
    try:
        showcase = tasks[: len(shown)]
        if showcase:
            await asyncio.gather(*showcase)
            titles = {
                0: "a volunteer in Latvia, in Latvian",
                1: "a volunteer in Latvia, in English",
                2: "a Latvian abroad",
            }
            for i, v in enumerate(shown):
                con.line()
                for line in transcript(
                    f"{v.name} ({titles.get(i, v.lang)}; types {v.where})", sandbox.watched[v.id], v.first
                ):
                    con.line(line)
            con.line()
        while not all(t.done() for t in tasks):
            elapsed = time.monotonic() - t0
            sent = len(sandbox.bot_sends) - first_send
            con.status(
                f"  registering… {done}/{len(people)} done · {sent} bot messages in {elapsed:.0f}s "
                f"({sent / max(elapsed, 0.001):.1f}/s) · Telegram 429s: {sandbox.count('sendMessage', 429) - limited0}",
                every=5.0,
            )
            await asyncio.wait(tasks, timeout=0.5)
        await asyncio.gather(*tasks)
    finally:
        for t in tasks:
            t.cancel()
    con.end_status()
    report.registration_seconds = time.monotonic() - t0
    report.registration_messages = len(sandbox.bot_sends) - first_send
    report.registration_429 = sandbox.count("sendMessage", 429) - limited0
    report.registration_failed = len(failures)
    con.line(
        f"  ✔ {len(people) - len(failures)}/{len(people)} registered in {report.registration_seconds:.0f}s: "
        f"{report.registration_messages} bot messages ({report.registration_messages / max(report.registration_seconds, 0.001):.1f}/s; "
        f"Telegram answered 429 'slow down' {report.registration_429}× and the bot retried)"
    )
    for f in failures[:5]:
        con.line(f"  ✘ {f}")
    if failures:
        report.problems.append(f"{len(failures)} registration(s) did not finish")


async def _summarise_registrations(bot: Any, report: DemoReport, con: Console) -> None:
    from bot.domain import skills as skill_catalog

    people = await bot.services.people.active()
    report.registered = len(people)
    report.by_language = dict(Counter(p.language for p in people))
    in_lv = [p for p in people if p.location_kind == "lv"]
    abroad = [p for p in people if p.location_kind == "abroad"]
    report.in_latvia, report.abroad = len(in_lv), len(abroad)
    report.municipalities = len({p.municipality for p in in_lv})
    report.countries = len({p.country for p in abroad})
    counts = Counter(code for p in people for code in p.skills)
    report.top_skills = counts.most_common(5)
    con.line(
        f"  Registered {report.registered} people (lv {report.by_language.get('lv', 0)}, en {report.by_language.get('en', 0)}; "
        f"in Latvia {report.in_latvia} in {report.municipalities} municipalities, abroad {report.abroad} in {report.countries} countries)"
    )
    top = ", ".join(f"{s.label if (s := skill_catalog.skill(c)) else c} {n}" for c, n in report.top_skills)
    con.line(f"  Top skills: {top}")
    con.line()


# ----- act 2: the alert ---------------------------------------------------------------------------


@dataclass
class _Plan:
    kind: str  # "accept", "decline", "late" (answers after the reminder), "silent"
    choice: str = "yes"
    delay: float = 0.0


def _plan(rng: random.Random, speed: float) -> _Plan:
    r = rng.random()
    if r < 0.45:
        return _Plan("accept", rng.choices(("yes", "30m", "2h"), (5, 3, 2))[0], rng.uniform(1.5, 8.0) * speed)
    if r < 0.65:
        return _Plan("decline", "no", rng.uniform(2.0, 9.0) * speed)
    if r < 0.82:
        return _Plan("late", rng.choice(("yes", "30m", "no")), rng.uniform(1.0, 4.0) * speed)
    return _Plan("silent")


async def _db_tally(bot: Any, alert_id: int) -> Any:
    return await bot.services.alerts.tally(alert_id)


async def _outbox_counts(bot: Any) -> dict[tuple[str, str], int]:
    rows = await bot.services.db.fetchall("SELECT kind, state, count(*) AS n FROM outbox GROUP BY kind, state")
    return {(r["kind"], r["state"]): r["n"] for r in rows}


async def _mobilise(
    sandbox: DemoSandbox,
    bot: Any,
    people: list[Volunteer],
    report: DemoReport,
    con: Console,
    need: int,
    speed: float,
    rng: random.Random,
    tasks: list[asyncio.Task[Any]],
) -> None:
    by_id = {v.id: v for v in people}
    coord = sandbox.user(COORDINATOR_ID, *COORDINATOR, language_code="lv")
    approver = sandbox.user(APPROVER_ID, *APPROVER, language_code="lv")
    sandbox.watched[COORDINATOR_ID] = []
    cname, aname = COORDINATOR[0], APPROVER[0]
    con.line("━━ 2. The alert: the coordinator of LAPAS asks for help")
    command = f"/alert areas={AREAS} need={need} severity=urgent {ALERT_TEXT.format(need=need)}"
    for line in _indent(command, "    ")[:1]:
        con.line(f"  👮 {cname}: " + line.strip())
    for line in _indent(command, "      ")[1:]:
        con.line(line)
    await coord.send(command)
    preview = await coord.wait_for(has_button("cmp:send"), 20)
    con.line("  🤖 " + "\n     ".join(preview.text.split("\n")))
    con.line("     " + _buttons_line(_labels(preview))[0])
    for line in _buttons_line(_labels(preview))[1:]:
        con.line("     " + line)
    audience = await bot.alerting.audience_of(_draft_of(command), Actor.admin(Address.telegram(COORDINATOR_ID)))
    report.left_out_quiet = audience.quiet
    send_label = next(lbl for row in preview.buttons for lbl, d in row if d and d.startswith("cmp:send:"))
    con.line(f"  👮 {cname} taps [{send_label}]")
    answers_before = len(sandbox.answer_messages)
    await coord.press("🚀", preview)
    waiting = await coord.wait_for(lambda m: m.text.startswith("⏳"), 20)
    con.line("  🤖 " + "\n     ".join(waiting.text.split("\n")))
    # the second coordinator gets the request (the preview, the author, Approve and Reject)
    request = await approver.wait_for(has_button("apv:yes:"), 20)
    approve_data = next(d for d in button_data(request) if d.startswith("apv:yes:"))
    approve_label = next(lbl for row in request.buttons for lbl, d in row if d == approve_data)
    con.line(f"  👮 {aname}, a second coordinator, gets the request with the preview:")
    con.line("     " + "\n     ".join(request.text.split("\n")))
    await asyncio.sleep(max(2.5, 3.0 * speed))  # reading it (and Telegram's one message a second per chat)
    con.line(f"  👮 {aname} taps [{approve_label}]")
    sent_at = time.monotonic()
    await approver.press(approve_data, request)
    approved = await coord.wait_for(lambda m: m.text.startswith("✅") and "#" in m.text, 20)
    report.approved = approved.text
    con.line(f"  🤖 → {cname}: {approved.text}")
    tracking = await coord.wait_for(has_button("trk:close:"), 20)
    alert_id = int(next(d for d in button_data(tracking) if d.startswith("trk:close:")).split(":")[2])
    report.alert_id, report.need = alert_id, need
    rows = await bot.services.db.fetchall("SELECT external_id FROM recipients WHERE alert_id = ?", (alert_id,))
    recipients = [int(r["external_id"]) for r in rows]
    report.recipients = len(recipients)
    con.line(
        f"  🤖 alert #{alert_id} is on its way to {len(recipients)} people; the coordinator's tracking message updates live:"
    )

    # --- the people: each answers (or not) in their own time ---------------------------------
    plans = {uid: _plan(rng, speed) for uid in recipients}
    accepted_order: list[int] = []
    reminded = asyncio.Event()
    answered_at: dict[int, float] = {}

    async def answer(uid: int, choice: str) -> None:
        u = sandbox.user(uid)
        qid = await u.press(f"ans:{alert_id}:{choice}")
        await u.wait_answered(qid, 20)
        answered_at[uid] = time.monotonic()

    async def person(uid: int) -> None:
        u = sandbox.user(uid)
        plan = plans[uid]
        alert_msg = await u.wait_for(has_button(f"ans:{alert_id}:"), 60)
        if plan.kind in ("accept", "decline"):
            await asyncio.sleep(plan.delay)
            await answer(uid, plan.choice)
            if plan.choice != "no":
                accepted_order.append(uid)
        elif plan.kind == "late":
            await u.wait_for(lambda m: m.message_id != alert_msg.message_id and has_button(f"ans:{alert_id}:")(m), 120)
            await asyncio.sleep(plan.delay)
            await answer(uid, plan.choice)

    for uid in recipients:
        tasks.append(asyncio.create_task(person(uid)))

    # --- the live line, and the coordinator's moves ---------------------------------------------
    state: dict[str, Any] = {"quota_at": None}

    async def live() -> None:
        while True:
            tally = await _db_tally(bot, alert_id)
            if state["quota_at"] is None and tally.accepted >= need:
                state["quota_at"] = time.monotonic() - sent_at
            msg = coord.chat.by_id.get(tracking.message_id) if coord.chat else None
            con.status(
                f"  ⏱ {time.monotonic() - sent_at:4.0f}s │ 📤 sent {tally.sent}/{tally.total} · queued {tally.queued} │ "
                f"🙋 accepted {tally.accepted}/{need} · standby {tally.standby} · declined {tally.declined} · "
                f"no answer {tally.none} │ tracking message edited {msg.edited if msg else 0}×"
            )
            await asyncio.sleep(1.0 if not con.tty else 0.25)

    live_task = asyncio.create_task(live())
    tasks.append(live_task)

    # the reminder: the coordinator taps 🔔 on the tracking message
    await asyncio.sleep(max(2.0, 8.0 * speed))
    remind_label = next(lbl for row in tracking.buttons for lbl, d in row if d == f"trk:remind:{alert_id}")
    con.line(f"  👮 {cname} taps [{remind_label}] on the tracking message ({con.since(sent_at)})")
    await coord.press(f"trk:remind:{alert_id}", tracking.message_id)
    reply = await coord.wait_for(lambda m: m.text.startswith("🔔"), 20)
    con.line(f"  🤖 {reply.text}")
    reminded.set()

    # an accepted person withdraws once the quota is full and someone waits on standby
    deadline = time.monotonic() + max(6.0, 15.0 * speed)
    while time.monotonic() < deadline:
        tally = await _db_tally(bot, alert_id)
        if tally.accepted >= need and tally.standby > 0:
            break
        await asyncio.sleep(0.25)
    tally = await _db_tally(bot, alert_id)
    if tally.accepted >= need and tally.standby > 0:
        row = await bot.services.db.fetchone(
            "SELECT external_id FROM recipients WHERE alert_id = ? AND response = 'accepted' ORDER BY responded_at DESC, id DESC LIMIT 1",
            (alert_id,),
        )
        standby_first = await bot.services.db.fetchone(
            "SELECT external_id FROM recipients WHERE alert_id = ? AND response = 'standby' ORDER BY responded_at, id LIMIT 1",
            (alert_id,),
        )
        quitter = int(row["external_id"])
        promoted = int(standby_first["external_id"])
        report.withdrew, report.promoted = by_id[quitter].name, by_id[promoted].name
        q = sandbox.user(quitter)
        label = next(
            (lbl for m in reversed(q.messages) for row_ in m.buttons for lbl, d in row_ if d == f"ans:{alert_id}:no"),
            "❌",
        )
        con.line(f"  👤 {by_id[quitter].name} (accepted) taps [{label}]: something came up ({con.since(sent_at)})")
        await answer(quitter, "no")
        p = sandbox.user(promoted)
        note = await p.wait_for(lambda m: not m.buttons and f"#{alert_id}" in m.text, 20)
        con.line(f"  🤖 → {by_id[promoted].name} (first on standby): {note.text}")
    else:
        con.line("  (nobody is on standby, so nobody withdraws in this run)")

    # the follow-up to everyone confirmed
    await asyncio.sleep(max(0.5, 1.5 * speed))
    followup = f"/followup {alert_id} {FOLLOWUP_TEXT}"
    con.line(f"  👮 {cname}: " + followup)
    await coord.send(followup)
    reply = await coord.wait_for(lambda m: m.text.startswith("📨"), 20)
    con.line(f"  🤖 {reply.text}")
    report.followup_announced = (await _db_tally(bot, alert_id)).accepted
    await _drain(bot, 30)

    # closing
    await asyncio.sleep(max(0.5, 1.5 * speed))
    con.line(f"  👮 {cname}: /close {alert_id}")
    await coord.send(f"/close {alert_id}")
    reply = await coord.wait_for(lambda m: m.text.startswith("🔒"), 20)
    con.line(f"  🤖 {reply.text}")
    for t in tasks:
        if t is not live_task:
            t.cancel()

    # someone silent taps just as the call closes, before their message shows it
    def still_open(uid: int) -> bool:
        return any(
            d == f"ans:{alert_id}:yes" for m in sandbox.user(uid).messages for row_ in m.buttons for _, d in row_
        )

    silent = next((uid for uid in recipients if plans[uid].kind == "silent" and still_open(uid)), None)
    if silent is not None:
        u = sandbox.user(silent)
        label = next(
            (lbl for m in reversed(u.messages) for row_ in m.buttons for lbl, d in row_ if d == f"ans:{alert_id}:yes"),
            "✅",
        )
        qid = await u.press(f"ans:{alert_id}:yes")
        ans = await u.wait_answered(qid, 20)
        report.late_tap_answer = ans["text"]
        con.line(f"  👤 {by_id[silent].name}, silent until now, taps [{label}] as the call closes → 💬 {ans['text']}")
    await _drain(bot, 30)
    await asyncio.sleep(1.5)  # one more tracking update
    live_task.cancel()
    await asyncio.gather(live_task, return_exceptions=True)
    con.end_status()
    coord_chat = coord.chat
    assert coord_chat is not None  # it holds the tracking message
    final = coord_chat.by_id[tracking.message_id]
    con.line(f"  📱 {cname}'s tracking message, edited {final.edited}× (last state):")
    for line in final.text.split("\n"):
        con.line("     " + line)

    # --- numbers for the report -------------------------------------------------------------------
    ans_msgs = [(t, chat, m) for t, chat, m in sandbox.answer_messages[answers_before:]]
    first_per_chat: dict[int, float] = {}
    per_chat: Counter[int] = Counter()
    for at, chat, _ in ans_msgs:
        per_chat[chat] += 1
        first_per_chat.setdefault(chat, at)
    counts = await _outbox_counts(bot)
    reminder_rows = await bot.services.db.fetchall(
        "SELECT external_id, count(*) AS n FROM outbox WHERE kind = 'reminder' AND state = 'sent' GROUP BY external_id"
    )
    reminders_by_chat = {int(r["external_id"]): r["n"] for r in reminder_rows}
    report.alert_messages_per_recipient = {
        uid: per_chat.get(uid, 0) - reminders_by_chat.get(uid, 0) for uid in recipients
    }
    times = sorted(first_per_chat[uid] for uid in recipients if uid in first_per_chat)
    if times:
        report.first_after_send = times[0] - sent_at
        report.delivery_seconds = times[-1] - times[0]
        report.delivery_rate = (
            (len(times) - 1) / report.delivery_seconds if report.delivery_seconds > 0 else float("inf")
        )
        report.delivery_429 = sum(
            1
            for c in sandbox.calls
            if c.status == 429 and c.method == "sendMessage" and times[0] <= c.time <= times[-1]
        )
    report.quota_filled_after = state["quota_at"]
    final_tally = await _db_tally(bot, alert_id)
    report.answers = {
        "accepted": final_tally.accepted,
        "standby": final_tally.standby,
        "declined": final_tally.declined,
        "none": final_tally.none,
    }
    report.reminders_sent = counts.get(("reminder", "sent"), 0)
    report.followups_sent = counts.get(("followup", "sent"), 0)
    report.thanked = counts.get(("closed", "sent"), 0)
    report.released = counts.get(("standby_released", "sent"), 0)
    report.closing_edits = counts.get(("edit_closed", "sent"), 0)
    _check(report, counts, final_tally, need, len(recipients))


def _warm_up() -> None:
    """Build the place-name indexes before the clock starts (the country index takes most of a
    second on first use, which would stall everything else for that long)."""
    from bot.domain import places

    for lang in ("lv", "en"):
        places.match_country("-", lang)
    places.match_municipality("-")


def _draft_of(command: str) -> Any:
    from datetime import datetime

    from bot.domain.alerts import parse_one_line
    from bot.i18n import language_codes

    return parse_one_line(command.split(maxsplit=1)[1], datetime.now(UTC), language_codes()).draft


async def _drain(bot: Any, timeout: float) -> None:
    """Wait until the outbox has nothing queued (everything sent, failed or blocked)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        queued = await bot.services.db.fetchval("SELECT count(*) FROM outbox WHERE state = 'queued'")
        if not queued and bot.sender.idle:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the outbox still had messages queued after {timeout:.0f}s")


def _check(report: DemoReport, counts: dict[tuple[str, str], int], tally: Any, need: int, recipients: int) -> None:
    p = report.problems
    wrong = {uid: n for uid, n in report.alert_messages_per_recipient.items() if n != 1}
    if wrong:
        p.append(f"{len(wrong)} recipient(s) did not get exactly one alert message: {dict(list(wrong.items())[:5])}")
    if counts.get(("alert", "sent"), 0) != recipients:
        p.append(f"alert messages sent {counts.get(('alert', 'sent'), 0)} ≠ recipients {recipients}")
    if sum(report.answers.values()) != recipients:
        p.append(f"answers {report.answers} do not add up to {recipients} recipients")
    if tally.accepted > need:
        p.append(f"{tally.accepted} accepted for a need of {need}")
    if report.promoted is not None and counts.get(("promoted", "sent"), 0) != 1:
        p.append("the standby person was not told they moved up")
    if report.followup_announced is not None and report.followups_sent != report.followup_announced:
        p.append(f"follow-up sent to {report.followups_sent}, announced for {report.followup_announced}")
    if report.thanked != tally.accepted or report.released != tally.standby:
        p.append(
            f"closing notices: thanked {report.thanked} (accepted {tally.accepted}), released {report.released} (standby {tally.standby})"
        )
    with_buttons = counts.get(("alert", "sent"), 0) + counts.get(("reminder", "sent"), 0)
    if report.closing_edits != with_buttons:
        p.append(f"{report.closing_edits} alert messages and reminders marked closed of {with_buttons}")
    failed = sum(n for (kind, state), n in counts.items() if state in ("failed", "blocked"))
    if failed:
        p.append(f"{failed} outbox message(s) failed")


def _print_report(r: DemoReport, con: Console) -> None:
    con.line()
    con.line("━━ Report")
    con.line(
        f"  Registered {r.registered} people (lv {r.by_language.get('lv', 0)}, en {r.by_language.get('en', 0)}; in Latvia {r.in_latvia} "
        f"in {r.municipalities} municipalities, abroad {r.abroad} in {r.countries} countries) in {r.registration_seconds:.0f}s"
        + (f"; {r.registration_failed} did not finish" if r.registration_failed else "")
    )
    if r.alert_id is not None:
        left = f" ({r.left_out_quiet} left out: quiet hours)" if r.left_out_quiet else ""
        con.line(
            f"  Alert #{r.alert_id} to {r.recipients} people{left}, {r.need} needed; approved by a second coordinator"
        )
        con.line(
            f"  Delivery of {r.recipients} messages took {r.delivery_seconds:.1f}s from the first to the last "
            f"(= {r.delivery_rate:.1f} msg/s; Telegram allows 30/s, so at least {max(0, r.recipients - 1) / 30:.1f}s"
            + ("; the first few go out at once, within Telegram's short burst" if r.delivery_rate > 30 else "")
            + f"; first one {r.first_after_send:.2f}s after the approval; {r.delivery_429} × 429)"
        )
        if r.quota_filled_after is not None:
            con.line(
                f"  The quota of {r.need} was filled {r.quota_filled_after:.1f}s after the approval "
                "(simulated people answer within seconds; real ones take minutes)"
            )
        else:
            con.line(f"  The quota of {r.need} was not filled")
        a = r.answers
        con.line(
            f"  Answers: accepted {a.get('accepted', 0)}, standby {a.get('standby', 0)}, declined {a.get('declined', 0)}, no answer {a.get('none', 0)}"
        )
        if r.withdrew:
            con.line(f"  {r.withdrew} withdrew; {r.promoted} moved up from standby and was told so")
        con.line(
            f"  Reminders sent: {r.reminders_sent} · follow-ups: {r.followups_sent} · closing notices: {r.thanked} thanks + "
            f"{r.released} standby released · {r.closing_edits} alert messages and reminders marked closed"
        )
        ones = sum(1 for n in r.alert_messages_per_recipient.values() if n == 1)
        con.line(f"  Everyone in the audience got exactly one alert message: {ones}/{r.recipients}")
    con.line(
        f"  Bot log (kept off the screen): {r.errors_logged} errors, {r.warnings_logged} warnings "
        f"({r.retry_warnings} of them: Telegram's 429 'retry after', retried)"
    )
    con.line(f"  Total {r.total_seconds:.0f}s")
    if r.problems:
        con.line("  ✘ Problems:")
        for problem in r.problems:
            con.line(f"    - {problem}")
    else:
        con.line("  ✔ All consistent.")


__all__ = ["DemoReport", "DemoSandbox", "Volunteer", "demo", "population", "quiet_logs", "run_demo"]
