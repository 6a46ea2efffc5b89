"""Source polling in a running bot: one DueLoop over the database's due sources."""

from __future__ import annotations

import logging

from bot.due_loop import DueLoop
from bot.ingestion.polling import SourcePoller
from bot.ingestion.service import SourceReport
from bot.ptb.context import AkhbarApp

log = logging.getLogger(__name__)


class SourcePolls:
    """The polls: the loop that finds due sources and the poller that fetches them. They run
    while this process leads (bot.ptb.leadership): one process fetches each source."""

    name = "source polling"

    def __init__(self, loop: DueLoop, poller: SourcePoller) -> None:
        self.loop = loop
        self.poller = poller

    def wake(self) -> None:
        self.loop.wake()

    @property
    def is_idle(self) -> bool:
        return self.poller.is_idle

    async def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()
        await self.poller.stop()


def source_polling(app: AkhbarApp) -> SourcePolls:
    """Polls of due sources, not started; new articles go to instant subscribers and
    auto-posting chats, then delivery wakes."""
    services = app.bot_data.services

    async def after_polls(reports: list[SourceReport]) -> None:
        new = sum(report.new for report in reports)
        failed = sum(report.failed for report in reports)
        log.debug("polled %s sources: %s new articles, %s failed", len(reports), new, failed)
        if new:
            await services.instant.push_new_articles()
            await services.autopost.post_new_articles()
        # Health notices to operators may be queued too, with or without new articles.
        if app.bot_data.delivery is not None:
            app.bot_data.delivery.wake()

    poller = SourcePoller(
        services.ingestion, settings=services.config.ingestion, after_polls=after_polls
    )
    loop = DueLoop(
        "sources",
        clock=services.clock,
        next_due=poller.next_due,
        run_due=poller.run_due,
    )
    return SourcePolls(loop, poller)
