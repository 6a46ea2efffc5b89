"""The services a running bot uses, opened together and closed together."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import httpx

from bot.clock import Clock, utc_now
from bot.config import Config
from bot.delivery import Outbox, OutboxSettings
from bot.i18n import Catalogs, LanguageService
from bot.i18n.catalogs import TextStyle
from bot.ingestion import IngestionService, PollObserver
from bot.ingestion.addresses import AddressGuard
from bot.ingestion.alerts import OperatorAlerts
from bot.ingestion.catalog import SourceCatalog
from bot.moderation import ImageHiding, ModerationService, ModerationSettings
from bot.reading import NewsService, Topics, search_index, search_text
from bot.reading.shares import ShareService
from bot.statistics.stats import StatsService
from bot.subscriptions import (
    DigestService,
    InstantService,
    ScheduleService,
    SubscriptionService,
)
from bot.subscriptions.autopost import AutopostService
from bot.subscriptions.schedules import ScheduleChanges
from storage import database
from storage.connection import Connection


@dataclass(frozen=True, slots=True)
class Services:
    config: Config
    db: Connection
    http: httpx.AsyncClient
    catalogs: Catalogs
    news: NewsService
    topics: Topics
    ingestion: IngestionService
    sources: SourceCatalog
    languages: LanguageService
    clock: Clock
    outbox: Outbox
    subscriptions: SubscriptionService
    schedules: ScheduleService
    digests: DigestService
    instant: InstantService
    # Schedule services call it after moving a next fire time; the scheduler loop listens.
    schedule_changes: ScheduleChanges
    # Moderation runs `BEGIN IMMEDIATE` transactions: it gets a connection of its own.
    moderation_db: Connection
    moderation: ModerationService
    image_hiding: ImageHiding
    stats: StatsService
    autopost: AutopostService
    shares: ShareService

    async def close(self) -> None:
        try:
            await self.http.aclose()
        finally:
            try:
                await self.moderation_db.close()
            finally:
                await self.db.close()


@cache
def tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, made once: every client would load the CA bundle again
    (about 1 MB resident each)."""
    return httpx.create_ssl_context()


def http_client(config: Config) -> httpx.AsyncClient:
    """The client used for news sites: bounded time, no automatic redirects (checked by hand)."""
    settings = config.ingestion
    return httpx.AsyncClient(
        verify=tls_context(),
        timeout=httpx.Timeout(settings.timeout_seconds),
        headers={"User-Agent": settings.user_agent},
        follow_redirects=False,
    )


def outbox_settings(config: Config) -> OutboxSettings:
    """The engine's pacing and retry settings from `[delivery]`."""
    delivery = config.delivery
    return OutboxSettings(
        overall_per_second=delivery.overall_per_second,
        per_chat_interval_seconds=delivery.per_chat_interval_seconds,
        per_group_per_minute=delivery.per_group_per_minute,
        concurrency=delivery.concurrency,
        max_attempts=delivery.max_attempts,
        lease_seconds=delivery.lease_seconds,
    )


def moderation_settings(config: Config) -> ModerationSettings:
    """Report counting rules from `[moderation]`."""
    moderation = config.moderation
    return ModerationSettings(
        threshold=moderation.threshold,
        admin_weight=moderation.admin_weight,
        rate_limit_per_hour=moderation.rate_limit_per_hour,
        cooldown=timedelta(hours=moderation.cooldown_hours),
        phash_max_distance=moderation.phash_max_distance,
        operator_ids=frozenset(moderation.operator_ids),
    )


async def open_services(
    config: Config,
    *,
    clock: Clock = utc_now,
    create: bool = True,
    on_poll: PollObserver | None = None,
) -> Services:
    """Open the database (a new one only if `create`) and HTTP client and build every service
    on them, and seed the sources; raise DatabaseUnavailable when the database cannot be
    opened. `on_poll` is told of every source poll (metrics)."""
    storage = config.storage
    db = await database.connect(
        storage.location,
        index_terms=search_text.index_text,
        create=create,
        pool_size=storage.pool_size,
    )
    await search_index.ensure_current(db)
    http = http_client(config)
    style = TextStyle(config.bot.date_style, config.bot.arabic_locale, config.bot.digits)
    catalogs = Catalogs(config.bot.default_language, style)
    guard = AddressGuard(config.ingestion.allowed_networks)
    source_catalog = SourceCatalog(
        db, settings=config.ingestion, client=http, guard=guard, clock=clock
    )
    await source_catalog.seed(config.sources)
    outbox = Outbox(db, clock=clock, settings=outbox_settings(config))
    tz = config.bot.tz
    changes = ScheduleChanges()
    configured_topics = [topic for source in config.sources for topic in source.topics]
    topics = Topics(db, catalogs=catalogs, configured=configured_topics)
    moderation_db = await database.connect(
        storage.location, index_terms=search_text.index_text, pool_size=2
    )
    moderation = ModerationService(moderation_db, settings=moderation_settings(config), clock=clock)
    return Services(
        config=config,
        db=db,
        http=http,
        catalogs=catalogs,
        news=NewsService(db, page_size=config.bot.page_size, topics=topics),
        topics=topics,
        ingestion=IngestionService(
            db,
            settings=config.ingestion,
            tz=config.bot.tz,
            client=http,
            clock=clock,
            guard=guard,
            on_poll=on_poll,
            alerts=OperatorAlerts(db, catalogs, config.moderation.operator_ids),
        ),
        sources=source_catalog,
        languages=LanguageService(db, catalogs, default_tz=tz, clock=clock),
        clock=clock,
        outbox=outbox,
        subscriptions=SubscriptionService(
            db,
            outbox=outbox,
            catalogs=catalogs,
            config=config,
            clock=clock,
            changes=changes,
            topics=topics,
        ),
        schedules=ScheduleService(
            db,
            settings=config.digests,
            clock=clock,
            default_tz=tz,
            changes=changes,
            topics=topics,
        ),
        digests=DigestService(
            db,
            outbox=outbox,
            catalogs=catalogs,
            settings=config.digests,
            default_tz=tz,
            clock=clock,
        ),
        instant=InstantService(db, outbox=outbox, catalogs=catalogs, default_tz=tz, clock=clock),
        schedule_changes=changes,
        moderation_db=moderation_db,
        moderation=moderation,
        image_hiding=ImageHiding(
            db, outbox=outbox, moderation=moderation, catalogs=catalogs, clock=clock
        ),
        stats=StatsService(db, outbox=outbox, clock=clock),
        autopost=AutopostService(
            db,
            outbox=outbox,
            catalogs=catalogs,
            images=moderation,
            settings=config.autopost,
            default_tz=tz,
            clock=clock,
        ),
        shares=ShareService(db, tz=tz, clock=clock),
    )
