"""Delivery benchmark: ``python -m bench.delivery [--recipients N] [--rate R] [--quick]``.

Runs the real bot against the local Telegram sandbox with a 50 ms round trip and Telegram's
flood limits enforced (30 messages a second overall, about one a second per chat) and
measures:

a. the broadcast rate for N recipients (default 10,000) as a fraction of
   ``broadcast.messages_per_second`` (goal ≥ 0.95, and no 429 answers), from the first to
   the last alert message as the sandbox sees them;
b. while that broadcast runs, how long a button tap or ``/help`` takes to be answered
   (p50/p95/max; goal p95 < 0.5 s + the round trip);
c. 1,000 different recipients tapping "I can help" at once on an alert with need=100: the
   time until every callback query is answered and every answer is in the database
   (goal < 3 s).

The people are written straight into the database (``PeopleRepo.import_people``) and exist as
started users in the sandbox; the alert goes through the real bot: the coordinator's
one-line ``/alert`` and the preview's Send button. The bot runs in its own process (as in
production, where Telegram's servers do not share the bot's CPU); the sandbox, the simulated
people and the measurements run in this one and read the bot's SQLite file.
``--in-process`` runs everything in one process and one event loop instead. Results are printed, written as JSON to
``bench/results/delivery-<date>[-quick].json`` and printed as a markdown table."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import platform
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.domain.people import Address, LocationKind, Person, PersonStatus
from bot.sandbox.demo import DemoSandbox, quiet_logs
from bot.sandbox.scenarios import has_button
from bot.sandbox.users import SimUser
from db.alerts import AlertRepo
from db.database import Database
from db.migrate import migrate
from db.people import PeopleRepo

TOKEN = "123456:SANDBOX-bench-token"
COORDINATOR_ID = 9000
# The measured alerts go straight out: a second person's approval (alerts.approval_above) is a
# person's step, not the bot's speed, and the benchmarks have one admin.
BENCH_ALERTS = {"remind_after_minutes": 0, "approval_above": 1_000_000_000, "approval_for_critical": False}
FIRST_ID = 1_000_001
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
ALERT_TEXT = "Mācības: piegādes ātruma mērījums. / Drill: measuring the delivery rate."


@dataclass
class Latency:
    n: int = 0
    p50: float | None = None
    p95: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, samples: list[float]) -> Latency:
        if not samples:
            return cls()
        s = sorted(samples)
        return cls(len(s), round(_pct(s, 50), 4), round(_pct(s, 95), 4), round(s[-1], 4))


def _pct(sorted_samples: list[float], p: float) -> float:
    if len(sorted_samples) == 1:
        return sorted_samples[0]
    k = (len(sorted_samples) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (sorted_samples[hi] - sorted_samples[lo]) * (k - lo)


@dataclass
class Results:
    date: str
    command: str
    machine: dict[str, Any]
    recipients: int
    rate_setting: float
    telegram_limit: float
    latency_s: float
    max_in_flight: int
    bot_process: str = "separate"
    paid: bool = False
    rate_goal: float = 0.95  # fraction of the configured rate (paid: 800 of 1,000 a second)
    window_size: int = 0  # the sender's in-flight window at the end of the broadcast
    edit_429: int = 0
    # a. broadcast
    delivered: int = 0
    broadcast_seconds: float = 0.0
    broadcast_rate: float = 0.0
    rate_fraction: float = 0.0
    send_to_first_s: float = 0.0
    send_to_last_s: float = 0.0
    http_429: int = 0
    failed: int = 0
    broadcast_cpu_bot_s: float | None = None  # CPU time the bot's process used from Send to the last message
    broadcast_cpu_sandbox_s: float | None = None  # and this process (sandbox, simulated people, probes)
    # b. interactive during the broadcast
    interactive: Latency = field(default_factory=Latency)
    interactive_help: Latency = field(default_factory=Latency)
    interactive_tap: Latency = field(default_factory=Latency)
    interactive_goal_s: float = 0.0
    # c. a burst of taps
    taps: int = 0
    taps_all_answered_s: float | None = None
    taps_all_in_db_s: float | None = None
    taps_latency: Latency = field(default_factory=Latency)
    taps_cpu_bot_s: float | None = None  # CPU time the bot's process used during part c
    taps_cpu_sandbox_s: float | None = None  # and this process (sandbox, simulated people)
    taps_requests: dict[str, int] = field(default_factory=dict)  # the bot's requests during part c
    taps_accepted: int = 0
    taps_standby: int = 0
    # the run
    bot_errors: int = 0
    bot_warnings: int = 0
    setup_seconds: float = 0.0
    total_seconds: float = 0.0
    goals: dict[str, bool] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": model or platform.processor(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def people(n: int, seed: int = 3) -> list[Person]:
    rng = random.Random(seed)
    places = ("0001000", "0040000", "0004000", "0026000", "0005000")  # Rīga, Ogre, Jūrmala, Cēsis, Liepāja
    out = []
    for i in range(n):
        lang = "lv" if rng.random() < 0.75 else "en"
        out.append(
            Person(
                id=0,
                address=Address.telegram(FIRST_ID + i),
                status=PersonStatus.ACTIVE,
                language=lang,
                name=f"Brīvprātīgais {i}",
                location_kind=LocationKind.LV,
                municipality=rng.choice(places),
                country="LV",
                skills=("first_aid",) if rng.random() < 0.5 else ("driver", "logistics"),
            )
        )
    return out


def say(text: str = "") -> None:
    print(text, flush=True)


async def benchmark(
    recipients: int = 10_000,
    *,
    rate: float = 30.0,
    telegram_limit: float = 30.0,
    latency: float = 0.05,
    probes: int = 150,
    taps: int = 1000,
    need: int = 100,
    max_in_flight: int | None = None,
    paid: bool = False,
    in_process: bool = False,
    command: str = "",
) -> Results:
    from bot.settings import load_settings

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="sauciens-bench-"))
    sandbox = DemoSandbox(
        TOKEN,
        latency_range=(latency, latency),
        global_rate=telegram_limit,
        global_burst=int(telegram_limit),
        chat_rate=1.0,
        chat_burst=3,
    )
    broadcast: dict[str, Any] = {"messages_per_second": rate, "paid": paid}
    if max_in_flight is not None:
        broadcast["max_in_flight"] = max_in_flight
    res = Results(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        command=command,
        machine=machine(),
        recipients=recipients,
        rate_setting=rate,
        telegram_limit=telegram_limit,
        latency_s=latency,
        max_in_flight=0,
        interactive_goal_s=0.3 if paid else 0.5 + latency,
        bot_process="same" if in_process else "separate",
        paid=paid,
        rate_goal=0.8 if paid else 0.95,
    )
    handle: BotHandle | None = None
    with quiet_logs() as capture:
        try:
            await sandbox.start()
            config: dict[str, Any] = {
                "telegram": {
                    "token": TOKEN,
                    "api_base_url": sandbox.base_url,
                    "api_base_file_url": sandbox.base_file_url,
                    "poll_timeout": 10,
                },
                "database": {"path": str(tmp / "bench.sqlite3")},
                "access": {"admin_ids": [COORDINATOR_ID], "organisation": "Bench"},
                "broadcast": broadcast,
                "alerts": BENCH_ALERTS,
                "logging": {"level": "WARNING"},
            }
            res.max_in_flight = load_settings(None, **config).broadcast.max_in_flight
            crowd = people(recipients)
            t = time.monotonic()
            db = Database(tmp / "bench.sqlite3")
            await db.open()
            await migrate(db)
            await PeopleRepo(db).import_people(crowd)
            for p in crowd:
                sandbox.user(int(p.address.external_id), p.name or "V", language_code=p.language)
            say(f"  {recipients} people in the database and the sandbox in {time.monotonic() - t:.1f}s")
            handle = await (BotHandle.in_process(config, db) if in_process else BotHandle.child(config, db))
            calls0 = sandbox.count("getUpdates")
            # the bot is polling (the sandbox's request counter signals nothing, so this polls it)
            while sandbox.count("getUpdates") == calls0:  # noqa: ASYNC110 -- see above
                await asyncio.sleep(0.05)
            say(f"  the bot is running ({'in this process' if in_process else f'process {handle.pid}'})")
            res.setup_seconds = round(time.monotonic() - started, 2)
            await _run(sandbox, handle, res, recipients, probes, taps, need)
        finally:
            if handle is not None:
                errors, warnings = await handle.stop()
                res.bot_errors, res.bot_warnings = errors, warnings
            await sandbox.stop()
            shutil.rmtree(tmp, ignore_errors=True)
            if in_process:
                own_errors = [r for r in capture.records if r.levelno >= logging.ERROR]
                res.bot_errors, res.bot_warnings = len(own_errors), len(capture.records) - len(own_errors)
            if os.environ.get("SAUCIENS_BENCH_LOG"):
                for r in capture.records:
                    print(f"{r.levelname} {r.name} {r.getMessage()}", file=sys.stderr)
    res.total_seconds = round(time.monotonic() - started, 1)
    res.goals = {
        f"a_rate_fraction_ge_{res.rate_goal:g}": res.rate_fraction >= res.rate_goal,
        "a_no_429": res.http_429 == 0,
        f"b_p95_le_{res.interactive_goal_s:g}s": res.interactive.p95 is not None
        and res.interactive.p95 <= res.interactive_goal_s,
        "c_taps_lt_3s": res.taps_all_in_db_s is not None
        and res.taps_all_answered_s is not None
        and max(res.taps_all_in_db_s, res.taps_all_answered_s) < 3.0,
    }
    return res


async def _run(sandbox: DemoSandbox, bot: BotHandle, res: Results, n: int, probes: int, taps: int, need: int) -> None:
    coord = sandbox.user(COORDINATOR_ID, "Koordinators", language_code="en")
    await coord.send(f"/alert need={need} severity=info {ALERT_TEXT}")
    t = time.monotonic()
    preview = await coord.wait_for(has_button("cmp:send"), 60)
    say(f"  preview for {n} recipients in {time.monotonic() - t:.2f}s")
    first_alert = len(sandbox.answer_messages)
    limited0 = sandbox.count("sendMessage", 429)
    cpu_a0 = (_cpu_seconds(bot.pid), _cpu_seconds(None))
    pressed = time.monotonic()
    await coord.press("🚀", preview)
    tracking = await coord.wait_for(has_button("trk:close:"), 60)
    alert_id = int(
        next(d for row in tracking.buttons for _, d in row if d and d.startswith("trk:close:")).split(":")[2]
    )
    say(f"  alert #{alert_id} created and tracking shown {time.monotonic() - pressed:.2f}s after Send; broadcasting…")

    # b. probes spread over the expected broadcast
    expected = n / res.rate_setting
    helps: list[float] = []
    tapped: list[float] = []
    used: set[int] = set()
    probe_tasks: list[asyncio.Task[None]] = []
    rng = random.Random(11)
    ids = [FIRST_ID + i for i in range(n)]

    async def help_probe(u: SimUser) -> None:
        t0 = time.monotonic()
        await u.send("/help")
        await u.wait_for(lambda m: "/profile" in m.text, 10)
        helps.append(time.monotonic() - t0)

    async def tap_probe(u: SimUser) -> None:
        t0 = time.monotonic()
        qid = await u.press(f"ans:{alert_id}:{rng.choice(('yes', 'no'))}")
        await u.wait_answered(qid, 10)
        tapped.append(time.monotonic() - t0)

    async def probe_loop() -> None:
        spacing = max(0.2, (expected - 2.0) / max(1, probes))
        await asyncio.sleep(min(1.0, spacing))
        for i in range(probes):
            if _delivered(sandbox, first_alert) >= n:
                break
            if i % 2 == 0:
                uid = rng.choice(ids)
                while uid in used:
                    uid = rng.choice(ids)
                used.add(uid)
                probe_tasks.append(asyncio.create_task(help_probe(sandbox.user(uid))))
            else:
                got = [chat for _, chat, _ in sandbox.answer_messages[first_alert:] if chat not in used]
                if got:
                    uid = rng.choice(got[-200:])
                    used.add(uid)
                    probe_tasks.append(asyncio.create_task(tap_probe(sandbox.user(uid))))
            await asyncio.sleep(spacing)

    prober = asyncio.create_task(probe_loop())
    last_print = 0.0
    deadline = time.monotonic() + expected * 3 + 60
    while _delivered(sandbox, first_alert) < n and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        if time.monotonic() - last_print >= 15:
            last_print = time.monotonic()
            done = _delivered(sandbox, first_alert)
            say(
                f"    {time.monotonic() - pressed:6.1f}s  {done}/{n} delivered · 429s {sandbox.count('sendMessage', 429) - limited0} · probes {len(helps) + len(tapped)}"
            )
    if bot.pid:
        res.broadcast_cpu_bot_s = round(_cpu_seconds(bot.pid) - cpu_a0[0], 2)
    res.broadcast_cpu_sandbox_s = round(_cpu_seconds(None) - cpu_a0[1], 2)
    prober.cancel()
    await asyncio.gather(prober, return_exceptions=True)
    await asyncio.gather(*probe_tasks, return_exceptions=True)

    # a. the broadcast as the sandbox saw it
    alerts = sandbox.answer_messages[first_alert:]
    first_per_chat: dict[int, float] = {}
    for ts, chat, _ in alerts:
        first_per_chat.setdefault(chat, ts)
    times = sorted(first_per_chat.values())
    res.delivered = len(times)
    if len(times) > 1:
        res.broadcast_seconds = round(times[-1] - times[0], 3)
        res.broadcast_rate = round((len(times) - 1) / (times[-1] - times[0]), 3)
        res.rate_fraction = round(res.broadcast_rate / res.rate_setting, 4)
        res.send_to_first_s = round(times[0] - pressed, 3)
        res.send_to_last_s = round(times[-1] - pressed, 3)
    res.http_429 = sandbox.count("sendMessage", 429) - limited0
    res.failed = n - res.delivered
    res.window_size = await bot.window_size()
    res.interactive = Latency.of(helps + tapped)
    res.interactive_help = Latency.of(helps)
    res.interactive_tap = Latency.of(tapped)
    say(
        f"  a. {res.delivered}/{n} delivered in {res.broadcast_seconds:.1f}s = {res.broadcast_rate:.2f} msg/s "
        f"= {res.rate_fraction:.3f} of {res.rate_setting:g}/s · 429s: {res.http_429} · CPU: bot "
        f"{res.broadcast_cpu_bot_s}s, sandbox and people {res.broadcast_cpu_sandbox_s}s"
    )
    say(
        f"  b. interactive during the broadcast: {_lat(res.interactive)} (help {_lat(res.interactive_help)}; taps {_lat(res.interactive_tap)})"
    )

    # c. a burst of taps from people who have not answered
    await _drain(bot, 30)
    edits_limited0 = sandbox.count("editMessageText", 429)
    await asyncio.sleep(1.0)
    answered0 = await bot.db.fetchval(
        "SELECT count(*) FROM recipients WHERE alert_id = ? AND response != 'none'", (alert_id,)
    )
    free = [uid for uid in ids if uid not in used]
    tappers = [sandbox.user(uid) for uid in free[:taps]]
    res.taps = len(tappers)
    requests0 = dict(sandbox._method_counts)
    cpu0 = (_cpu_seconds(bot.pid), _cpu_seconds(None))
    if bot.pid and os.environ.get("SAUCIENS_BENCH_PROFILE"):
        os.kill(bot.pid, signal.SIGUSR1)
        await asyncio.sleep(0.2)
    t0 = time.monotonic()
    qids = [(u, await u.press(f"ans:{alert_id}:yes")) for u in tappers]
    answered_at: dict[str, float] = {}
    in_db_at: float | None = None
    deadline = t0 + 60
    while time.monotonic() < deadline:
        now = time.monotonic()
        for _, qid in qids:
            if qid not in answered_at and (rec := sandbox.callback(qid)) is not None and rec["answered"]:
                answered_at[qid] = now
        if in_db_at is None:
            answered = await bot.db.fetchval(
                "SELECT count(*) FROM recipients WHERE alert_id = ? AND response != 'none'", (alert_id,)
            )
            if answered - answered0 >= len(tappers):
                in_db_at = time.monotonic()
        if len(answered_at) == len(qids) and in_db_at is not None:
            break
        await asyncio.sleep(0.01)
    if len(answered_at) == len(qids):
        res.taps_all_answered_s = round(max(answered_at.values()) - t0, 3)
    res.taps_all_in_db_s = round(in_db_at - t0, 3) if in_db_at is not None else None
    if bot.pid and os.environ.get("SAUCIENS_BENCH_PROFILE"):
        os.kill(bot.pid, signal.SIGUSR2)
    res.taps_latency = Latency.of([ts - t0 for ts in answered_at.values()])
    res.taps_cpu_bot_s = round(_cpu_seconds(bot.pid) - cpu0[0], 2) if bot.pid else None
    res.taps_cpu_sandbox_s = round(_cpu_seconds(None) - cpu0[1], 2)
    res.taps_requests = {
        m: n - requests0.get(m, 0) for m, n in sandbox._method_counts.items() if n - requests0.get(m, 0)
    }
    tally = await AlertRepo(bot.db).tally(alert_id)
    res.taps_accepted, res.taps_standby = tally.accepted, tally.standby
    res.edit_429 = sandbox.count("editMessageText", 429) - edits_limited0
    say(
        f"  c. {res.taps} taps at once: all answered after {res.taps_all_answered_s}s, all in the database after "
        f"{res.taps_all_in_db_s}s (accepted {tally.accepted}, standby {tally.standby}); CPU: bot "
        f"{res.taps_cpu_bot_s}s, sandbox and people {res.taps_cpu_sandbox_s}s; requests {res.taps_requests}"
    )


def _cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process (this one when ``pid`` is None)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _delivered(sandbox: DemoSandbox, since: int) -> int:
    return len({chat for _, chat, _ in sandbox.answer_messages[since:]})


async def _drain(bot: BotHandle, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not await bot.db.fetchval("SELECT count(*) FROM outbox WHERE state = 'queued'"):
            return
        await asyncio.sleep(0.1)


class BotHandle:
    """The bot under test: in a child process (``python -m bench.delivery --serve-bot``) or in
    this one. ``db`` is this process's own connection to the bot's database, for reading."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pid: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._bot: Any = None

    @classmethod
    async def child(cls, config: dict[str, Any], db: Database) -> BotHandle:
        h = cls(db)
        h._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.delivery",
            "--serve-bot",
            json.dumps(config),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=str(ROOT),
        )
        h.pid = h._proc.pid
        return h

    @classmethod
    async def in_process(cls, config: dict[str, Any], db: Database) -> BotHandle:
        from bot.app import Sauciens
        from bot.settings import load_settings

        h = cls(db)
        h._bot = Sauciens(load_settings(None, **config))
        await h._bot.start()
        return h

    async def window_size(self) -> int:
        """The sender's in-flight window (in this process only; 0 for a child process)."""
        return self._bot.sender.window.size if self._bot is not None else 0

    async def stop(self) -> tuple[int, int]:
        """Stop the bot; returns the errors and warnings it logged (child process only)."""
        counts = (0, 0)
        if self._bot is not None:
            with contextlib.suppress(Exception):
                await self._bot.stop()
        if self._proc is not None:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.close()
            try:
                out = await asyncio.wait_for(self._proc.stdout.read(), 30)
                await asyncio.wait_for(self._proc.wait(), 10)
                last = out.decode().strip().splitlines()[-1] if out.strip() else "{}"
                stats = json.loads(last)
                counts = (int(stats.get("errors", 0)), int(stats.get("warnings", 0)))
            except (TimeoutError, ValueError):
                self._proc.kill()
                await self._proc.wait()
        await self.db.close()
        return counts


