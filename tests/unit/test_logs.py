"""Log lines: key=value or JSON with typed fields, and never the token, not even in a traceback."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import event, setup_logging

TOKEN = "123456:SECRET-token-value"


@pytest.fixture(autouse=True)
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_token_is_redacted_in_messages_fields_and_tracebacks(capsys):
    setup_logging("INFO", "text", secrets=[TOKEN])
    log = logging.getLogger("test")
    event(log, "request", url=f"https://api.telegram.org/bot{TOKEN}/getMe")
    logging.getLogger("library").info("GET https://api.telegram.org/bot%s/getMe", TOKEN)
    try:
        raise RuntimeError(f"bad token {TOKEN}")
    except RuntimeError:
        event(log, "failure", alert=3, level=logging.ERROR, exc_info=True)
    err = capsys.readouterr().err
    assert TOKEN not in err
    assert "event=request url=https://api.telegram.org/bot<token>/getMe" in err
    assert "GET https://api.telegram.org/bot<token>/getMe" in err
    assert "bad token <token>" in err
    assert len([line for line in err.splitlines() if line]) == 3  # one line per event


def test_text_format_quotes_values_with_spaces(capsys):
    setup_logging("INFO", "text")
    event(logging.getLogger("test"), "outbox_failed", job=7, reason="Bad Request: chat not found", paid=False)
    line = capsys.readouterr().err.strip()
    assert line.endswith('event=outbox_failed job=7 reason="Bad Request: chat not found" paid=0')


def test_json_format_keeps_fields_typed_and_whole(capsys):
    setup_logging("INFO", "json", secrets=[TOKEN])
    event(
        logging.getLogger("test"),
        "alert_created",
        alert=12,
        recipients=250,
        ratio=0.5,
        drill=True,
        need=None,
        reason="Bad Request: chat not found",
    )
    doc = json.loads(capsys.readouterr().err.strip())
    assert doc["event"] == "alert_created"
    assert doc["alert"] == 12 and doc["recipients"] == 250 and doc["ratio"] == 0.5
    assert doc["drill"] is True and doc["need"] is None
    assert doc["reason"] == "Bad Request: chat not found"
    assert doc["level"] == "info" and doc["logger"] == "test"


def test_json_format_keeps_library_messages_and_tracebacks(capsys):
    setup_logging("INFO", "json")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("library").exception("something %s", "failed")
    doc = json.loads(capsys.readouterr().err.strip())
    assert doc["msg"] == "something failed" and "event" not in doc
    assert "ValueError: boom" in doc["exc"]


def test_events_below_the_level_are_not_written(capsys):
    setup_logging("WARNING", "text")
    event(logging.getLogger("test"), "answer", alert=1)
    assert capsys.readouterr().err == ""
