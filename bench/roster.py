"""National roster benchmark: ``python -m bench.roster [--volunteers N] [--compare N] [--quick]``.

A roster of 100,000 volunteers on one small server. The bot runs as in production, in its own
process (``python -m bot --config … run``), against the local Telegram sandbox with a 50 ms
round trip and Telegram's flood limits; the list is imported with ``python -m bot volunteers
import``. Measured, for the roster and again for a small one (2,000) to compare:

1. the CSV import (a generated list with a realistic mix of municipalities, people abroad,
   skills and languages), while the bot is running and answering ``/help``;
2. start-up with the roster in the database (process start until a ``/help`` sent at that
   moment is answered);
3. the bot's resident memory (``VmRSS``, and the peak ``VmHWM``, from ``/proc/PID/status``
   of the bot's process only), idle and while broadcasting;
4. the time from the coordinator's one-line ``/alert`` to the preview, for an audience of
   about a quarter of the roster (and, for information, for everyone);
5. the time from pressing Send to the first alert message reaching the sandbox;
6. ``/help`` latency: idle, during the import and during the broadcast.

Goals (for the roster): import ≤ 30 s, preview ≤ 0.5 s, first message ≤ 1 s after Send, RSS
≤ 150 MB, and ``/help`` as fast as with the small roster. Results are printed as a markdown
table and written as JSON to ``bench/results/roster-<date>[-quick].json``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.delivery import BENCH_ALERTS, Latency, machine
from bot.domain import places
from bot.domain.volunteer_csv import HEADER
from bot.sandbox.demo import ABROAD_SKILLS, SKILL_WEIGHTS, DemoSandbox, quiet_logs  # the demo's skill mix
from bot.sandbox.scenarios import has_button
from bot.sandbox.users import SimMessage

TOKEN = "123456:SANDBOX-roster-token"
COORDINATOR_ID = 9000
FIRST_ID = 2_000_001
PROBE_ID = 8_000_001  # people who are not in the roster and ask for /help
ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
ALERT_TEXT = "Mācības: valsts saraksta mērījums. / Drill: measuring the national roster."
# About a quarter of the generated roster: first aid or drivers, in Rīga, Pierīga and the
# two largest cities, or abroad anywhere (see ``targeted_share``).
TARGETED = "skills=first_aid,driver areas=Rīga,Mārupe,Ķekava,Salaspils,Ādaži,Ropaži,Daugavpils,Liepāja countries=*"
MB = 1024 * 1024
CHAT_PAUSE = 1.5  # between the coordinator's commands: Telegram allows about one message a second per chat

# ----- the roster -----------------------------------------------------------------------------

# Municipalities weighted roughly by population (thousands); the rest of the 43 get 8-25.
_WEIGHTS = {
    "Rīga": 605,
    "Daugavpils": 78,
    "Liepāja": 67,
    "Jelgava": 55,
    "Jūrmala": 50,
    "Ventspils": 33,
    "Rēzekne": 27,
    "Ogre": 55,
    "Mārupe": 40,
    "Ķekava": 33,
    "Salaspils": 22,
    "Ādaži": 22,
    "Ropaži": 32,
    "Sigulda": 30,
    "Valmiera": 50,
    "Cēsis": 40,
    "Tukums": 40,
    "Bauska": 40,
    "Jēkabpils": 40,
}
_ABROAD = {  # country: (weight, cities)
    "GB": (40, ("London", "Manchester", "Peterborough", "Birmingham", "Boston")),
    "IE": (20, ("Dublin", "Cork", "Limerick")),
    "DE": (15, ("Berlin", "Hamburg", "München")),
    "NO": (8, ("Oslo", "Bergen", "Stavanger")),
    "SE": (5, ("Stockholm", "Göteborg")),
    "US": (5, ("New York", "Chicago", "Seattle")),
    "NL": (4, ("Amsterdam", "Rotterdam")),
    "DK": (3, ("København", "Aarhus")),
}
_FIRST = (
    "Anna",
    "Jānis",
    "Līga",
    "Andris",
    "Ilze",
    "Mārtiņš",
    "Kristīne",
    "Edgars",
    "Zane",
    "Raivis",
    "Laura",
    "Emīls",
)
_LAST = (
    "Bērziņš",
    "Kalniņa",
    "Ozols",
    "Liepa",
    "Krūmiņš",
    "Zariņa",
    "Vītols",
    "Jansone",
    "Smith",
    "Ivanovs",
    "Petrova",
)
# The coalition's organisations (code, name), added with `orgs add` before the list is imported;
# half the roster belongs to one of them, the rest is the shared pool.
ORGANISATIONS = (
    ("LSK", "Latvijas Sarkanais Krusts"),
    ("LAPAS", "LAPAS"),
    ("SAMAR", "Samariešu apvienība"),
    ("ZS", "Zemessardzes atbalsts"),
)
_ORGS = (*(code for code, _ in ORGANISATIONS), "", "", "", "")


def _pick(rng: random.Random, weights: dict[str, int], k: int) -> list[str]:
    pool = dict(weights)
    chosen = []
    for _ in range(k):
        code = rng.choices(list(pool), weights=list(pool.values()))[0]
        chosen.append(code)
        del pool[code]
    return chosen


def roster_rows(n: int, seed: int = 7) -> list[list[str]]:
    """``n`` rows in the import format, as an NGO's spreadsheet has them: municipalities mostly by
    name (sometimes in lower case or by ATVK code), 14 % abroad, 1-3 skills, 72 % Latvian,
    phones in several notations."""
    rng = random.Random(seed)
    municipalities = places.municipalities()
    names = [m.name_lv for m in municipalities]
    weights = [_WEIGHTS.get(m.name_lv, rng.randint(8, 25)) for m in municipalities]
    atvk = {m.name_lv: m.atvk for m in municipalities}
    countries = list(_ABROAD)
    country_weights = [w for w, _ in _ABROAD.values()]
    rows = []
    for i in range(n):
        abroad = rng.random() < 0.14
        lang = "lv" if rng.random() < 0.72 else "en"
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        phone = ""
        if abroad:
            country = rng.choices(countries, country_weights)[0]
            municipality, city = "", rng.choice(_ABROAD[country][1])
            skills = _pick(rng, ABROAD_SKILLS, rng.choice((1, 1, 2, 2, 3)))
            if rng.random() < 0.4:
                phone = f"+44 7{rng.randrange(100000000, 999999999)}" if country == "GB" else ""
        else:
            country, city = rng.choice(("LV", "LV", "lv", "")), ""
            place = rng.choices(names, weights)[0]
            style = rng.random()
            municipality = atvk[place] if style < 0.3 else place.lower() if style < 0.4 else place
            skills = _pick(rng, SKILL_WEIGHTS, rng.choice((1, 1, 2, 2, 3)))
            if rng.random() < 0.6:
                digits = f"2{rng.randrange(1000000, 9999999)}"
                phone = rng.choice((digits, f"+371 {digits}", f"{digits[:3]} {digits[3:5]} {digits[5:]}"))
        rows.append(
            [
                str(FIRST_ID + i),
                name,
                lang if rng.random() < 0.9 else lang.upper(),
                ";".join(skills),
                municipality,
                country,
                city,
                phone,
                rng.choice(_ORGS),
            ]
        )
    return rows


def write_roster(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        w.writerows(rows)


# ----- measuring ------------------------------------------------------------------------------


@dataclass
class Memory:
    rss_mb: float = 0.0
    hwm_mb: float = 0.0


@dataclass
class Run:
    volunteers: int
    import_seconds: float = 0.0
    import_output: str = ""
    import_help: Latency = field(default_factory=Latency)
    startup_seconds: float = 0.0
    idle: Memory = field(default_factory=Memory)
    help_idle: Latency = field(default_factory=Latency)
    audience: int = 0
    preview_s: list[float] = field(default_factory=list)
    preview_everyone_s: float = 0.0
    everyone: int = 0
    send_to_first_s: float | None = None
    send_to_tracking_s: float | None = None
    broadcast_seconds: float = 0.0
    broadcast_sent: int = 0
    broadcasting: Memory = field(default_factory=Memory)
    help_broadcast: Latency = field(default_factory=Latency)
    bot_log_errors: int = 0
    bot_log_warnings: int = 0


@dataclass
class Results:
    date: str
    command: str
    machine: dict[str, Any]
    latency_s: float
    runs: list[Run] = field(default_factory=list)
    goals: dict[str, bool] = field(default_factory=dict)
    total_seconds: float = 0.0


def say(text: str = "") -> None:
    print(text, flush=True)


def memory(pid: int) -> Memory:
    fields: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024  # kB
    return Memory(round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1))


def config_toml(sandbox: DemoSandbox, db: Path) -> str:
    return (
        "[telegram]\n"
        f'token = "{TOKEN}"\n'
        f'api_base_url = "{sandbox.base_url}"\n'
        f'api_base_file_url = "{sandbox.base_file_url}"\n'
        "poll_timeout = 10\n"
        "[database]\n"
        f'path = "{db}"\n'
        "[access]\n"
        f"admin_ids = [{COORDINATOR_ID}]\n"
        'organisation = "Bench"\n'
        "[alerts]\n" + "".join(f"{key} = {str(value).lower()}\n" for key, value in BENCH_ALERTS.items()) + "[logging]\n"
        'level = "WARNING"\n'
    )


class Bot:
    """``python -m bot --config FILE run`` in a child process; its log goes to a file."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(self.config), "run", stderr=err, cwd=str(ROOT)
            )

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def log_counts(self) -> tuple[int, int]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        errors = sum(1 for line in text.splitlines() if "ERROR" in line or "Traceback" in line)
        warnings = sum(1 for line in text.splitlines() if "WARNING" in line)
        return errors, warnings


