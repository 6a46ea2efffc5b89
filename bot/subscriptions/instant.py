"""Instant mode: new articles of a subscriber's instant topics are pushed as they are stored."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import formatting
from bot.i18n.catalogs import Catalogs
from bot.i18n.languages import chat_zone
from bot.models import Article, OutgoingMessage, Subscription
from bot.subscriptions import keyword_filters
from bot.subscriptions.digests import BOT_USERNAME, MessageQueue
from storage import bot_settings, chats, deliveries, digest_queries, subscriptions
from storage.connection import Connection
from storage.database import transaction

log = logging.getLogger(__name__)

WATERMARK = "instant_after_id"
# Articles handled per pass: a first poll of many feeds stays a bounded amount of work.
MAX_ARTICLES_PER_PASS = 200
# Subscribers read, matched and written per step.
SUBSCRIBER_BATCH = 500


class InstantService:
    """Queues breaking-news pushes in the outbox, each article at most once per chat."""

    def __init__(
        self,
        db: Connection,
        *,
        outbox: MessageQueue,
        catalogs: Catalogs,
        default_tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._catalogs = catalogs
        self._default_tz = default_tz
        self._clock = clock
        self.batch_size = SUBSCRIBER_BATCH

    async def _push(self, article_ids: Sequence[int]) -> int:
        # Runs inside the caller's transaction. Set-based: per batch of subscribers, one read
        # of their chats, one of what they already received, one write of rows and deliveries.
        found = await digest_queries.by_ids(self._db, article_ids)
        topics = tuple(dict.fromkeys(t for a in found for t in a.topics))
        if not topics:
            return 0
        username = await bot_settings.get(self._db, BOT_USERNAME)
        texts: dict[tuple[str | None, str, int], str] = {}
        queued = 0
        async for batch in subscriptions.with_instant_topics_batches(
            self._db, topics=topics, batch=self.batch_size
        ):
            queued += await self._push_batch(batch, found, username, texts)
        return queued

    async def _push_batch(
        self,
        batch: Sequence[Subscription],
        found: Sequence[Article],
        username: str | None,
        texts: dict[tuple[str | None, str, int], str],
    ) -> int:
        chat_ids = [s.chat_id for s in batch]
        settings = await chats.many(self._db, chat_ids)
        received = await deliveries.delivered_to(
            self._db, chat_ids=chat_ids, article_ids=[a.id for a in found]
        )
        messages: list[OutgoingMessage] = []
        pairs: list[tuple[int, int]] = []
        for subscription in batch:
            chat_id = subscription.chat_id
            seen = received.get(chat_id, set())
            chat = settings.get(chat_id)
            language = chat.language if chat else None
            tz = chat_zone(chat, self._default_tz)
            for article in _wanted(subscription, found):
                if article.id in seen:
                    continue
                key = (language, tz.key, article.id)
                if key not in texts:
                    t = self._catalogs.texts(language)
                    texts[key] = formatting.instant_message(
                        t, article, tz=tz, bot_username=username
                    )
                messages.append(
                    OutgoingMessage(
                        f"instant:{chat_id}:{article.id}", chat_id, (texts[key],), None, "instant"
                    )
                )
                pairs.append((chat_id, article.id))
        if messages:
            # Rows and deliveries go in the same transaction (the caller's).
            await self._outbox.enqueue(messages)
            await deliveries.record_many(self._db, pairs, kind="instant", at=self._clock())
        await asyncio.sleep(0)  # a large batch of subscribers must not hold the event loop
        return len(messages)

    async def push_new_articles(self) -> int:
        """Push the articles stored since the last pass (the first pass only sets the mark)."""
        # The pushes and the moved mark are one transaction: a pass is done whole or not at all.
        async with transaction(self._db):
            mark = await bot_settings.get(self._db, WATERMARK)
            if mark is None:
                newest = await digest_queries.newest_id(self._db)
                await bot_settings.put(self._db, WATERMARK, str(newest))
                return 0
            ids = await digest_queries.ids_after(
                self._db, after_id=int(mark), limit=MAX_ARTICLES_PER_PASS
            )
            if not ids:
                return 0
            queued = await self._push(ids)
            await bot_settings.put(self._db, WATERMARK, str(ids[-1]))
        log.info("instant pushes: %s queued for %s new articles", queued, len(ids))
        return queued


def _wanted(subscription: Subscription, found: Sequence[Article]) -> list[Article]:
    instant = set(subscription.instant_topics)
    return [
        a
        for a in found
        if instant.intersection(a.topics) and keyword_filters.matches(a, subscription.filters)
    ]
