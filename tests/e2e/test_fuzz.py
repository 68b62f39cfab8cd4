"""Fuzzing the input boundary (issue 9): random callback payloads and random texts.

10,000 callback payloads in total, from a seeded generator (the same run every time, so a
failure can be replayed): 7,000 go through the parsing boundary (``handlers.callbacks.parse``,
which every button passes first), and 3,000 through the real bot in the sandbox, in batches, as
taps of a person in registration, of a registered person in /profile and of a coordinator in
the composer. Random texts are sent at every step of registration, of a profile change and of
the composer. Nothing may raise, every tap must be answered, and an alert still goes out and
is answered afterwards."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator

import pytest

from bot.domain import places, skills
from bot.logs import EVENT
from bot.sandbox.scenarios import has_button
from bot.sandbox.server import BotApiSandbox
from bot.sandbox.users import SimUser
from handlers import callbacks
from tests.conftest import TOKEN
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import coordinator, send_one_line, wait_delivered
from tests.e2e.test_registration import session_of, skills_of

SEED = 9
PARSED = 7_000
LIVE = 3_000
BATCH = 40

# Real button data, to mutate: a fuzzer that only sends noise never gets past the prefix.
CORPUS = [
    "noop",
    "lang:lv",
    "consent:en:yes",
    "reg:name_ok",
    "reg:where:lv",
    "reg:where:abroad",
    "reg:abroad",
    "reg:muni:0040000",
    "reg:mpage:3",
    "reg:country:GB",
    "reg:tz:0",
    "reg:skill:first_aid",
    "reg:skills_done",
    "reg:avail:any",
    "reg:quiet:0",
    "reg:quiet:none",
    "reg:coalition:yes",
    "reg:confirm",
    "prof:name",
    "prof:where",
    "prof:done",
    "prof:language",
    "prof:orgs",
    "mem:open:yes",
    "mem:phone:1:no",
    "mem:leave:1",
    "mem:leaveyes:1",
    "mem:back",
    "notice:2:yes",
    "pause:week",
    "forget:no",
    "ans:1:yes",
    "ans:1:30m",
    "trk:remind:1",
    "trk:export:1",
    "cmp:menu",
    "cmp:v:areas",
    "cmp:sk:driver",
    "cmp:ar:0040000:2",
    "cmp:arp:4",
    "cmp:co:*",
    "cmp:co:IE",
    "cmp:lg:en",
    "cmp:by:2h",
    "cmp:sev",
    "cmp:drill",
    "cmp:noneed",
]
NASTY = [
    "",
    ":",
    "-1",
    "0",
    "9" * 25,
    str(2**63),
    str(2**63 - 1),
    "1e9",
    "0x10",
    "١",  # an Arabic-Indic digit: int() takes it
    "LV",
    "lv",
    "XX",
    "*",
    "none",
    "25:00-07:00",
    "aa-bb",
    "🚨 TAP HERE TO SEND ALL 🚨",
    "\x00",
    "\u202e",
    "=1+2",
    "<b>",
    "&amp;",
    "../",
    "%s",
    "{name}",
    " ",
    "Ω" * 30,
]


def random_text(rng: random.Random, limit: int = 80) -> str:
    alphabet = "aAzZ09 -:=+@/.,;'\"<>&\\\t\n\x00\x1b\u200b\u202e\u2066éĀžЖ中🚨"
    n = rng.choice([0, 1, 2, 5, 10, limit])
    return "".join(rng.choice(alphabet) for _ in range(n))


def random_payload(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.5:  # a real button's data with one part changed, added or dropped
        parts = rng.choice(CORPUS).split(":")
        op = rng.random()
        i = rng.randrange(len(parts))
        if op < 0.6:
            parts[i] = rng.choice(NASTY) if rng.random() < 0.7 else random_text(rng, 20)
        elif op < 0.8:
            parts.insert(i, rng.choice(NASTY))
        elif len(parts) > 1:
            del parts[i]
        return ":".join(parts)
    if kind < 0.7:  # a known prefix with random parts
        prefix = rng.choice(["reg", "prof", "mem", "notice", "cmp", "ans", "trk", "lang", "consent", "pause", "forget"])
        return ":".join([prefix, *(rng.choice(NASTY) for _ in range(rng.randint(0, 4)))])
    if kind < 0.8:
        return rng.choice(CORPUS)  # valid, whatever the step: the step decides
    return random_text(rng, 70)


def test_the_parser_takes_any_payload() -> None:
    """Anything parses to a command whose values are within what its button may carry, or to
    None; nothing raises."""
    rng = random.Random(SEED)
    accepted = 0
    for _ in range(PARSED):
        data = random_payload(rng)
        command = callbacks.parse(data)
        if command is None:
            continue
        accepted += 1
        assert len(data.encode()) <= callbacks.MAX_DATA_BYTES
        if isinstance(command, callbacks.AnswerButton | callbacks.TrackingButton):
            assert 1 <= command.alert_id <= callbacks.MAX_ID
        elif isinstance(command, callbacks.StepButton):
            if command.action == callbacks.StepAction.COUNTRY:
                assert command.value != "LV" and places.is_country_code(command.value or "")
            elif command.action == callbacks.StepAction.MUNICIPALITY:
                assert places.municipality(command.value or "") is not None
            elif command.action == callbacks.StepAction.SKILL:
                assert skills.skill(command.value or "") is not None
            elif command.action == callbacks.StepAction.QUIET and command.number is not None:
                assert 0 <= command.number < len(callbacks.QUIET_PRESETS)
            elif command.action == callbacks.StepAction.MUNICIPALITY_PAGE:
                assert command.number is not None and 0 <= command.number < callbacks.municipality_pages()
        elif isinstance(command, callbacks.ComposerButton) and command.action == "co":
            value = command.args[0]
            assert value == "*" or (value != "LV" and places.is_country_code(value))
    assert 0.05 < accepted / PARSED < 0.5  # the generator reaches valid commands and plenty of others


# ----- through the live bot ------------------------------------------------------------------


@pytest.fixture
async def sandbox() -> AsyncIterator[BotApiSandbox]:
    """No rate limits: thousands of replies to a few chats would otherwise wait for Telegram's."""
    sb = BotApiSandbox(TOKEN, enforce_limits=False)
    await sb.start()
    try:
        yield sb
    finally:
        await sb.stop()


