"""Logging set-up: readable or JSON lines, quiet HTTP libraries, and secrets never written.

Every line logged while an update is handled carries its update id (`update_context`), so one
request can be followed through the log without logging what people wrote.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO
from urllib.parse import quote

REDACTED = "<token>"

_current_update: ContextVar[int | None] = ContextVar("akhbar_update_id", default=None)


@contextmanager
def update_context(update_id: int | None) -> Iterator[None]:
    """Tag every log line of the current task (and the tasks it starts) with the update id."""
    token = _current_update.set(update_id)
    try:
        yield
    finally:
        _current_update.reset(token)


class Redactor:
    """Replaces every occurrence of the secrets, in any letter case, by a placeholder.

    Any case, because libraries reformat what they quote: python-telegram-bot capitalises
    error descriptions, which lowercases a token inside them.
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        alternatives = "|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True) if s)
        self._pattern = re.compile(alternatives, re.IGNORECASE) if alternatives else None

    def __call__(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern else text


def token_forms(token: str) -> tuple[str, ...]:
    """The ways a token can be written out: as is, and percent-encoded as in a URL."""
    return (token, quote(token, safe="")) if token else ()


class RedactSecrets(logging.Filter):
    """Replace every occurrence of the given secrets in a record's final message."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._redact = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{logging.Formatter().formatException(record.exc_info)}"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = self._redact(message), None
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


class RedactingStream(io.TextIOBase):
    """A text stream that writes whole lines to `stream` with the secrets redacted.

    Lines are held until complete so a secret written in two pieces is still caught; what is
    left is written on flush (at exit at the latest).
    """

    def __init__(self, stream: TextIO, secrets: Sequence[str]) -> None:
        super().__init__()
        self._stream = stream
        self._redact = Redactor(secrets)
        self._pending = ""

    def write(self, text: str) -> int:
        lines, newline, self._pending = (self._pending + text).rpartition("\n")
        if newline:
            self._stream.write(self._redact(lines + newline))
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(self._redact(self._pending))
            self._pending = ""
        self._stream.flush()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding


def redact_standard_streams(*secrets: str) -> None:
    """Redact the secrets from everything Python writes to stdout and stderr: prints, warnings,
    uncaught exceptions' tracebacks, logs. (Writes made below Python, to the file descriptors
    themselves, are not covered; nothing in Akhbar makes them.)"""
    if not any(secrets):
        return
    sys.stdout = RedactingStream(sys.stdout, secrets)
    sys.stderr = RedactingStream(sys.stderr, secrets)


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
