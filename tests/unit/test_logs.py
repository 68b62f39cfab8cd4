"""Log lines: key=value or JSON, and never the token, not even in a traceback."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import setup_logging

TOKEN = "123456:SECRET-token-value"


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_token_is_redacted_in_messages_and_tracebacks(capsys):
    setup_logging("INFO", "text", secrets=[TOKEN])
    log = logging.getLogger("test")
    log.info("event=request url=https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        log.exception("event=failure alert=3")
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "event=request url=https://api.telegram.org/bot<token>/getMe" in err
    assert "bad token <token>" in err
    assert len([line for line in err.splitlines() if line]) == 2  # one line per event


def test_json_format_turns_pairs_into_fields(capsys):
    setup_logging("INFO", "json", secrets=[TOKEN])
    logging.getLogger("test").info("event=alert_created alert=%d recipients=%d", 12, 250)
    doc = json.loads(capsys.readouterr().err.strip())
    assert doc["event"] == "alert_created" and doc["alert"] == "12" and doc["recipients"] == "250"
    assert doc["level"] == "info"