class Prober:
    """``/help`` from people outside the roster, one at a time, each a new person (so that
    Telegram's per-chat limit never applies)."""

    def __init__(self, sandbox: DemoSandbox) -> None:
        self.sandbox = sandbox
        self.next_id = PROBE_ID

    async def once(self, timeout: float = 15) -> float:
        u = self.sandbox.user(self.next_id, "Probe", language_code="en")
        self.next_id += 1
        t0 = time.monotonic()
        await u.send("/help")
        await u.wait_for(lambda m: "/profile" in m.text, timeout)
        return time.monotonic() - t0

    async def during(self, until: asyncio.Future[Any] | asyncio.Event, spacing: float) -> list[float]:
        samples: list[float] = []
        while not (until.is_set() if isinstance(until, asyncio.Event) else until.done()):
            samples.append(await self.once())
            await asyncio.sleep(spacing)
        return samples


def _settle_in(db: Path) -> None:
    """What people set in the chat after the import: 10 % have quiet hours (03:00-03:01, so
    that the audience does not depend on when the benchmark runs, but every one is checked),
    3 % paused alerts."""
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("UPDATE people SET quiet_start = '03:00', quiet_end = '03:01' WHERE id % 10 = 3")
        conn.execute("UPDATE people SET paused = 1 WHERE id % 100 IN (5, 50, 95)")


