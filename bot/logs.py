"""Logging: one line per event, ``key=value`` text or JSON, the bot token never shown.

Callers log ``log.info("event=alert_sent alert=%d recipients=%d", ...)``; the JSON format
turns such ``key=value`` pairs into fields. Names and phone numbers are never logged at INFO."""

from __future__ import annotations

import json
import logging
import re
import sys
import time

_PAIR = re.compile(r'(\w+)=("[^"]*"|\S+)')


class RedactingFilter(logging.Filter):
    """Replaces every occurrence of a secret (the bot token) in a record's message."""

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
            if record.exc_info and not record.exc_text:
                # Exception texts can carry the token too (PTB puts it in some messages).
                record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = (
            f"{ts}.{int(record.msecs):03d}Z level={record.levelname.lower()} logger={record.name} {record.getMessage()}"
        )
        if record.exc_info:
            line += " exc=" + json.dumps(record.exc_text or self.formatException(record.exc_info))
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        doc: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        pairs = _PAIR.findall(message)
        if pairs and "=" in message.split(" ", 1)[0]:
            for key, value in pairs:
                doc[key] = value.strip('"')
        else:
            doc["msg"] = message
        if record.exc_info:
            doc["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False)


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
