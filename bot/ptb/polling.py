"""Source polling in a running bot: one DueLoop over the database's due sources."""

from __future__ import annotations

import logging

from bot.due_loop import DueLoop
from bot.ingestion.polling import SourcePoller
from bot.ingestion.service import SourceReport
from bot.ptb.context import AkhbarApp

log = logging.getLogger(__name__)


def start_source_polling(app: AkhbarApp) -> DueLoop:
    """Start polling due sources; new articles go to instant subscribers, then delivery wakes."""
    services = app.bot_data.services

    async def after_batch(reports: list[SourceReport]) -> None:
        new = sum(report.new for report in reports)
        failed = sum(report.failed for report in reports)
        log.info("polled %s sources: %s new articles, %s failed", len(reports), new, failed)
        if new:
            await services.instant.push_new_articles()
        # Health notices to operators may be queued too, with or without new articles.
        if app.bot_data.delivery is not None:
            app.bot_data.delivery.wake()

    poller = SourcePoller(
        services.ingestion, settings=services.config.ingestion, after_batch=after_batch
    )
    loop = DueLoop(
        "sources",
        clock=services.clock,
        next_due=poller.next_due,
        run_due=poller.run_due,
        batch_size=poller.batch_size,
    )
    loop.start()
    return loop
