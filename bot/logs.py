"""Logging set-up: readable lines, quiet HTTP libraries, and the token never written."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Sequence
from typing import TextIO
from urllib.parse import quote

REDACTED = "<token>"


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
        return True


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
    *secrets: str, level: int = logging.INFO, stream: TextIO | None = None
) -> None:
    """Log to `stream` (stderr by default), with secrets redacted even from tracebacks."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(*secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # At INFO, httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
