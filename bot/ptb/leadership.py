"""Which process runs the work that must run once when several share one PostgreSQL database.

The leader, one process at a time, runs the duties added here: long polling (getUpdates
cannot be shared: Telegram answers a second poller with 409 Conflict), the digest scheduler
loop, source polling and the auto-post "more news" flush. Every process, leader or not,
delivers the outbox and, in webhook mode, handles the updates the load balancer gives it.

Leader-only, not "every process claims": what follows a source poll (instant pushes,
auto-posting) moves a watermark that two processes would both read, and one runner keeps the
per-host fetch limits true. The schedule claim is exclusive all the same (a conditional update
only one process wins), so the short overlap when a leader is cut off but has not noticed yet
(it checks every `retry_seconds`) cannot send a digest slot twice; at worst a source is
fetched twice then.

On PostgreSQL the leader holds a session advisory lock on a connection of its own
(`storage.leader_lock`). Followers try to take it every `retry_seconds`; a dead leader's
connection closes with it, so another process takes over within about that time. The leader
checks its lock as often and steps down (stops its duties) when its connection is lost. On
SQLite there is one process and it always leads.

`wake(name)` says a duty's due work changed (a schedule was set, a source added): the leader
wakes its duty; a follower tells the leader with a PostgreSQL notification, so a schedule set
through another process is not left waiting for the leader's next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from storage.leader_lock import LeaderLock

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


class Duty(Protocol):
    """Work only the leader does: started when it leads, stopped when it steps down."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Leadership:
    """This process's part in the election, and the duties it runs while it leads."""

    def __init__(self, url: str | None, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self._lock = None if url is None else LeaderLock(url, on_notice=self._wake_here)
        self._retry = retry_seconds
        self._duties: list[Duty] = []
        self._running: list[Duty] = []
        self._task: asyncio.Task[None] | None = None
        self._notices: set[asyncio.Task[None]] = set()
        self._changing = asyncio.Lock()
        self.is_leader = False

    def starting(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Set up (migrate, seed, load samples) one process at a time."""
        return self._lock.starting() if self._lock else contextlib.nullcontext()

    def wake(self, name: str) -> None:
        """The due work of duty `name` changed: wake it here, or tell the leader."""
        if self.is_leader or self._lock is None:
            self._wake_here(name)
            return
        task = asyncio.create_task(self._lock.notify(name), name="leadership:notify")
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def _wake_here(self, name: str) -> None:
        for duty in self._running:
            wake = getattr(duty, "wake", None)
            if duty.name == name and wake is not None:
                wake()

    async def start(self) -> None:
        """Try once now (a lone process leads from its first moment), then keep trying."""
        if self._lock is None:
            await self._lead()
            return
        if await self._lock.try_acquire():
            await self._lead()
        self._task = asyncio.create_task(self._watch(), name="leadership")

    async def add(self, duty: Duty) -> None:
        """Run `duty` whenever this process leads (from now on, if it leads already)."""
        async with self._changing:
            self._duties.append(duty)
            if self.is_leader:
                await duty.start()
                self._running.append(duty)

    async def stop(self) -> None:
        """Stop the duties and let the lock go (a follower takes over); safe to call twice."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._step_down()
        if self._lock is not None:
            await self._lock.release()

    async def _watch(self) -> None:
        assert self._lock is not None
        while True:
            await asyncio.sleep(self._retry)
            if self.is_leader:
                if not await self._lock.is_held():
                    log.error("leadership lost (database connection gone): stepping down")
                    await self._step_down()
            elif await self._lock.try_acquire():
                try:
                    await self._lead()
                except Exception:
                    log.exception("taking over failed: stepping down, trying again later")
                    await self._step_down()
                    await self._lock.release()

    async def _lead(self) -> None:
        async with self._changing:
            self.is_leader = True
            if self._lock is not None:
                log.info("this process is the leader now")
            for duty in self._duties:
                await duty.start()
                self._running.append(duty)

    async def _step_down(self) -> None:
        async with self._changing:
            self.is_leader = False
            while self._running:
                duty = self._running.pop()
                try:
                    await duty.stop()
                except Exception:
                    log.exception("stopping %s failed", duty.name)