async def seeded_bot(sandbox: DemoSandbox, folder: Path, recipients: int, rate: float) -> BotHandle:
    """A bot in its own process on a database in ``folder`` with ``recipients`` volunteers (each a
    sandbox user), sending at ``rate``, once it polls the sandbox."""
    config = {
        "telegram": {
            "token": TOKEN,
            "api_base_url": sandbox.base_url,
            "api_base_file_url": sandbox.base_file_url,
            "poll_timeout": 10,
        },
        "database": {"path": str(folder / "bench.sqlite3")},
        "access": {"admin_ids": [COORDINATOR_ID], "organisation": "Bench"},
        "broadcast": {"messages_per_second": rate},
        "alerts": BENCH_ALERTS,
        "logging": {"level": "WARNING"},
    }
    crowd = people(recipients)
    db = Database(folder / "bench.sqlite3")
    await db.open()
    await migrate(db)
    await PeopleRepo(db).import_people(crowd)
    for p in crowd:
        sandbox.user(int(p.address.external_id), p.name or "V", language_code=p.language)
    handle = await BotHandle.child(config, db)
    calls0 = sandbox.count("getUpdates")
    while True:  # until the bot polls (the sandbox's request counter signals nothing to wait on)
        if sandbox.count("getUpdates") != calls0:
            break
        await asyncio.sleep(0.05)
    return handle


