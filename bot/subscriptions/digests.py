"""Digest composition: which articles a chat gets, laid out, queued once per schedule slot."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from aiosqlite import Connection

from bot import formatting
from bot.config import DigestConfig
from bot.errors import UnknownChat
from bot.i18n.catalogs import Catalogs
from bot.i18n.languages import chat_zone
from bot.models import Article, ChatSettings, KeywordFilters, OutgoingMessage, Schedule
from bot.subscriptions import keyword_filters
from bot.subscriptions.rules import due_slot
from storage import bot_settings, chats, deliveries, digest_queries, schedules, subscriptions
from storage.database import transaction

log = logging.getLogger(__name__)

BOT_USERNAME = "bot_username"
# Candidates read per digest before keyword filters and the per-source cap thin them out.
CANDIDATE_WINDOW = 500
TARGET_BATCH = 200


class _NotQueued(Exception):
    """Raised inside a transaction to roll back a slot whose digest was already queued."""


class MessageQueue(Protocol):
    async def enqueue(self, messages: Iterable[OutgoingMessage]) -> int: ...


@dataclass(frozen=True, slots=True)
class Digest:
    """A composed digest: its articles (none for a "no news" note) and its message parts."""

    chat_id: int
    thread_id: int | None
    articles: tuple[Article, ...]
    parts: tuple[str, ...]


def select_articles(
    candidates: Sequence[Article], *, filters: KeywordFilters, per_source: int, count: int
) -> list[Article]:
    """Newest-first candidates kept by the keyword filters, at most `per_source` from one
    source, at most `count` in all."""
    # Hidden images (a later issue): drop here the articles whose image a chat must not see.
    chosen: list[Article] = []
    by_source: Counter[str] = Counter()
    for article in candidates:
        if len(chosen) == count:
            break
        if by_source[article.source] >= per_source:
            continue
        if not keyword_filters.matches(article, filters):
            continue
        by_source[article.source] += 1
        chosen.append(article)
    return chosen


def digest_key(chat_id: int, schedule_id: int, slot: datetime) -> str:
    """The outbox key of one schedule's slot: a re-run of the slot enqueues nothing new."""
    return f"digest:{chat_id}:{schedule_id}:{int(slot.timestamp())}"


