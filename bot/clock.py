"""The one clock type: services take a `Clock` so tests and the sandbox can set the time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (UTC)."""


def utc_now() -> datetime:
    return datetime.now(UTC)