async def serve_bot(config: dict[str, Any]) -> int:
    """The child process: run the bot until standard input closes, then print what it logged."""
    from bot.app import Sauciens
    from bot.settings import load_settings

    profile_to = os.environ.get("SAUCIENS_BENCH_PROFILE", "")  # for developers: cProfile the bot in part c
    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGUSR1, profiler.enable)
        loop.add_signal_handler(signal.SIGUSR2, profiler.disable)
    with quiet_logs() as capture:
        bot = Sauciens(load_settings(None, **config))
        await bot.start()
        try:
            await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
        finally:
            await bot.stop()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile_to)
        errors = sum(1 for r in capture.records if r.levelno >= logging.ERROR)
        if os.environ.get("SAUCIENS_BENCH_LOG"):
            for r in capture.records:
                print(f"{r.levelname} {r.name} {r.getMessage()}", file=sys.stderr)
    print(json.dumps({"errors": errors, "warnings": len(capture.records) - errors}), flush=True)
    return 0


def _lat(lat: Latency) -> str:
    if not lat.n:
        return "no samples"
    return f"n={lat.n} p50 {_ms(lat.p50)} · p95 {_ms(lat.p95)} · max {_ms(lat.max)}"


def markdown(res: Results) -> str:
    def ok(passed: bool) -> str:
        return "✅" if passed else "❌"

    g = res.goals
    a = (
        f"| a. Broadcast to {res.recipients:,} recipients | {res.broadcast_rate:.2f} msg/s over {res.broadcast_seconds:.0f} s "
        f"= **{res.rate_fraction:.3f}** of {res.rate_setting:g}/s{' (paid)' if res.paid else ''} | ≥ {res.rate_goal:g} "
        f"{ok(g.get(f'a_rate_fraction_ge_{res.rate_goal:g}', False))} |"
    )
    b = (
        f"| b. Tap or /help answered during the broadcast (n={res.interactive.n}) | p50 {_ms(res.interactive.p50)} · "
        f"**p95 {_ms(res.interactive.p95)}** · max {_ms(res.interactive.max)} | p95 ≤ {res.interactive_goal_s * 1000:.0f} ms "
        f"{ok(g.get(f'b_p95_le_{res.interactive_goal_s:g}s', False))} |"
    )
    c = (
        f"| c. {res.taps:,} taps at once (need={res.taps_accepted}) | all answered {_s(res.taps_all_answered_s)} · "
        f"all in the DB **{_s(res.taps_all_in_db_s)}** | < 3 s {ok(g.get('c_taps_lt_3s', False))} |"
    )
    rows = [
        "| Measure | Result | Goal |",
        "|---|---|---|",
        a,
        f"| a. 429 answers during the broadcast | **{res.http_429}** | 0 {ok(g.get('a_no_429', False))} |",
        b,
        c,
    ]
    return "\n".join(rows)