class DigestService:
    """Composes digests for chats and queues them in the outbox with their deliveries."""

    def __init__(
        self,
        db: Connection,
        *,
        outbox: MessageQueue,
        catalogs: Catalogs,
        settings: DigestConfig,
        default_tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._catalogs = catalogs
        self._settings = settings
        self._default_tz = default_tz
        self._clock = clock

    def zone(self, chat: ChatSettings | None) -> ZoneInfo:
        return chat_zone(chat, self._default_tz)

    async def zone_of(self, chat_id: int) -> ZoneInfo:
        """The time zone a chat's digests follow."""
        return self.zone(await chats.get(self._db, chat_id))

    async def remember_bot_username(self, username: str) -> None:
        """Keep the bot's username so digests written by the CLI link to the right bot."""
        async with transaction(self._db):
            await bot_settings.put(self._db, BOT_USERNAME, username)

    def is_missed(self, schedule: Schedule, tz: ZoneInfo) -> bool:
        """True when a slot within the grace period has not been served (after downtime)."""
        slot = due_slot(schedule.rule, tz, now=self._clock(), grace=self._settings.misfire_grace)
        return slot is not None and (schedule.last_slot is None or slot > schedule.last_slot)

    async def run_schedule(self, schedule_id: int) -> Digest | None:
        """Queue the digest of the slot due now, once; None when nothing was queued."""
        schedule = await schedules.get(self._db, schedule_id)
        if schedule is None or schedule.is_paused:
            return None
        chat = await chats.get(self._db, schedule.chat_id)
        if chat is None or not chat.is_active:
            return None
        now = self._clock()
        slot = due_slot(schedule.rule, self.zone(chat), now=now, grace=self._settings.misfire_grace)
        if slot is None or (schedule.last_slot is not None and slot <= schedule.last_slot):
            return None
        key = digest_key(chat.chat_id, schedule.id, slot)
        try:
            # Composed inside the transaction, so no other write lands between reading the
            # undelivered articles and recording them as delivered.
            async with transaction(self._db):
                newest = await digest_queries.newest_id(self._db)
                digest = await self._compose(chat, schedule, now)
                if not await schedules.record_run(
                    self._db, schedule.id, slot=slot, last_article_id=newest
                ):
                    return None  # served meanwhile: record_run wrote nothing
                return await self._queue(digest, key, now)
        except _NotQueued:
            return None

    async def preview(self, chat_id: int, schedule: Schedule | None) -> Digest | None:
        """The digest the chat would get now, written nowhere."""
        chat = await chats.get(self._db, chat_id)
        if chat is None:
            return None
        return await self._compose(chat, schedule, self._clock())

    async def send_now(self, chat_id: int | None = None) -> int:
        """Queue a digest now for one chat or every subscribed or scheduled chat; return how
        many were queued. Chats are read in batches, so memory does not grow with them.
        Raise UnknownChat for a chat the bot has never seen."""
        if chat_id is not None:
            await self._check_known(chat_id)
            return int(await self._send_now_to(chat_id))
        queued, after = 0, None
        while batch := await chats.digest_targets(self._db, after=after, batch=TARGET_BATCH):
            for target in batch:
                queued += await self._send_now_to(target)
            after = batch[-1]
        return queued

    async def _check_known(self, chat_id: int) -> None:
        if await chats.get(self._db, chat_id) is None:
            raise UnknownChat(f"chat {chat_id} is unknown: the bot has had no message from it")

    async def _send_now_to(self, chat_id: int) -> bool:
        try:
            async with transaction(self._db):
                return await self._queue_now(chat_id)
        except _NotQueued:
            return False

    async def _queue_now(self, chat_id: int) -> bool:
        chat = await chats.get(self._db, chat_id)
        if chat is None or not chat.is_active:
            return False
        running = [s for s in await schedules.of_chat(self._db, chat_id=chat_id) if not s.is_paused]
        now = self._clock()
        digest = await self._compose(chat, running[0] if running else None, now)
        if digest is None:
            return False
        # Keyed by content, not time: two quick runs never collide, and a digest is never
        # queued twice (its articles are recorded as delivered with it).
        newest = max((a.id for a in digest.articles), default=int(now.timestamp()))
        key = f"digest:{chat_id}:now:{newest}"
        return await self._queue(digest, key, now) is not None

    async def _compose(
        self, chat: ChatSettings, schedule: Schedule | None, now: datetime
    ) -> Digest | None:
        subscription = await subscriptions.get(self._db, chat.chat_id)
        topics = (schedule.topics if schedule else ()) or (
            subscription.topics if subscription else ()
        )
        candidates = await digest_queries.undelivered(
            self._db,
            chat_id=chat.chat_id,
            after_id=schedule.last_article_id if schedule else None,
            fetched_since=now - timedelta(hours=self._settings.first_digest_hours),
            topics=topics,
            limit=CANDIDATE_WINDOW,
        )
        chosen = select_articles(
            candidates,
            filters=subscription.filters if subscription else KeywordFilters(),
            per_source=self._settings.max_per_source,
            count=schedule.item_count if schedule else self._settings.default_count,
        )
        return await self._layout(chat, schedule, chosen, now)

    async def _layout(
        self, chat: ChatSettings, schedule: Schedule | None, chosen: list[Article], now: datetime
    ) -> Digest | None:
        t = self._catalogs.texts(chat.language)
        tz = self.zone(chat)
        thread_id = schedule.thread_id if schedule else None
        if chosen:
            username = await bot_settings.get(self._db, BOT_USERNAME)
            parts = formatting.digest_parts(t, chosen, moment=now, tz=tz, bot_username=username)
        elif self._settings.empty == "note":
            parts = [formatting.digest_empty(t, moment=now, tz=tz)]
        else:
            return None
        return Digest(chat.chat_id, thread_id, tuple(chosen), tuple(parts))

    async def _queue(self, digest: Digest | None, key: str, now: datetime) -> Digest | None:
        # Runs inside the caller's transaction: the outbox rows, the deliveries and the
        # schedule's slot are committed together, so a crash cannot record one without the
        # others. Raises _NotQueued when the key was queued before, to roll the slot back.
        if digest is None:
            return None  # the slot is served: nothing new is nothing to resend
        message = OutgoingMessage(key, digest.chat_id, digest.parts, digest.thread_id, "digest")
        if not await self._outbox.enqueue([message]):
            raise _NotQueued(key)
        await deliveries.record(
            self._db,
            chat_id=digest.chat_id,
            article_ids=[a.id for a in digest.articles],
            kind="digest",
            at=now,
        )
        log.info("digest %s queued: %s articles", key, len(digest.articles))
        return digest
