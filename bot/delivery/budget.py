"""The overall send rate shared by every process on one database (`storage.send_budget`).

Each process draws a few evenly spaced slots at a time (about 50 ms worth, at most the jobs it
has ready), so the sends of all processes together keep one schedule: the rate is never
exceeded, whichever process sends. A 429 seen by one process pauses the schedule for all; the
others notice at their next draw, within one batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable

from bot.delivery.pacing import JITTER_ALLOWANCE
from storage import send_budget
from storage.connection import Connection

log = logging.getLogger("bot.delivery.outbox")

BATCH_SECONDS = 0.05
# A slot may start this late at most: a process that fell behind its slots must not spend them
# all at once (that would be a burst). Within the 2% jitter allowance up to 1,000/s.
LATE_TOLERANCE_SECONDS = 0.01
_RETRY_SECONDS = 1.0


class SharedBudget:
    """This process's slots from the shared schedule, on monotonic time.

    `lock` guards `db` and is shared with the worker's claims and progress.
    """

    def __init__(self, db: Connection, lock: asyncio.Lock, *, rate: float) -> None:
        self._db = db
        self._lock = lock
        self._spacing = (1.0 + JITTER_ALLOWANCE) / rate
        self._batch = max(1, int(rate * BATCH_SECONDS))
        self._slots: deque[float] = deque()

    async def next_slot(self, *, wanted: Callable[[], int]) -> float:
        """The start of the next slot this process holds, drawing up to `wanted()` more (the
        sends it has ready) when it holds none; `take()` it when a send starts."""
        loop = asyncio.get_running_loop()
        while self._slots and self._slots[0] < loop.time() - LATE_TOLERANCE_SECONDS:
            self._slots.popleft()
        while not self._slots:
            await self._draw(min(max(wanted(), 1), self._batch))
        return self._slots[0]

    def take(self) -> None:
        """A send starts in the slot `next_slot` gave."""
        self._slots.popleft()

    async def pause(self, seconds: float) -> None:
        """Telegram answered 429: no process starts a send for `seconds`."""
        self._slots.clear()
        try:
            async with self._lock:
                await send_budget.pause(self._db, seconds=seconds)
                await self._db.commit()
        except Exception:
            log.exception("could not share a 429 pause with the other processes")

    async def _draw(self, slots: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self._lock:
                grant = await send_budget.draw(self._db, slots=slots, spacing=self._spacing)
                await self._db.commit()
        except Exception:
            # Without the shared schedule this process cannot know the others' sends: wait.
            log.exception("could not draw send slots; retrying in %s s", _RETRY_SECONDS)
            await asyncio.sleep(_RETRY_SECONDS)
            return
        first = loop.time() + grant.first_in
        self._slots.extend(first + n * grant.spacing for n in range(grant.slots))
