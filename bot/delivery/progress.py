"""Recording a worker's progress: Telegram's answers batched into one commit per interval.

The flush interval bounds the crash window described in `bot.outbox_worker`: an answer not yet
flushed when the process dies is lost, and its part is sent again after the restart.
"""

from __future__ import annotations

import asyncio
import logging

from storage import outbox as rows_db
from storage.connection import Connection
from storage.outbox import RowProgress

# The engine's logger name from before the split, so log filters and tests keep matching.
log = logging.getLogger("bot.delivery.outbox")


class ProgressRecorder:
    """Holds the latest progress of each row until the next flush writes it.

    `lock` guards `db` and is shared with the worker's claims and lease renewals.
    """

    def __init__(
        self,
        db: Connection,
        lock: asyncio.Lock,
        *,
        worker_id: str,
        flush_interval_seconds: float,
    ) -> None:
        self._db = db
        self._lock = lock
        self._worker_id = worker_id
        self._flush_interval_seconds = flush_interval_seconds
        self._pending: dict[int, RowProgress] = {}
        self._writing: dict[int, RowProgress] = {}
        self._dirty = asyncio.Event()

    def record(self, progress: RowProgress) -> None:
        """Keep `progress` for the next flush, replacing what was kept for its row."""
        self._pending[progress.id] = progress
        self._dirty.set()

    def unrecorded_chats(self) -> set[int]:
        """Chats with progress not yet committed (kept or being written)."""
        unrecorded = [*self._pending.values(), *self._writing.values()]
        return {progress.chat_id for progress in unrecorded}

    async def run(self) -> None:
        """Flush one interval after progress arrives, until cancelled."""
        while True:
            await self._dirty.wait()
            # Gather the answers of one interval into one commit instead of one per message.
            await asyncio.sleep(self._flush_interval_seconds)
            await self.flush()

    async def flush(self) -> None:
        """Write what is kept now, taking the lock."""
        async with self._lock:
            await self.write_pending()

    async def write_pending(self) -> None:
        """Write and commit what is kept; the caller holds the lock. On failure, keep it."""
        self._writing, self._pending = self._pending, {}
        self._dirty.clear()
        if not self._writing:
            return
        try:
            await rows_db.record(self._db, list(self._writing.values()), worker=self._worker_id)
            await self._db.commit()
        except Exception:
            log.exception("could not record outbox progress; will retry")
            await self._db.rollback()
            self._pending = self._writing | self._pending
            self._dirty.set()
        finally:
            self._writing = {}