def _is_preview(m: SimMessage) -> bool:
    return has_button("cmp:send")(m)


async def roster_run(n: int, *, latency: float, broadcast_seconds: float, probes: int) -> Run:
    run = Run(volunteers=n)
    tmp = Path(tempfile.mkdtemp(prefix="sauciens-roster-"))
    sandbox = DemoSandbox(TOKEN, latency_range=(latency, latency), chat_rate=1.0, chat_burst=3)
    await sandbox.start()
    config = tmp / "config.toml"
    config.write_text(config_toml(sandbox, tmp / "roster.sqlite3"))
    bot = Bot(config, tmp / "bot.log")
    prober = Prober(sandbox)
    try:
        rows = roster_rows(n)
        write_roster(tmp / "roster.csv", rows)
        for r in rows:
            sandbox.user(int(r[0]), r[1].split()[0], language_code=r[2].lower())
        size = (tmp / "roster.csv").stat().st_size / MB
        say(f"  {n:,} volunteers: {size:.1f} MB of CSV written, the bot starting on an empty database…")
        await bot.start()
        await prober.once(60)  # the bot answers

        for code, name in ORGANISATIONS:  # as the operator would, before the organisations' lists
            adding = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--config",
                str(config),
                "orgs",
                "add",
                code,
                name,
                cwd=str(ROOT),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            if await adding.wait() != 0:
                raise RuntimeError(f"orgs add {code} failed")

        # 1. the import, while the bot answers /help
        t0 = time.monotonic()
        importer = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "volunteers",
            "import",
            str(tmp / "roster.csv"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=str(ROOT),
        )
        done = asyncio.ensure_future(importer.communicate())
        helps = await prober.during(done, 0.2)
        out, _ = await done
        run.import_seconds = round(time.monotonic() - t0, 2)
        run.import_output = out.decode().strip()[-500:]
        run.import_help = Latency.of(helps)
        if importer.returncode != 0:
            raise RuntimeError(f"the import failed: {run.import_output}")
        say(f"  1. import {run.import_seconds:.1f} s ({run.import_output}); /help meanwhile {_lat(run.import_help)}")

        # 2. start-up with the roster in the database
        await bot.stop()
        await asyncio.to_thread(_settle_in, tmp / "roster.sqlite3")
        t0 = time.monotonic()
        await bot.start()
        await prober.once(60)  # sent at once: the update waits in the sandbox until the bot polls
        run.startup_seconds = round(time.monotonic() - t0, 2)
        await asyncio.sleep(3.0)
        run.idle = memory(bot.pid)
        run.help_idle = Latency.of([await prober.once() for _ in range(probes)])
        say(f"  2. start-up {run.startup_seconds:.2f} s · idle RSS {run.idle.rss_mb} MB · /help {_lat(run.help_idle)}")

        # 4. /alert to the preview
        coord = sandbox.user(COORDINATOR_ID, "Koordinators", language_code="en")
        everyone = await _preview(coord, f"/alert severity=info drill=yes {ALERT_TEXT}")
        run.preview_everyone_s, run.everyone = everyone[0], everyone[2]
        preview: SimMessage | None = None
        for _ in range(3):
            await asyncio.sleep(CHAT_PAUSE)
            seconds, preview, run.audience = await _preview(
                coord, f"/alert severity=info drill=yes {TARGETED} {ALERT_TEXT}"
            )
            run.preview_s.append(seconds)
        assert preview is not None
        say(
            f"  4. preview for {run.audience:,} in {', '.join(f'{s:.3f}' for s in run.preview_s)} s; "
            f"for everyone ({run.everyone:,}) {run.preview_everyone_s:.3f} s"
        )

        # 5. Send to the first message, then 3. and 6. while broadcasting
        await asyncio.sleep(CHAT_PAUSE)
        first = len(sandbox.answer_messages)
        pressed = time.monotonic()
        await coord.press("🚀", preview)
        while True:  # the sandbox records each message's creation time; look often
            if len(sandbox.answer_messages) > first or time.monotonic() - pressed > 30:
                break
            await asyncio.sleep(0.002)
        if len(sandbox.answer_messages) > first:
            run.send_to_first_s = round(sandbox.answer_messages[first][0] - pressed, 3)
        tracking = await coord.wait_for(has_button("trk:close:"), 30)
        run.send_to_tracking_s = round(time.monotonic() - pressed, 3)
        del tracking
        stop = asyncio.Event()
        peak = Memory()

        async def sample() -> None:
            while not stop.is_set():
                m = memory(bot.pid)
                peak.rss_mb, peak.hwm_mb = max(peak.rss_mb, m.rss_mb), max(peak.hwm_mb, m.hwm_mb)
                await asyncio.sleep(0.1)

        sampler = asyncio.create_task(sample())
        probing = asyncio.create_task(prober.during(stop, 0.3))
        await asyncio.sleep(broadcast_seconds)
        stop.set()
        helps = await probing
        await sampler
        run.broadcasting = peak
        run.help_broadcast = Latency.of(helps)
        run.broadcast_seconds = round(time.monotonic() - pressed, 1)
        run.broadcast_sent = len({chat for _, chat, _ in sandbox.answer_messages[first:]})
        say(
            f"  5. first alert message {run.send_to_first_s} s after Send (tracking {run.send_to_tracking_s} s); "
            f"{run.broadcast_sent:,} sent in {run.broadcast_seconds:.0f} s"
        )
        say(f"  3. RSS while broadcasting: max {peak.rss_mb} MB, peak (HWM) {peak.hwm_mb} MB")
        say(f"  6. /help while broadcasting {_lat(run.help_broadcast)}")
    finally:
        await bot.stop()
        run.bot_log_errors, run.bot_log_warnings = bot.log_counts()
        if run.bot_log_errors and os.environ.get("SAUCIENS_BENCH_LOG"):
            print(bot.log.read_text(errors="replace"), file=sys.stderr)
        await sandbox.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return run


