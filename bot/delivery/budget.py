"""The overall send rate shared by every process on one database (`storage.send_budget`).

Each process draws a few evenly spaced slots at a time (about 50 ms worth, at most the jobs it
has ready), so the sends of all processes together keep one schedule: the rate is never
exceeded, whichever process sends. A 429 seen by one process pauses the schedule for all; the
others notice at their next draw, within one batch.

The worker and the replies of handlers (`bot.ptb.rate_limits`) draw from one `SharedBudget` per
process: `reserve` hands each caller a slot of its own, so a reply never takes the slot the
worker sleeps towards.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from bot.delivery.pacing import JITTER_ALLOWANCE
from storage import send_budget
from storage.connection import Connection

log = logging.getLogger("bot.delivery.outbox")

BATCH_SECONDS = 0.05
# A slot may start this late at most: a process that fell behind its slots must not spend them
# all at once (that would be a burst). 4 ms adds at most 0.4% to any one second, well inside the
# 2% jitter allowance; at 10 ms three loaded processes drew a few 429s at 1,000/s.
LATE_TOLERANCE_SECONDS = 0.004
_RETRY_SECONDS = 1.0
# Above any rate Telegram allows ([delivery] accepts up to 1,000/s): benchmarks of the engine's
# own speed. Nothing is drawn: at such rates the limit never binds.
UNLIMITED_ABOVE = 10_000.0


class SharedBudget:
    """This process's slots from the shared schedule, on monotonic time.

    `lock` guards `db` and is shared with the worker's claims and progress.
    """

    def __init__(
        self, db: Connection, lock: asyncio.Lock, *, rate: float, name: str = send_budget.OVERALL
    ) -> None:
        self._db = db
        self._lock = lock
        self._name = name
        self._paused_until = 0.0  # loop time: the end of the last 429 this process saw
        self._spacing = (1.0 + JITTER_ALLOWANCE) / rate
        self._batch = max(1, int(rate * BATCH_SECONDS))
        self._slots: deque[float] = deque()
        self._refill: asyncio.Task[None] | None = None
        self._is_unlimited = rate > UNLIMITED_ABOVE

    async def next_slot(self, *, wanted: Callable[[], int]) -> float:
        """The start of the next slot this process holds, drawing up to `wanted()` more (the
        sends it has ready) when it holds none; `take()` it when a send starts."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._is_unlimited:
            return now
        while self._slots and (
            self._slots[0] < now - LATE_TOLERANCE_SECONDS or self._is_paused(self._slots[0])
        ):
            self._slots.popleft()
        while not self._slots:
            await self._refilled(wanted)
        if (
            self._pending_refill is None
            and self._slots[-1] - now < BATCH_SECONDS / 2
            and wanted() > len(self._slots)
        ):
            # Draw the next batch while this one is spent, so sending never waits for it.
            self._refill = asyncio.create_task(self._draw(self._size(wanted)))
        return self._slots[0]

    async def reserve(self, *, wanted: Callable[[], int] = lambda: 1) -> float:
        """Take this process's next slot (drawing as `next_slot` does) and return its start;
        the caller waits for it. Nobody else in the process gets that slot."""
        slot = await self.next_slot(wanted=wanted)
        # No await since next_slot saw the slot: it is still the first one held.
        self.take()
        return slot

    async def acquire(self, *, wanted: Callable[[], int] = lambda: 1) -> None:
        """Wait for a slot of this process's own; a 429 seen meanwhile, or a wake-up too late
        for it, means a later one."""
        loop = asyncio.get_running_loop()
        while True:
            slot = await self.reserve(wanted=wanted)
            if slot > loop.time():
                await asyncio.sleep(slot - loop.time())
            if not self.is_spent(slot):
                return

    def is_spent(self, slot: float) -> bool:
        """Whether a send may no longer start in `slot`: a 429 paused the schedule since it was
        drawn, or it is past by more than the tolerance (the event loop was busy). Sends woken
        late together would otherwise start together, a burst over the rate."""
        late = asyncio.get_running_loop().time() - slot > LATE_TOLERANCE_SECONDS
        return late or self._is_paused(slot)

    def _is_paused(self, slot: float) -> bool:
        # A slot drawn before a 429 paused the schedule (a draw under way then ends after the
        # pause began). Slots drawn since start at the pause's end on the database's clock,
        # a few ms off this one: a batch of margin tells them apart (pauses last >= 1 s).
        return slot < self._paused_until - BATCH_SECONDS

    @property
    def _pending_refill(self) -> asyncio.Task[None] | None:
        # Asked of the task itself, never tracked by a done-callback: a send that runs in the
        # loop turn its refill finished, before such a callback, would await the finished task
        # again and again without yielding (its slots already stale), and hang the process.
        refill = self._refill
        return refill if refill is not None and not refill.done() else None

    async def _refilled(self, wanted: Callable[[], int]) -> None:
        if (refill := self._pending_refill) is not None:
            await asyncio.shield(refill)
        else:
            await self._draw(self._size(wanted))

    def _size(self, wanted: Callable[[], int]) -> int:
        # The sends ready beyond the slots held (a slot left unused is lost to every process).
        return min(max(wanted() - len(self._slots), 1), self._batch)

    async def close(self) -> None:
        """Stop a draw under way (the worker stops)."""
        if self._refill is not None:
            self._refill.cancel()
            await asyncio.gather(self._refill, return_exceptions=True)

    def take(self) -> None:
        """A send starts in the slot `next_slot` gave."""
        if not self._is_unlimited:
            self._slots.popleft()

    async def pause(self, seconds: float) -> None:
        """Telegram answered 429: no process starts a send for `seconds`."""
        self._slots.clear()
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)
        try:
            async with self._lock:
                await send_budget.pause(self._db, seconds=seconds, name=self._name)
                await self._db.commit()
        except Exception:
            log.exception("could not share a 429 pause with the other processes")

    async def _draw(self, slots: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self._lock:
                grant = await send_budget.draw(
                    self._db, slots=slots, spacing=self._spacing, name=self._name
                )
                await self._db.commit()
        except Exception:
            # Without the shared schedule this process cannot know the others' sends: wait.
            log.exception("could not draw send slots; retrying in %s s", _RETRY_SECONDS)
            await asyncio.sleep(_RETRY_SECONDS)
            return
        first = loop.time() + grant.first_in
        self._slots.extend(first + n * grant.spacing for n in range(grant.slots))


class BudgetSource(Protocol):
    """Where a process's replies take their slots: the worker's schedules, or those of a
    connection of their own when the worker runs in another process."""

    @property
    def budget(self) -> SharedBudget: ...

    async def budget_named(self, name: str, *, rate: float) -> SharedBudget: ...


async def named_budget(
    db: Connection, lock: asyncio.Lock, name: str, *, rate: float
) -> SharedBudget:
    """Another shared schedule on `db`, created if new (`storage.send_budget`); `close()` it
    before the connection closes."""
    async with lock:
        await send_budget.ensure(db, name=name)
        await db.commit()
    return SharedBudget(db, lock, rate=rate, name=name)


class ReplyBudgets:
    """The bot's shared schedules on a connection of their own: the replies of a process whose
    outbox worker runs in another process (`bot.ptb.sender_process`)."""

    def __init__(self, db: Connection, *, rate: float) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self.budget = SharedBudget(db, self._lock, rate=rate)

    async def budget_named(self, name: str, *, rate: float) -> SharedBudget:
        """Another shared schedule on this connection (see `named_budget`)."""
        return await named_budget(self._db, self._lock, name, rate=rate)

    async def close(self) -> None:
        """Stop a draw under way, then close the connection."""
        await self.budget.close()
        await self._db.close()