async def tap_batch(u: SimUser, payloads: list[str]) -> None:
    """Forge ``payloads`` as taps on the newest bot message; all must be answered."""
    ids = [await u.forge_callback(data) for data in payloads]
    for qid, data in zip(ids, payloads, strict=True):
        try:
            await u.wait_answered(qid, timeout=15)
        except AssertionError as exc:
            raise AssertionError(f"{data!r} was not answered") from exc


def step_now(db_path, u: SimUser) -> str:
    session = session_of(db_path, u.id)
    return f"{session['flow']}:{session['step']}" if session else "-"


async def texts_at(u: SimUser, rng: random.Random, n: int, db_path, seen: set[str]) -> None:
    """``n`` random texts, each answered by the bot; ``seen`` collects the steps they met."""
    for _ in range(n):
        seen.add(step_now(db_path, u))
        text = random_text(rng, rng.choice([20, 200, 4000]))
        if not text.strip():
            text = rng.choice(NASTY).strip() or "x"
        await u.send(text)
        await u.wait_for(None, timeout=10)


# How a registering person goes on from each step (whatever random text did to them).
WALK = {
    "name": "reg:name_ok",
    "where": "reg:where:lv",
    "municipality": "reg:muni:0040000",
    "country": "reg:country:US",
    "city": "Boston",
    "timezone": "reg:tz:0",
    "skills": "reg:skill:translation",
    "availability": "reg:avail:any",
    "quiet": "reg:quiet:none",
    "phone": "Skip",
    "summary": "reg:confirm",
}


async def go_on(u: SimUser, db_path, abroad: bool, seen: set[str]) -> None:
    before = step_now(db_path, u)
    step = before.split(":")[-1]
    action = WALK[step]
    if abroad and step in ("where", "municipality"):  # (a typed "LV" at the country step is Latvia)
        action = "reg:where:abroad" if step == "where" else "reg:abroad"
    if abroad and step == "summary" and not {"register:country", "register:city"} <= seen:
        action = "prof:where"  # random text took a short cut past the country or the city: again
    if step == "skills" and skills_of(db_path, u.id):
        action = "reg:skills_done"
    qid = None
    if action.startswith(("reg:", "prof:")):
        qid = await u.forge_callback(action)
        await u.wait_answered(qid)
    else:
        await u.send(action)
    for _ in range(200):
        if step_now(db_path, u) != before or (step == "skills" and action == "reg:skill:translation"):
            return
        await asyncio.sleep(0.02)
    shown = [m.describe() for m in u.messages[-3:]]
    answer = u.callback_answer(qid) if qid else None
    raise AssertionError(f"{action!r} did not move {u!r} on from {before}: {answer}; {shown}")


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if getattr(r, EVENT, None) == "handler_error" or r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors[:5]]


