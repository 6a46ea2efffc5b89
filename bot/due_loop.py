"""One loop per kind of due work (digest slots, source polls): rows keep their next due time.

The loop sleeps until the earliest due time (or until woken because a row changed), hands the
due rows to `run_due` in batches, and repeats. Work is data, not one timer per row: start-up
costs nothing per row, and any process (the CLI, the sandbox, a second bot) that changes a row
just updates its due time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.clock import Clock
from bot.models import DueBatch

log = logging.getLogger(__name__)

NextDue = Callable[[], Awaitable[datetime | None]]
"""The earliest due time of any row, or None when nothing is pending."""
RunDue = Callable[[datetime], Awaitable[DueBatch]]
"""Claim and run one batch of rows due at `now`."""


class DueLoop:
    """Runs `run_due` whenever rows fall due; `wake()` after changing a row's due time."""

    def __init__(
        self,
        name: str,
        *,
        clock: Clock,
        next_due: NextDue,
        run_due: RunDue,
        max_sleep_seconds: float = 60.0,
        error_pause_seconds: float = 5.0,
    ) -> None:
        self.name = name
        self._clock = clock
        self._next_due = next_due
        self._run_due = run_due
        # The clock may be moved (tests, the sandbox): never sleep so long that a move is missed.
        self._max_sleep = max_sleep_seconds
        self._error_pause = error_pause_seconds
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_run_at: datetime | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"due-loop:{self.name}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """A row's due time changed: look again now."""
        self._woken.set()

    async def run_pending(self) -> int:
        """Run every batch due now; return how many rows ran. Batches yield to the event loop.

        One pass runs at one moment: rows falling due during it wait for the next pass, and
        the batches of one slot see the same time (so they can share what they read)."""
        total = 0
        now = self._clock()
        while True:
            batch = await self._run_due(now)
            self.last_run_at = now
            total += batch.ran
            if not batch.more:
                return total
            await asyncio.sleep(0)  # let updates and the outbox worker in between batches

    async def _loop(self) -> None:
        while True:
            self._woken.clear()  # before the run: a wake during it means "look again"
            try:
                await self.run_pending()
                delay = await self._seconds_to_next()
            except Exception:
                log.exception("%s: run failed; trying again in %ss", self.name, self._error_pause)
                delay = self._error_pause
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), timeout=delay)

    async def _seconds_to_next(self) -> float:
        due = await self._next_due()
        if due is None:
            return self._max_sleep
        return min(max((due - self._clock()).total_seconds(), 0.0), self._max_sleep)
