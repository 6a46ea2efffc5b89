"""The sandbox's clock: real time plus an offset the operator panel moves forward."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

log = logging.getLogger(__name__)


class MovableClock:
    """A `bot.clock.Clock` that can jump ahead; the offset is kept in a file between runs,
    so slots already served stay served after a restart."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._offset = timedelta()
        if path is not None and path.exists():
            try:
                self._offset = timedelta(seconds=float(path.read_text().strip()))
            except ValueError:
                log.warning("ignoring unreadable clock offset in %s", path)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def timestamp(self) -> float:
        """Epoch seconds, for the emulator's message dates."""
        return self().timestamp()

    @property
    def offset(self) -> timedelta:
        return self._offset

    def advance_to(self, moment: datetime) -> None:
        """Move the time forward to `moment` (never backwards: served slots stay served)."""
        step = moment - self()
        if step <= timedelta():
            return
        self._offset += step
        if self._path is not None:
            self._path.write_text(f"{self._offset.total_seconds():.3f}\n")
