"""The one fake clock: the bot's `Clock` (aware datetimes) and, through `timestamp`, the
emulator's (Unix seconds), moved only when a test says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def timestamp(self) -> float:
        """The time as Unix seconds, for the Bot API emulator's clock."""
        return self.now.timestamp()

    def advance(self, **delta: float) -> None:
        """Move on by `timedelta(**delta)`, e.g. `advance(hours=49)`."""
        self.now += timedelta(**delta)

    def set(self, moment: datetime) -> None:
        self.now = moment
