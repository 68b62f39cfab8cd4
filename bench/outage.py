"""Outage benchmark: ``python -m bench.outage [--recipients N] [--outage-seconds S]``.

The real bot (its own process, python-telegram-bot, the bot's HTTP client, a SQLite file)
broadcasts to N people (default 2,000) through the local sandbox with a 50 ms round trip
and Telegram's flood limits. After ``--after`` (default 500) alert messages, the Bot API
becomes unreachable for ``--outage-seconds`` (default 180): every request answered 502 for
the first half, connections refused for the second, then it is back. Someone writes
``/help`` during the outage. It measures:

- delivery: everyone has the alert; how many got it twice (only possible where a connection
  broke after the sandbox had carried the message out); nothing failed;
- the sender's restraint: requests to the sandbox during the 502 half (one probe at a time,
  not one failure after another through the queue);
- recovery: from the API's return to the next alert message, to the broadcast back at its
  rate (the 2-second window after which the rate is ≥ 0.9 of the setting), and to the
  reply to the ``/help`` written during the outage (goal ≤ 10 s).

Defaults are the production ones (``broadcast.max_backoff_seconds`` 60). Results are printed,
written as JSON to ``bench/results/outage-<date>.json`` and printed as a markdown table."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.delivery import COORDINATOR_ID, RESULTS, TOKEN, BotHandle, machine, say, seeded_bot
from bot.sandbox.demo import DemoSandbox, quiet_logs
from bot.sandbox.scenarios import has_button

ALERT_TEXT = "Mācības: piegāde cauri pārtraukumam. / Drill: delivery through an outage."


@dataclass
class OutageResults:
    date: str
    command: str
    machine: dict[str, Any]
    recipients: int
    rate_setting: float
    latency_s: float
    outage_seconds: float
    outage_began_after: int = 0  # alert messages delivered when the outage began
    delivered: int = 0  # people who have the alert
    duplicates: int = 0  # messages beyond the first per person
    failed: int = 0  # outbox rows failed or still queued at the end
    requests_during_5xx: int = 0  # sendMessage requests the sandbox saw while answering 502
    attempts_recorded: int = 0  # failed attempts the outbox recorded with its messages
    back_to_first_message_s: float | None = None
    back_to_full_rate_s: float | None = None
    rate_after_s: float = 0.0  # messages a second from the first after the outage to the last
    help_reply_after_back_s: float | None = None
    total_seconds: float = 0.0
    goals: dict[str, bool] = field(default_factory=dict)


async def benchmark(
    recipients: int, *, rate: float, latency: float, outage: float, after: int, command: str
) -> OutageResults:
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="sauciens-outage-"))
    sandbox = DemoSandbox(
        TOKEN, latency_range=(latency, latency), global_rate=30.0, global_burst=30, chat_rate=1.0, chat_burst=3
    )
    res = OutageResults(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        command=command,
        machine=machine(),
        recipients=recipients,
        rate_setting=rate,
        latency_s=latency,
        outage_seconds=outage,
    )
    handle: BotHandle | None = None
    with quiet_logs():
        try:
            await sandbox.start()
            handle = await seeded_bot(sandbox, tmp, recipients, rate)
            await _run(sandbox, handle, res, recipients, outage, after)
        finally:
            if handle is not None:
                await handle.stop()
            await sandbox.stop()
            shutil.rmtree(tmp, ignore_errors=True)
    res.total_seconds = round(time.monotonic() - started, 1)
    res.goals = {
        "everyone_has_the_alert": res.delivered == recipients and res.failed == 0,
        "at_most_one_duplicate": res.duplicates <= 1,
        "probes_not_a_stream": res.requests_during_5xx <= 20,
        "delivery_back_within_10s": res.back_to_first_message_s is not None and res.back_to_first_message_s <= 10,
        "help_answered_within_10s": res.help_reply_after_back_s is not None and res.help_reply_after_back_s <= 10,
    }
    return res


async def _run(sandbox: DemoSandbox, bot: BotHandle, res: OutageResults, n: int, outage: float, after: int) -> None:
    coord = sandbox.user(COORDINATOR_ID, "Koordinators", language_code="en")
    await coord.send(f"/alert severity=info {ALERT_TEXT}")
    preview = await coord.wait_for(has_button("cmp:send"), 60)
    await coord.press("🚀", preview)
    await coord.wait_for(has_button("trk:close:"), 60)
    say(f"  broadcasting to {n}; the outage begins after {after} messages")
    while True:
        if len(sandbox.answer_messages) >= after:
            break
        await asyncio.sleep(0.05)
    res.outage_began_after = len(sandbox.answer_messages)
    await sandbox.set_outage("5xx")
    began = time.monotonic()
    seen0 = sandbox.count("sendMessage")
    say(f"  {time.strftime('%H:%M:%S')} Bot API answers 502 for {outage / 2:.0f} s")
    await asyncio.sleep(outage / 2)
    res.requests_during_5xx = sandbox.count("sendMessage") - seen0
    await sandbox.set_outage("refused")
    say(f"  {time.strftime('%H:%M:%S')} connections refused for {outage / 2:.0f} s")
    helper = sandbox.user(990_001, "Palīgs", language_code="en")
    await asyncio.sleep(outage / 2 - 5)
    await helper.send("/help")  # written while Telegram is still unreachable
    await asyncio.sleep(5)
    during = len(sandbox.answer_messages)
    await sandbox.set_outage(None)
    back = time.monotonic()
    say(f"  {time.strftime('%H:%M:%S')} back after {back - began:.0f} s; {during} alert messages so far")
    await helper.wait_for("/profile", timeout=60)
    res.help_reply_after_back_s = round(time.monotonic() - back, 2)

    deadline = back + n / res.rate_setting * 3 + 120
    while time.monotonic() < deadline:
        if not await bot.db.fetchval("SELECT count(*) FROM outbox WHERE state = 'queued' AND kind = 'alert'"):
            break
        await asyncio.sleep(0.5)
    after_back = [ts for ts, _, _ in sandbox.answer_messages[during:]]
    if after_back:
        res.back_to_first_message_s = round(after_back[0] - back, 2)
        res.back_to_full_rate_s = _full_rate_at(after_back, back, res.rate_setting)
        if len(after_back) > 1:
            res.rate_after_s = round((len(after_back) - 1) / (after_back[-1] - after_back[0]), 2)
    per_chat: dict[int, int] = {}
    for _, chat, _ in sandbox.answer_messages:
        per_chat[chat] = per_chat.get(chat, 0) + 1
    res.delivered = len(per_chat)
    res.duplicates = sum(c - 1 for c in per_chat.values())
    res.failed = await bot.db.fetchval("SELECT count(*) FROM outbox WHERE kind = 'alert' AND state != 'sent'")
    res.attempts_recorded = await bot.db.fetchval("SELECT coalesce(sum(attempts), 0) FROM outbox WHERE kind = 'alert'")


def _full_rate_at(times: list[float], back: float, rate: float) -> float | None:
    """Seconds from ``back`` to the end of the first 2-second window at ≥ 0.9 of ``rate``."""
    j = 0
    for i, t in enumerate(times):
        while times[j] < t - 2.0:
            j += 1
        if t - times[0] >= 2.0 and (i - j) / 2.0 >= 0.9 * rate:
            return round(t - back, 2)
    return None


def markdown(res: OutageResults) -> str:
    def ok(key: str) -> str:
        return "✅" if res.goals.get(key) else "❌"

    rows = [
        "| Measure | Result | Goal |",
        "|---|---|---|",
        f"| People with the alert after a {res.outage_seconds:.0f} s outage | **{res.delivered:,}** of "
        f"{res.recipients:,}; failed {res.failed} | all {ok('everyone_has_the_alert')} |",
        f"| Sent twice | **{res.duplicates}** | ≤ 1 (a connection reset after the sandbox had it) "
        f"{ok('at_most_one_duplicate')} |",
        f"| sendMessage requests during the 502 half ({res.outage_seconds / 2:.0f} s) | **{res.requests_during_5xx}** "
        f"(failed attempts recorded: {res.attempts_recorded}) | one probe at a time {ok('probes_not_a_stream')} |",
        f"| API back → next alert message | **{_s(res.back_to_first_message_s)}** | ≤ 10 s "
        f"{ok('delivery_back_within_10s')} |",
        f"| API back → full rate (2 s at ≥ 0.9 × {res.rate_setting:g}/s) | **{_s(res.back_to_full_rate_s)}**; "
        f"{res.rate_after_s:.1f} msg/s after | within seconds |",
        f"| API back → reply to /help written during the outage | **{_s(res.help_reply_after_back_s)}** | ≤ 10 s "
        f"{ok('help_answered_within_10s')} |",
    ]
    return "\n".join(rows)


def _s(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f} s"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.outage", description=__doc__.split("\n\n")[0])
    p.add_argument("--recipients", type=int, default=2000, help="people who receive the alert (default 2000)")
    p.add_argument("--after", type=int, default=500, help="alert messages delivered before the outage (default 500)")
    p.add_argument("--outage-seconds", type=float, default=180.0, help="how long (default 180: 90 s 502, 90 refused)")
    p.add_argument("--rate", type=float, default=30.0, help="broadcast.messages_per_second (default 30)")
    p.add_argument("--latency", type=float, default=0.05, help="the sandbox's round trip (default 0.05 s)")
    p.add_argument("--output", type=Path, default=None, help="where to write the JSON")
    args = p.parse_args(argv)
    if args.outage_seconds < 12:
        p.error("--outage-seconds must be at least 12")
    command = "python -m bench.outage" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    say(f"Sauciens outage benchmark: {args.recipients} recipients, a {args.outage_seconds:.0f} s outage")
    res = asyncio.run(
        benchmark(
            args.recipients,
            rate=args.rate,
            latency=args.latency,
            outage=args.outage_seconds,
            after=args.after,
            command=command,
        )
    )
    out = args.output or RESULTS / f"outage-{datetime.now().strftime('%Y-%m-%d')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(res), ensure_ascii=False, indent=2) + "\n")
    say()
    say(markdown(res))
    say()
    say(f"total {res.total_seconds:.0f}s · written to {out}")
    return 0 if all(res.goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
