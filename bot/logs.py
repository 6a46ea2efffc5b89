"""Logging set-up: readable or JSON lines, quiet HTTP libraries, and secrets never written.

Every line logged while an update is handled carries its update id (`update_context`), so one
request can be followed through the log without logging what people wrote.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

_current_update: ContextVar[int | None] = ContextVar("akhbar_update_id", default=None)


@contextmanager
def update_context(update_id: int | None) -> Iterator[None]:
    """Tag every log line of the current task (and the tasks it starts) with the update id."""
    token = _current_update.set(update_id)
    try:
        yield
    finally:
        _current_update.reset(token)


class RedactSecrets(logging.Filter):
    """Replace every occurrence of the given secrets in a record's final message."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        for secret in self._secrets:
            message = message.replace(secret, "<token>")
        record.msg, record.args = message, None
        record.update_id = _current_update.get()
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger: message`, or `time update=N LEVEL logger: message` in a handler."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        update_id = getattr(record, "update_id", None)
        if update_id is None:
            return line
        stamp = record.asctime
        return f"{stamp} update={update_id}{line[len(stamp) :]}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, update_id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        update_id = getattr(record, "update_id", None)
        if update_id is not None:
            entry["update_id"] = update_id
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    *secrets: str,
    level: int | str = logging.INFO,
    stream: TextIO | None = None,
    format: Literal["text", "json"] = "text",
) -> None:
    """Log to `stream` (stderr by default), with secrets redacted even from tracebacks."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler.addFilter(RedactSecrets(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # At INFO, httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiohttp's access log would write webhook paths and headers; the ops server turns it off.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