async def test_random_taps_and_texts_through_the_bot(sandbox, start_bot, db_path, caplog):
    caplog.set_level(logging.INFO)
    bot = await start_bot(broadcast={"messages_per_second": 1000})
    rng = random.Random(SEED + 1)
    seen: set[str] = set()

    # random texts at every step of registration, in Latvia and abroad
    for user_id, abroad in ((3001, False), (3002, True)):
        u = sandbox.user(user_id, "Fuzz", language_code="en")
        await u.send("/start")
        await u.press("lang:en", await u.wait_for(has_button("lang:")))
        await u.press("consent:en:yes", await u.wait_for(has_button("consent:")))
        await u.wait_for(has_button("reg:name_ok"))
        for _ in range(40):
            if step_now(db_path, u) == "-":
                break
            await texts_at(u, rng, 3, db_path, seen)
            if step_now(db_path, u) != "-":
                await go_on(u, db_path, abroad, seen)
        assert step_now(db_path, u) == "-"  # registered

    # ...at every step of a change to the profile
    v = (
        await seed(
            bot,
            sandbox,
            [Spec(3003, "Profile fuzz", "en", "0040000", extra={"consent_at": "2026-01-01T00:00:00+00:00"})],
        )
    )[0]
    for part in ("name", "where", "skills", "availability", "quiet", "phone"):
        await v.send("/profile")
        await v.press(f"prof:{part}", await v.wait_for(has_button("prof:")))
        await v.wait_for(None)
        await texts_at(v, rng, 3, db_path, seen)
        await v.send("/cancel")
        await v.wait_for(None)

    # ...and of the composer
    coord = await coordinator(sandbox)
    for opening in ("cmp:text", "cmp:need", "cmp:v:by", "cmp:v:areas", "cmp:menu"):
        await coord.send("/alert")
        await coord.wait_for(has_button("cmp:"))
        await coord.wait_answered(await coord.forge_callback(opening))
        await texts_at(coord, rng, 3, db_path, seen)
        await coord.send("/cancel")
        await coord.wait_for(None)
    for step in ("register:name", "register:municipality", "register:country", "register:city", "register:quiet"):
        assert step in seen, (step, " ".join(sorted(seen)))
    for step in ("register:phone", "edit:name", "edit:quiet", "compose:text:lv", "compose:need", "compose:by"):
        assert step in seen, (step, " ".join(sorted(seen)))

    # random taps: of a person half-way through registration, a volunteer, a coordinator
    registering = sandbox.user(3004, "Halfway", language_code="en")
    await registering.send("/start")
    await registering.press("lang:en", await registering.wait_for(has_button("lang:")))
    await registering.press("consent:en:yes", await registering.wait_for(has_button("consent:")))
    await registering.wait_for(has_button("reg:name_ok"))
    await coord.send("/alert")
    await coord.wait_for(has_button("cmp:"))
    payloads = [random_payload(rng) for _ in range(LIVE)]
    tappers = [registering, v, coord]
    for i in range(0, LIVE, BATCH):
        await tap_batch(tappers[(i // BATCH) % len(tappers)], payloads[i : i + BATCH])
    await sandbox.wait_idle(timeout=30, quiet=0.3)
    assert sandbox.count("answerCallbackQuery") >= LIVE
    no_errors(caplog)

    # the alert flow still works afterwards
    volunteer = (await seed(bot, sandbox, [Spec(3005, "After", "en", "0026000")]))[0]
    await send_one_line(coord, "areas=0026000 Still working?")
    alert_id = max(a.id for a in await bot.services.alerts.list())
    await wait_delivered(bot, alert_id, 1)
    await volunteer.wait_for("Still working?")
    (message,) = alert_messages(volunteer)
    await volunteer.press(f"ans:{alert_id}:yes", message)
    await volunteer.wait_for(lambda m: "confirmed" in m.text)
    for _ in range(50):
        if (await bot.services.alerts.tally(alert_id)).accepted == 1:
            break
        await asyncio.sleep(0.05)
    assert (await bot.services.alerts.tally(alert_id)).accepted == 1
    no_errors(caplog)
