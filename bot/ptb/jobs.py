"""The digest scheduler: one loop over the schedules' next fire times, not a job per schedule.

Start-up does nothing per schedule: the loop reads the earliest next fire time, sleeps until
it, and the digest service claims the due schedules in batches. Services that move a next fire
time call `ScheduleChanges.changed()`, which wakes the loop; nothing else keeps it in step.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.due_loop import DueLoop
from bot.models import DueBatch
from bot.ptb.context import AkhbarApp

log = logging.getLogger(__name__)

# The clock may be moved (the sandbox): the loop looks at least this often anyway.
MAX_SLEEP_SECONDS = 60.0


class DigestScheduler:
    """The digest loop, and how many digests it queued; it runs while this process leads
    (bot.ptb.leadership), but any process may `run_pending` (the claims are exclusive)."""

    name = "digest scheduler"

    def __init__(self, app: AkhbarApp) -> None:
        self._app = app
        services = app.bot_data.services
        self.queued = 0
        self.loop = DueLoop(
            "digests",
            clock=services.clock,
            next_due=services.digests.next_due,
            run_due=self._run_due,
            max_sleep_seconds=MAX_SLEEP_SECONDS,
        )

    async def _run_due(self, now: datetime) -> DueBatch:
        claimed, queued, more = await self._app.bot_data.services.digests.run_due(now)
        if queued:
            self.queued += queued
            # Each batch goes out while the next is composed: the first digest leaves early.
            delivery = self._app.bot_data.delivery
            if delivery is not None:
                delivery.wake()
            log.info("digests: %s of %s due schedules queued", queued, claimed)
        return DueBatch(claimed, more)

    async def run_pending(self) -> int:
        """Run every schedule due now; return how many digests were queued."""
        before = self.queued
        await self.loop.run_pending()
        return self.queued - before

    def wake(self) -> None:
        self.loop.wake()

    async def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()


async def run_due_digests(app: AkhbarApp) -> int:
    """Run every schedule due at the services' clock now (the sandbox's "advance the clock",
    tests); return how many digests were queued. Delivery is woken."""
    scheduler = app.bot_data.scheduler
    if scheduler is None:  # the loop is not running (not started, or stopped)
        scheduler = DigestScheduler(app)
    return await scheduler.run_pending()
