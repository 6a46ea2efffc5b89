"""The source polls a DueLoop runs: claim the due sources, fetch them with bounded concurrency."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from bot.config import IngestionConfig
from bot.ingestion.service import IngestionService, SourceReport
from bot.models import Source
from storage import sources
from storage.database import transaction

AfterBatch = Callable[[list[SourceReport]], Awaitable[None]]


async def _nothing(reports: list[SourceReport]) -> None:
    return None


class SourcePoller:
    """`run_due` for the sources' DueLoop: one batch of due sources, fetched concurrently.

    At most `concurrency` fetches run at once, and at most `per_host_concurrency` to one host,
    so a site with many feeds is not hammered when they fall due together.
    """

    def __init__(
        self,
        ingestion: IngestionService,
        *,
        settings: IngestionConfig,
        after_batch: AfterBatch = _nothing,
    ) -> None:
        self._ingestion = ingestion
        self._db = ingestion.db
        self._settings = settings
        self._after_batch = after_batch
        self._all = asyncio.Semaphore(settings.concurrency)
        self._hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(settings.per_host_concurrency)
        )
        # A batch is several rounds of concurrent fetches; a larger one only waits longer.
        self.batch_size = settings.concurrency * 4
        # Claimed sources move this far ahead: a crash mid-fetch delays them, never loses them.
        self._lease = timedelta(seconds=max(settings.timeout_seconds * 3, 60))

    async def next_due(self) -> datetime | None:
        return await sources.next_due(self._db)

    async def run_due(self, now: datetime) -> int:
        async with transaction(self._db):
            due = await sources.claim_due(
                self._db, now=now, until=now + self._lease, limit=self.batch_size
            )
        if not due:
            return 0
        reports = await asyncio.gather(*(self._poll(source) for source in due))
        await self._after_batch(list(reports))
        return len(due)

    async def _poll(self, source: Source) -> SourceReport:
        host = (urlsplit(source.url).hostname or "").lower()
        # The host first: tasks waiting for a busy host must not hold the global slots.
        async with self._hosts[host], self._all:
            return await self._ingestion.poll(source)