async def _preview(coord: Any, command: str) -> tuple[float, SimMessage, int]:
    """Send ``/alert …``; the seconds until the preview arrives, the preview, its audience."""
    before = {id(m) for m in coord.messages}
    t0 = time.monotonic()
    await coord.send(command)
    msg = await coord.wait_for(lambda m: id(m) not in before and _is_preview(m), 60)
    seconds = round(time.monotonic() - t0, 3)
    found = re.search(r"👥 ([\d,\s\u00a0]+)", msg.text)
    audience = int(re.sub(r"\D", "", found.group(1))) if found else 0
    return seconds, msg, audience


def _lat(lat: Latency) -> str:
    if not lat.n:
        return "no samples"
    assert lat.p50 is not None and lat.p95 is not None and lat.max is not None
    return f"n={lat.n} p50 {lat.p50 * 1000:.0f} ms · p95 {lat.p95 * 1000:.0f} ms · max {lat.max * 1000:.0f} ms"


def goals(big: Run, small: Run | None, latency: float) -> dict[str, bool]:
    g = {
        "import_le_30s": big.import_seconds <= 30,
        "preview_le_0.5s": bool(big.preview_s) and max(big.preview_s) <= 0.5,
        "first_message_le_1s": big.send_to_first_s is not None and big.send_to_first_s <= 1.0,
        "rss_le_150mb": max(big.idle.rss_mb, big.broadcasting.rss_mb, big.broadcasting.hwm_mb) <= 150,
        "no_errors": big.bot_log_errors == 0,
    }
    if small is not None:
        # "as fast as": p95 within 20 % (or 10 ms) of the small roster's, idle and broadcasting
        def close(a: Latency, b: Latency) -> bool:
            return a.p95 is not None and b.p95 is not None and a.p95 <= max(b.p95 * 1.2, b.p95 + 0.01)

        g["help_as_fast_as_small"] = close(big.help_idle, small.help_idle) and close(
            big.help_broadcast, small.help_broadcast
        )
    return g