def _ms(v: float | None) -> str:
    return "—" if v is None else f"{v * 1000:.0f} ms"


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--recipients", type=int, default=None, help="people who receive the alert (default 10000; --quick: 1000)"
    )
    p.add_argument("--rate", type=float, default=30.0, help="the bot's broadcast.messages_per_second (default 30)")
    p.add_argument(
        "--telegram-limit",
        type=float,
        default=30.0,
        help="the sandbox's overall limit in messages a second (default 30)",
    )
    p.add_argument("--latency", type=float, default=0.05, help="the sandbox's round trip in seconds (default 0.05)")
    p.add_argument(
        "--probes", type=int, default=None, help="interactions sampled during the broadcast (default 150; --quick: 40)"
    )
    p.add_argument("--taps", type=int, default=1000, help="simultaneous taps in part c (default 1000)")
    p.add_argument("--max-in-flight", type=int, default=None, help="override broadcast.max_in_flight")
    p.add_argument("--quick", action="store_true", help="a fast check: 1000 recipients")
    p.add_argument(
        "--paid",
        action="store_true",
        help="broadcast.paid = true (goals: ≥ 0.8 of the rate, /help p95 ≤ 0.3 s); use with --rate 1000",
    )
    p.add_argument(
        "--output", type=Path, default=None, help="where to write the JSON (default bench/results/delivery-<date>.json)"
    )
    p.add_argument(
        "--in-process", action="store_true", help="run the bot in this process and event loop, with the sandbox"
    )
    p.add_argument("--serve-bot", metavar="CONFIG", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_bot:
        return asyncio.run(serve_bot(json.loads(args.serve_bot)))
    recipients = args.recipients or (1000 if args.quick else 10_000)
    probes = args.probes if args.probes is not None else (40 if args.quick else 150)
    command = "python -m bench.delivery" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    say(
        f"Sauciens delivery benchmark: {recipients} recipients, rate {args.rate:g}/s, Telegram limit {args.telegram_limit:g}/s, "
        f"round trip {args.latency * 1000:.0f} ms (about {recipients / args.rate:.0f}s of broadcast)"
    )
    res = asyncio.run(
        benchmark(
            recipients,
            rate=args.rate,
            telegram_limit=args.telegram_limit,
            latency=args.latency,
            probes=probes,
            taps=args.taps,
            max_in_flight=args.max_in_flight,
            paid=args.paid,
            in_process=args.in_process,
            command=command,
        )
    )
    suffix = ("-paid" if args.paid else "") + ("-quick" if recipients < 10_000 else "")
    out = args.output or RESULTS / f"delivery-{datetime.now().strftime('%Y-%m-%d')}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(res), ensure_ascii=False, indent=2) + "\n")
    say()
    say(markdown(res))
    say()
    say(
        f"Bot log: {res.bot_errors} errors, {res.bot_warnings} warnings · total {res.total_seconds:.0f}s · written to {out}"
    )
    return 0 if all(res.goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
