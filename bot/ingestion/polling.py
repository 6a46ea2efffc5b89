"""The source polls a DueLoop runs: claim due sources as fetch slots free up, fetch them with
bounded concurrency, and report what they brought."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.config import IngestionConfig
from bot.ingestion.service import IngestionService, SourceReport
from bot.models import DueBatch, Source
from storage import sources
from storage.database import transaction

log = logging.getLogger(__name__)

AfterPolls = Callable[[list[SourceReport]], Awaitable[None]]


async def _nothing(reports: list[SourceReport]) -> None:
    return None


class SourcePoller:
    """`run_due` for the sources' DueLoop.

    It claims only as many due sources as there are free fetch slots and returns without
    waiting for them, so one slow or silent site holds one slot, not a whole batch. At most
    `concurrency` fetches run at once, and at most `per_host_concurrency` to one host, so a
    site with many feeds is not hammered when they fall due together: a host at its limit is
    left out of the next claims until one of its fetches ends. Finished polls are
    handed to `after_polls` in groups, one group at a time.
    """

    def __init__(
        self,
        ingestion: IngestionService,
        *,
        settings: IngestionConfig,
        after_polls: AfterPolls = _nothing,
    ) -> None:
        self._ingestion = ingestion
        self._db = ingestion.db
        self._after_polls = after_polls
        self._slots = settings.concurrency
        self._per_host = settings.per_host_concurrency
        self._host_load: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot_freed = asyncio.Event()
        self._finished: list[SourceReport] = []
        self._report_ready = asyncio.Event()
        self._reporter: asyncio.Task[None] | None = None
        # Claimed sources move this far ahead: a crash mid-fetch delays them, never loses them.
        self._lease = timedelta(seconds=max(settings.timeout_seconds * 3, 60))

    @property
    def is_idle(self) -> bool:
        """No fetch under way and every finished poll reported."""
        return not self._tasks and (self._reporter is None or self._reporter.done())

    async def next_due(self) -> datetime | None:
        return await sources.next_due(self._db)

    async def run_due(self, now: datetime) -> DueBatch:
        """Claim due sources into the free slots (waiting for one when all are busy)."""
        due_at = await sources.next_due(self._db)
        if due_at is None or due_at > now:
            return DueBatch(0, more=False)
        while len(self._tasks) >= self._slots:
            self._slot_freed.clear()
            await self._slot_freed.wait()
        limit = self._slots - len(self._tasks)
        async with transaction(self._db):
            # Hosts fetched as often as allowed are skipped: their sources wait in the database,
            # not in a slot, so a dead site with many feeds slows only itself.
            busy = [host for host, load in self._host_load.items() if load >= self._per_host]
            due = await sources.claim_due(
                self._db, now=now, until=now + self._lease, limit=limit, busy_hosts=busy
            )
            # One claim may bring more of one host than it may take: those stay due.
            starting = self._fitting(due)
            waiting = [s.name for s in due if s not in starting]
            await sources.release(self._db, waiting, due=now)
        # Started once the claim is committed, so no fetch runs inside the claim's transaction
        # (on PostgreSQL a task started there would inherit its connection).
        for source in starting:
            self._start(source)
        if not due and self._tasks:
            # Everything due belongs to hosts at their limit: wait for a fetch to end rather
            # than ask the database again straight away.
            self._slot_freed.clear()
            await self._slot_freed.wait()
        # A full claim means more may be due; fewer means nothing else is.
        return DueBatch(len(due), more=len(due) == limit)

    def _fitting(self, due: list[Source]) -> list[Source]:
        """Those of `due` that their hosts' limits let start now."""
        load = self._host_load.copy()
        fitting = []
        for source in due:
            host = sources.host_of(source.url)
            if load[host] < self._per_host:
                load[host] += 1
                fitting.append(source)
        return fitting

    def _start(self, source: Source) -> None:
        host = sources.host_of(source.url)
        self._host_load[host] += 1
        task = asyncio.create_task(self._poll(source, host), name=f"poll:{source.name}")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slot_freed.set()

    async def _poll(self, source: Source, host: str) -> None:
        try:
            report = await self._ingestion.poll(source)
        finally:
            self._host_load[host] -= 1
            if not self._host_load[host]:
                del self._host_load[host]
        self._finished.append(report)
        self._report_ready.set()
        if self._reporter is None or self._reporter.done():
            self._reporter = asyncio.create_task(self._report(), name="poll-reports")

    async def _report(self) -> None:
        # One group at a time: instant pushes and wake-ups never run concurrently.
        while self._report_ready.is_set():
            self._report_ready.clear()
            reports, self._finished = self._finished, []
            try:
                await self._after_polls(reports)
            except Exception:
                log.exception("handling %s finished polls failed", len(reports))

    async def stop(self) -> None:
        """Cancel the fetches under way (their sources stay claimed until the lease ends)."""
        tasks = [*self._tasks, *([self._reporter] if self._reporter else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