def markdown(res: Results) -> str:
    runs = res.runs
    head = "| Measure | " + " | ".join(f"{r.volunteers:,} volunteers" for r in runs) + " | Goal |"
    rows = [head, "|---" * (len(runs) + 2) + "|"]

    def row(label: str, cells: list[str], goal: str = "") -> None:
        rows.append(f"| {label} | " + " | ".join(cells) + f" | {goal} |")

    def ok(key: str) -> str:
        return ("✅" if res.goals.get(key) else "❌") if key in res.goals else ""

    def p(lat: Latency) -> str:
        return "—" if lat.p95 is None else f"p50 {lat.p50 * 1000:.0f} · p95 {lat.p95 * 1000:.0f} ms"  # type: ignore[operator]

    row(
        "CSV import (`volunteers import`, bot running)",
        [f"{r.import_seconds:.1f} s" for r in runs],
        f"≤ 30 s {ok('import_le_30s')}",
    )
    row("Start-up (process start → first `/help` answered)", [f"{r.startup_seconds:.2f} s" for r in runs])
    row("RSS idle", [f"{r.idle.rss_mb:.0f} MB" for r in runs], f"≤ 150 MB {ok('rss_le_150mb')}")
    row(
        "RSS while broadcasting (max · peak HWM)",
        [f"{r.broadcasting.rss_mb:.0f} · {r.broadcasting.hwm_mb:.0f} MB" for r in runs],
        f"≤ 150 MB {ok('rss_le_150mb')}",
    )
    row(
        "`/alert` → preview, audience about ¼ (worst of 3)",
        [f"{max(r.preview_s):.3f} s ({r.audience:,})" if r.preview_s else "—" for r in runs],
        f"≤ 0.5 s {ok('preview_le_0.5s')}",
    )
    row("`/alert` → preview, everyone", [f"{r.preview_everyone_s:.3f} s ({r.everyone:,})" for r in runs])
    row(
        "Send → first alert message",
        [f"{r.send_to_first_s:.3f} s" if r.send_to_first_s is not None else "—" for r in runs],
        f"≤ 1 s {ok('first_message_le_1s')}",
    )
    row("`/help` idle", [p(r.help_idle) for r in runs], f"as with 2,000 {ok('help_as_fast_as_small')}")
    row("`/help` during the import", [p(r.import_help) for r in runs])
    row("`/help` while broadcasting", [p(r.help_broadcast) for r in runs], "as with 2,000")
    return "\n".join(rows)


