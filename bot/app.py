"""Builds the Telegram Application: defaults, handler areas in order, loops and resources."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from apscheduler.jobstores.base import JobLookupError
from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    ApplicationHandlerStop,
    ContextTypes,
    Defaults,
    Job,
    MessageHandler,
    filters,
)

from bot.clock import Clock, utc_now
from bot.config import Config
from bot.event_loop import settle_garbage_collector
from bot.i18n.catalogs import LANGUAGES
from bot.ops import Operations
from bot.ops.health import sources_check
from bot.ptb.context import AkhbarApp, AkhbarContext, BotData
from bot.ptb.delivery import DeliveryHandle, start_delivery
from bot.ptb.jobs import DigestScheduler
from bot.ptb.leadership import Leadership
from bot.ptb.polling import source_polling
from bot.ptb.rate_limits import SharedRateLimiter
from bot.ptb.sender_process import SenderProcess, start_sender_process
from bot.ptb.serving import (
    PRUNE_FIRST_SECONDS,
    PRUNE_INTERVAL_SECONDS,
    PRUNE_JOB,
    ObservedRequest,
    history_pruning,
    schedule_backups,
)
from bot.ptb.updates import ChatOrderedProcessor, update_type
from bot.services import Services, open_services
from handlers import (
    autopost,
    errors,
    fallbacks,
    inline,
    language,
    membership,
    news,
    reports,
    schedules,
    search,
    sources,
    start,
    stats,
    subscriptions,
)

log = logging.getLogger(__name__)

# Opt in to python-telegram-bot's timedelta RetryAfter.retry_after (the int form is deprecated).
os.environ.setdefault("PTB_TIMEDELTA", "1")

COMMANDS = (
    "start", "help", "latest", "read", "search", "language",
    "subscribe", "unsubscribe", "topics", "digest", "timezone", "settings", "filter",
    "schedule", "schedules", "unschedule", "preview", "report", "autopost",
)  # fmt: skip
OPERATOR_COMMANDS = (
    "reports", "unhide", "ignorereports", "reportthreshold",
    "sources", "addsource", "removesource", "pausesource", "resumesource", "stats",
)  # fmt: skip
AUTOPOST_FLUSH_SECONDS = 60
# Updates handled at once; one chat's updates still run one at a time, in order.
CONCURRENT_UPDATES = 32


def file_url_for(api_base_url: str) -> str:
    """The file endpoint that goes with a Bot API base URL (…/bot → …/file/bot)."""
    base = api_base_url.removesuffix("/bot")
    return f"{base}/file/bot"


def build_application(
    config: Config,
    *,
    clock: Clock = utc_now,
    poll_sources: bool = True,
    sender: Sequence[str] | None = None,
) -> AkhbarApp:
    """The bot, wired but not started; resources open in post_init and close in post_shutdown.

    `sender`: the command of a process that sends the outbox (`akhbar deliver`); without it the
    outbox worker runs in this process."""
    base_url = str(config.telegram.api_base_url)
    ops = Operations(config, commands=(*COMMANDS, *OPERATOR_COMMANDS))
    app = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(base_url)
        .base_file_url(file_url_for(base_url))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=config.bot.tz,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(ContextTypes(context=AkhbarContext, bot_data=BotData))
        .rate_limiter(
            SharedRateLimiter(overall_per_second=config.delivery.overall_per_second, max_retries=3)
        )
        .request(ObservedRequest(ops.telegram, connection_pool_size=256))
        .get_updates_request(ObservedRequest(ops.telegram, connection_pool_size=1))
        .concurrent_updates(ChatOrderedProcessor(CONCURRENT_UPDATES, ops.metrics))
        .post_init(lambda application: _open(application, config, clock, poll_sources, sender))
        .post_shutdown(_close)
        .build()
    )
    app.bot_data.ops = ops
    # Order matters: within a group the first matching handler wins, and the fallbacks
    # (unknown command, stale button) must only see what no area answered. Membership comes
    # before them too: a group's migration notice is a message the fallbacks would otherwise see.
    # An edited message is not a new request: editing "/schedule 08:00" must not add a schedule.
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, _ignore), group=-1)
    for area in (
        start,
        news,
        search,
        language,
        reports,
        subscriptions,
        schedules,
        sources,
        stats,
        autopost,
        inline,
        membership,
        fallbacks,
    ):
        area.register(app)
    app.add_error_handler(_count_error)
    errors.register(app)
    return app


async def _count_error(update: object, context: AkhbarContext) -> None:
    if isinstance(update, Update) and context.bot_data.ops is not None:
        context.bot_data.ops.metrics.observe_update_error(update_type(update))


async def _ignore(update: Update, context: AkhbarContext) -> None:
    raise ApplicationHandlerStop


async def _open(
    app: AkhbarApp,
    config: Config,
    clock: Clock,
    poll_sources: bool,
    sender: Sequence[str] | None,
) -> None:
    ops = app.bot_data.ops
    url = config.storage.location if config.storage.is_postgres else None
    leadership = app.bot_data.leadership = Leadership(url)
    # Processes started together set up one at a time: each sees the samples and seeds the one
    # before it wrote, instead of both finding the database empty.
    async with leadership.starting():
        services = await open_services(
            config, clock=clock, on_poll=ops.metrics.observe_source_poll if ops else None
        )
        app.bot_data.services = services
        if config.bot.load_sample_news:
            report = await services.ingestion.load_sample_if_empty()
            if report is not None:
                log.info("sample news loaded: %s new", report.new)
        await _register_commands(app)
        # Digests written by `akhbar digest send` (no bot at hand) link to this username.
        await services.digests.remember_bot_username(app.bot.username)
    delivery = app.bot_data.delivery = await _start_sending(app, config, sender)
    if ops is not None:
        ops.add_check("sources", sources_check(lambda: _stuck_source_names(services)))
        ops.watch(
            db=services.db,
            outbox=services.outbox,
            is_worker_running=lambda: delivery.is_running,
            clock=clock,
        )
    # Digest slots, source polls, auto-post flushes and history pruning run once, in the leading
    # process.
    await leadership.start()
    scheduler = app.bot_data.scheduler = DigestScheduler(app)
    # A schedule moved by any process wakes the loop, in this process or the leading one.
    services.schedule_changes.listen(lambda: leadership.wake(scheduler.name))
    await leadership.add(scheduler)
    # The "more news" digests of auto-posting chats, queued every minute.
    autopost = _LeaderJob(
        app, _flush_autopost, name="auto-post flush", job_name="autopost:more-news",
        interval=AUTOPOST_FLUSH_SECONDS, first=AUTOPOST_FLUSH_SECONDS, grace_seconds=60,
    )  # fmt: skip
    pruning = _LeaderJob(
        app, history_pruning(config), name="history pruning", job_name=PRUNE_JOB,
        interval=PRUNE_INTERVAL_SECONDS, first=PRUNE_FIRST_SECONDS, grace_seconds=3600,
    )  # fmt: skip
    await leadership.add(autopost)
    await leadership.add(pruning)
    schedule_backups(app, config)
    if poll_sources:
        polls = app.bot_data.source_polls = source_polling(app)
        await leadership.add(polls)
    settle_garbage_collector()


async def _start_sending(
    app: AkhbarApp, config: Config, sender: Sequence[str] | None
) -> DeliveryHandle | SenderProcess:
    ops = app.bot_data.ops
    if sender is not None:
        observer = ops.metrics.observe_answer if ops else None
        return await start_sender_process(app, sender, observer=observer)
    return await start_delivery(app, observer=ops.metrics.observe_send if ops else None)


async def _register_commands(app: AkhbarApp) -> None:
    catalogs = app.bot_data.services.catalogs
    for code in (None, *LANGUAGES):
        t = catalogs.texts(code)
        commands = [BotCommand(name, t(f"command-{name}")) for name in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=code)


class _LeaderJob:
    """A job the leading process runs every `interval` seconds (the first after `first`)."""

    def __init__(
        self,
        app: AkhbarApp,
        callback: Callable[[AkhbarContext], Awaitable[None]],
        *,
        name: str,
        job_name: str,
        interval: float,
        first: float,
        grace_seconds: int,
    ) -> None:
        self._app = app
        self._callback = callback
        self.name = name
        self._job_name = job_name
        self._interval, self._first, self._grace = interval, first, grace_seconds
        self._job: Job | None = None

    async def start(self) -> None:
        self._job = self._app.job_queue.run_repeating(
            self._callback,
            interval=self._interval,
            first=self._first,
            name=self._job_name,
            job_kwargs={"misfire_grace_time": self._grace, "coalesce": True, "max_instances": 1},
        )

    async def stop(self) -> None:
        job, self._job = self._job, None
        # At shutdown the job queue has already dropped its jobs: nothing is left to remove.
        with contextlib.suppress(JobLookupError):
            if job is not None:
                job.schedule_removal()


async def _flush_autopost(context: AkhbarContext) -> None:
    if await context.services.autopost.flush_due():
        context.wake_delivery()


async def _close(app: AkhbarApp) -> None:
    # The leader's duties stop first (scheduler, source polls); the lock goes with them.
    leadership = app.bot_data.leadership
    try:
        if leadership is not None:
            await leadership.stop()
    finally:
        app.bot_data.source_polls = app.bot_data.scheduler = None
        await _close_delivery(app)


async def _close_delivery(app: AkhbarApp) -> None:
    delivery, app.bot_data.delivery = app.bot_data.delivery, None
    try:
        if delivery is not None:
            await delivery.stop()
    finally:
        await _close_services(app)


async def _close_services(app: AkhbarApp) -> None:
    services, app.bot_data.services = app.bot_data.services, None
    if services is not None:
        await services.close()


@asynccontextmanager
async def polling(app: AkhbarApp, *, poll_timeout: int) -> AsyncIterator[AkhbarApp]:
    """Run the bot inside the caller's event loop, in run_polling's start and stop order."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, timeout=poll_timeout)
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
    finally:
        if app.post_shutdown:
            await app.post_shutdown(app)
        await app.shutdown()


async def _stuck_source_names(services: Services) -> list[str]:
    return [source.name for source in await services.ingestion.stuck_sources(services.clock())]
