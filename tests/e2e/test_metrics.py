"""/metrics and /healthz on metrics.listen, scraped over loopback from a running bot."""

from __future__ import annotations

import asyncio
import re
import socket
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Sauciens
from bot.settings import ConfigError
from tests.conftest import free_port, make_settings
from tests.e2e.seed import Spec, alert_messages, seed
from tests.e2e.test_alerts import OGRE, coordinator, send_one_line, wait_delivered


async def http_get(port: int, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of ``GET path`` on the monitoring listener."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    ctype = re.search(r"(?im)^content-type: (.*)$", head)
    return int(head.split()[1]), ctype.group(1).strip() if ctype else "", body


async def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, ctype, body = await http_get(port, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def sample(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def eventually(check, timeout: float = 5.0):
    """Await ``check()`` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.05)


@pytest.fixture
def metrics_port() -> int:
    return free_port()


@pytest.fixture
def monitored(start_bot, metrics_port):
    """Start a bot with the monitoring listener on ``metrics_port`` (fast refresh)."""

    async def start(**metrics: object):
        settings = {"listen": f"127.0.0.1:{metrics_port}", "refresh_seconds": 0.1, **metrics}
        return await start_bot(metrics=settings)

    return start


async def test_metrics_are_off_by_default(bot):
    assert bot.monitor is None


async def test_metrics_after_a_broadcast(sandbox, start_bot, metrics_port):
    # 10 messages a second: the broadcast is still going when the faults below are injected
    bot = await start_bot(
        metrics={"listen": f"127.0.0.1:{metrics_port}", "refresh_seconds": 0.1}, broadcast={"messages_per_second": 10}
    )
    before = await scrape(metrics_port)
    assert sample(before, "sauciens_outbox_queued", kind="alert") == 0
    assert sample(before, "sauciens_messages_total", kind="alert", result="sent") == 0
    assert sample(before, "sauciens_telegram_reachable") == 1

    users = await seed(bot, sandbox, [Spec(100 + i, f"P{i}", "en", OGRE) for i in range(12)])
    users[0].block()
    coord = await coordinator(sandbox)
    await send_one_line(coord, "areas=Ogre Sandbags at the bridge")
    # Telegram asks to slow down once, and fails once, in the middle of the broadcast
    sandbox.inject_faults("sendMessage", "429", count=1, retry_after=1)
    sandbox.inject_faults("sendMessage", "5xx", count=1)
    tally = await wait_delivered(bot, 1, 12, timeout=20)
    assert (tally.sent, tally.blocked) == (11, 1)
    assert sum(len(alert_messages(u)) for u in users) == 11

    async def settled():
        s = await scrape(metrics_port)
        return s if sample(s, "sauciens_outbox_queued", kind="alert") == 0 else None

    after = await eventually(settled)
    assert sample(after, "sauciens_messages_total", kind="alert", result="sent") == 11
    assert sample(after, "sauciens_messages_total", kind="alert", result="blocked") == 1
    assert sample(after, "sauciens_messages_total", kind="alert", result="retried") == 2  # the 429 and the 5xx
    assert sample(after, "sauciens_messages_total", kind="alert", result="failed") == 0
    assert sample(after, "sauciens_telegram_429_total") == 1
    assert sample(after, "sauciens_open_alerts") == 1
    assert sample(after, "sauciens_volunteers", status="active") == 12
    assert sample(after, "sauciens_volunteers", status="registering") == 0
    assert sample(after, "sauciens_telegram_reachable") == 1
    # the coordinator's /alert and the press on Send, at least; each one timed
    updates = sample(after, "sauciens_updates_total")
    assert updates >= 2
    assert sample(after, "sauciens_update_seconds_count") == updates
    assert sample(after, "sauciens_update_seconds_bucket", le="+Inf") == updates

    await coord.send("/close 1")
    await coord.wait_for("closed")

    async def closed():
        s = await scrape(metrics_port)
        return s if sample(s, "sauciens_open_alerts") == 0 else None

    assert sample(await eventually(closed), "sauciens_messages_total", kind="alert", result="sent") == 11


async def test_unknown_paths_and_methods(monitored, metrics_port):
    await monitored()
    assert (await http_get(metrics_port, "/"))[0] == 404
    reader, writer = await asyncio.open_connection("127.0.0.1", metrics_port)
    writer.write(b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    assert (await reader.read()).startswith(b"HTTP/1.1 405 ")
    writer.close()


async def test_healthz_during_a_telegram_outage(sandbox, monitored, metrics_port):
    await monitored(telegram_silence_seconds=1.0)
    assert await http_get(metrics_port, "/healthz") == (200, "text/plain; charset=utf-8", "ok\n")

    # Telegram answers nothing but 502 from now on (the poll held open, too)
    await sandbox.set_outage("5xx")

    async def unhealthy():
        status, _, body = await http_get(metrics_port, "/healthz")
        return body if status == 503 else None

    reason = await eventually(unhealthy, timeout=10)
    assert re.fullmatch(r"telegram unreachable for \d+ s\n", reason), reason
    assert sample(await scrape(metrics_port), "sauciens_telegram_reachable") == 0

    await sandbox.set_outage(None)

    async def healthy():
        status, _, body = await http_get(metrics_port, "/healthz")
        return status == 200 and body == "ok\n"

    await eventually(healthy, timeout=10)
    assert sample(await scrape(metrics_port), "sauciens_telegram_reachable") == 1


async def test_healthz_with_a_read_only_database(monitored, metrics_port):
    bot = await monitored()
    assert (await http_get(metrics_port, "/healthz"))[0] == 200
    # what SQLite answers on a read-only file (a full or read-only mount): "attempt to write a readonly database"
    await bot.services.db.conn.execute("PRAGMA query_only = ON")
    assert await http_get(metrics_port, "/healthz") == (503, "text/plain; charset=utf-8", "database not writable\n")
    await bot.services.db.conn.execute("PRAGMA query_only = OFF")
    assert (await http_get(metrics_port, "/healthz"))[0] == 200


@pytest.mark.parametrize(
    ("section", "key"), [("metrics", "listen"), ("telegram", "webhook_listen")], ids=["metrics", "webhook"]
)
async def test_a_port_in_use_is_a_one_line_error_naming_the_key(sandbox, db_path, webhook_settings, section, key):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        overrides = {"metrics": {"listen": address}} if section == "metrics" else {}
        if section == "telegram":
            overrides = {"telegram": {**webhook_settings, "webhook_listen": address}}
        bot = Sauciens(make_settings(sandbox, db_path, **overrides))
        try:
            with pytest.raises(ConfigError, match=rf"^{section}.{key}: cannot listen on {address}: "):
                await bot.start()
        finally:
            await bot.stop()