async def benchmark(
    sizes: list[int], *, latency: float, broadcast_seconds: float, probes: int, command: str
) -> Results:
    started = time.monotonic()
    res = Results(
        date=datetime.now(UTC).isoformat(timespec="seconds"), command=command, machine=machine(), latency_s=latency
    )
    with quiet_logs():
        for n in sizes:
            say(f"Roster of {n:,}")
            res.runs.append(await roster_run(n, latency=latency, broadcast_seconds=broadcast_seconds, probes=probes))
    big = max(res.runs, key=lambda r: r.volunteers)
    small = min(res.runs, key=lambda r: r.volunteers) if len(res.runs) > 1 else None
    res.goals = goals(big, small, latency)
    res.total_seconds = round(time.monotonic() - started, 1)
    return res


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.roster", description=__doc__.split("\n\n")[0])
    p.add_argument("--volunteers", type=int, default=None, help="the roster (default 100000; --quick: 20000)")
    p.add_argument("--compare", type=int, default=2000, help="the small roster to compare with (0: none)")
    p.add_argument("--latency", type=float, default=0.05, help="the sandbox's round trip in seconds (default 0.05)")
    p.add_argument("--broadcast-seconds", type=float, default=20.0, help="how long to watch the broadcast (default 20)")
    p.add_argument("--probes", type=int, default=30, help="/help probes while idle (default 30)")
    p.add_argument("--quick", action="store_true", help="a fast check: 20,000 volunteers, 10 s of broadcast")
    p.add_argument("--output", type=Path, default=None, help="the JSON (default bench/results/roster-<date>.json)")
    args = p.parse_args(argv)
    n = args.volunteers or (20_000 if args.quick else 100_000)
    seconds = 10.0 if args.quick and args.broadcast_seconds == 20.0 else args.broadcast_seconds
    sizes = [s for s in (args.compare, n) if s]
    command = "python -m bench.roster" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    res = asyncio.run(
        benchmark(sizes, latency=args.latency, broadcast_seconds=seconds, probes=args.probes, command=command)
    )
    out = args.output or RESULTS / f"roster-{datetime.now().strftime('%Y-%m-%d')}{'-quick' if n < 100_000 else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(res), ensure_ascii=False, indent=2) + "\n")
    say()
    say(markdown(res))
    say()
    errors = sum(r.bot_log_errors for r in res.runs)
    say(f"Bot log: {errors} errors · total {res.total_seconds:.0f} s · written to {out}")
    failed = [k for k, v in res.goals.items() if not v]
    if failed:
        say("Goals missed: " + ", ".join(failed))
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
