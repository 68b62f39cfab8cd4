"""Logging: one line per event, ``key=value`` text or JSON, the bot token never shown.

Code logs an event with its fields as fields, not as text to be parsed back::

    event(log, "alert_created", alert=12, recipients=250, reason="Bad Request: chat not found")

The text format prints ``event=alert_created alert=12 recipients=250 reason="Bad Request: chat
not found"``; the JSON format (python-json-logger) writes one object per event with the fields
typed as given (ids and counts as numbers, reasons whole). Records from libraries keep their
message (``msg``). Names and phone numbers are never logged at INFO."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

EVENT = "sauciens_event"
FIELDS = "sauciens_fields"


def event(
    logger: logging.Logger,
    name: str,
    /,
    *,
    level: int = logging.INFO,
    exc_info: bool | BaseException | None = None,
    **fields: object,
) -> None:
    """Log the event ``name`` with ``fields`` (numbers, strings, booleans, None)."""
    if logger.isEnabledFor(level):
        logger.log(level, name, extra={EVENT: name, FIELDS: fields}, exc_info=exc_info, stacklevel=2)


def _fields(record: logging.LogRecord) -> dict[str, object] | None:
    fields = getattr(record, FIELDS, None)
    return fields if isinstance(fields, dict) else None


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


def _text_value(value: object) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or any(c.isspace() or c in '"=' for c in text)) else text


class RedactingFilter(logging.Filter):
    """Replaces every occurrence of a secret (the bot token) in a record's message and fields."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<token>")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            redacted = self.redact(message)
            if redacted != message:
                record.msg, record.args = redacted, None
            fields = _fields(record)
            if fields is not None:
                for key, value in fields.items():
                    if isinstance(value, str):
                        fields[key] = self.redact(value)
            if record.exc_info and not record.exc_text:
                # Exception texts can carry the token too (PTB puts it in some messages).
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} level={record.levelname.lower()} logger={record.name} "
        fields = _fields(record)
        if fields is None:
            line += record.getMessage()
        else:
            line += " ".join([f"event={getattr(record, EVENT)}", *(f"{k}={_text_value(v)}" for k, v in fields.items())])
        if record.exc_info:
            line += " exc=" + json.dumps(record.exc_text or self.formatException(record.exc_info))
        return line


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per record: ts, level, logger, then the event and its fields (or msg)."""

    def __init__(self) -> None:
        super().__init__(json_ensure_ascii=False)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data["ts"] = _timestamp(record)
        log_data["level"] = record.levelname.lower()
        log_data["logger"] = record.name
        fields = _fields(record)
        if fields is None:
            log_data["msg"] = record.getMessage()
        else:
            log_data["event"] = getattr(record, EVENT)
            for key, value in fields.items():
                log_data.setdefault(key, value)
        if record.exc_info:
            log_data["exc"] = record.exc_text or self.formatException(record.exc_info)


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter(secrets or []))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL, which contains the token: keep it quiet, and redacted.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("telegram").setLevel(max(logging.INFO, root.level))
