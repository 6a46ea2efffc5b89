"""Composing many digests at once: one read per group of alike chats, not one per chat.

Chats whose digest would be identical (same topics, position, filters, count, language and
time zone, and nothing of the candidates already received) share one selection and one
layout. Chats with their own filters or history get their own selection from the same shared
candidates, less what each already received (read for the whole batch in one query). Each
result equals what `DigestService`'s per-chat composition gives (a property test says so): a
chat whose own selection runs past the shared candidate window falls back to its own read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import formatting
from bot.config import DigestConfig
from bot.i18n.catalogs import Catalogs
from bot.i18n.languages import chat_zone
from bot.models import Article, ChatSettings, KeywordFilters, Schedule, Subscription
from bot.subscriptions import keyword_filters
from bot.subscriptions.selection import (
    CANDIDATE_WINDOW,
    Digest,
    candidate_window,
    select_articles,
)
from storage import deliveries, digest_queries
from storage.connection import Connection

# Composing is CPU work on the event loop: hand it back this often so updates are answered
# and the outbox worker keeps sending while a large slot is composed.
YIELD_EVERY = 20


@dataclass(frozen=True, slots=True)
class DigestRequest:
    """One digest to compose: the chat, the schedule it is for (None: a digest now), and the
    chat's subscription (None: a group or channel)."""

    chat: ChatSettings
    schedule: Schedule | None
    subscription: Subscription | None

    @property
    def topics(self) -> tuple[str, ...]:
        own = self.schedule.topics if self.schedule else ()
        return own or (self.subscription.topics if self.subscription else ())

    @property
    def after_id(self) -> int | None:
        return self.schedule.last_article_id if self.schedule else None

    @property
    def filters(self) -> KeywordFilters:
        return self.subscription.filters if self.subscription else KeywordFilters()


class BulkComposer:
    """Composes the digests of a batch of chats with set-based reads."""

    def __init__(
        self,
        db: Connection,
        *,
        catalogs: Catalogs,
        settings: DigestConfig,
        default_tz: ZoneInfo,
    ) -> None:
        self._db = db
        self._catalogs = catalogs
        self._settings = settings
        self._default_tz = default_tz
        # The last batch's candidate pools: the next batch of the same slot reads none again.
        self._pools: dict[tuple[object, ...], list[Article]] = {}
        self._indexes: dict[int, keyword_filters.FilterIndex] = {}

    def zone(self, chat: ChatSettings) -> ZoneInfo:
        return chat_zone(chat, self._default_tz)

    async def compose(
        self, requests: Sequence[DigestRequest], *, now: datetime, bot_username: str | None
    ) -> list[Digest | None]:
        """Each request's digest (None where an empty digest is skipped), in request order."""
        pools = await self._candidate_pools(requests, now)
        candidate_ids = {a.id for pool in pools.values() for a in pool}
        received = await deliveries.delivered_to(
            self._db,
            chat_ids=[r.chat.chat_id for r in requests],
            article_ids=sorted(candidate_ids),
        )
        selections: dict[tuple[object, ...], tuple[Article, ...]] = {}
        layouts: dict[tuple[object, ...], tuple[str, ...] | None] = {}
        digests: list[Digest | None] = []
        for n, request in enumerate(requests, 1):
            chat_id = request.chat.chat_id
            pool = pools[(request.topics, request.after_id)]
            seen = frozenset(received.get(chat_id, ()))
            count = self._count(request.schedule)
            key = (request.topics, request.after_id, seen, request.filters, count)
            chosen = selections.get(key)
            if chosen is None:
                chosen = self._select(pool, seen, request.filters, count)
                if chosen is None:  # ran past the shared window: this chat reads its own
                    chosen = await self._select_alone(request, now, count)
                else:
                    selections[key] = chosen
            parts = self._parts(request.chat, chosen, now, bot_username, layouts)
            thread_id = request.schedule.thread_id if request.schedule else None
            digests.append(None if parts is None else Digest(chat_id, thread_id, chosen, parts))
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return digests

    async def compose_shared(
        self,
        requests: Sequence[DigestRequest],
        members: Sequence[Sequence[int]],
        *,
        now: datetime,
        bot_username: str | None,
    ) -> list[tuple[Digest | None, set[int]]]:
        """One digest per request for all of its member chats (alike chats: same topics,
        position, filters, count, language and time zone as the request's chat), and the
        members that need their own composition: those that already received one of the
        candidates, or all of them when the selection runs past the shared window. A None
        digest is an empty one that is skipped."""
        pools = await self._candidate_pools(requests, now)
        received = await deliveries.delivered_to(
            self._db,
            chat_ids=[chat_id for chats in members for chat_id in chats],
            article_ids=sorted({a.id for pool in pools.values() for a in pool}),
        )
        layouts: dict[tuple[object, ...], tuple[str, ...] | None] = {}
        pool_ids: dict[int, set[int]] = {}
        shared: list[tuple[Digest | None, set[int]]] = []
        for n, (request, chats) in enumerate(zip(requests, members, strict=True), 1):
            pool = pools[(request.topics, request.after_id)]
            chosen = self._select(pool, frozenset(), request.filters, self._count(request.schedule))
            if chosen is None:
                shared.append((None, set(chats)))
                continue
            ids = pool_ids.get(id(pool))
            if ids is None:
                ids = pool_ids[id(pool)] = {a.id for a in pool}
            own = {c for c in chats if not ids.isdisjoint(received.get(c, ()))}
            parts = self._parts(request.chat, chosen, now, bot_username, layouts)
            thread_id = request.schedule.thread_id if request.schedule else None
            digest = (
                None if parts is None else Digest(request.chat.chat_id, thread_id, chosen, parts)
            )
            shared.append((digest, own))
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return shared

    async def _candidate_pools(
        self, requests: Sequence[DigestRequest], now: datetime
    ) -> dict[tuple[tuple[str, ...], int | None], list[Article]]:
        """One candidate read per (topics, position), reused from the previous batch while no
        article was stored since and the time window is the same."""
        newest = await digest_queries.newest_id(self._db)
        since, horizon = candidate_window(now, self._settings.first_digest_hours)
        kept, pools = self._pools, {}
        self._pools = {}
        for request in requests:
            key = (request.topics, request.after_id)
            if key in pools:
                continue
            cached = (*key, since, newest)
            pool = kept.get(cached)
            if pool is None:
                pool = await digest_queries.candidates(
                    self._db, after_id=request.after_id, fetched_since=since,
                    not_before=horizon, topics=request.topics,
                    limit=CANDIDATE_WINDOW,
                )  # fmt: skip
            pools[key] = self._pools[cached] = pool
        # An index lives as long as its pool is kept (the ids of kept pools stay theirs).
        alive = {id(pool) for pool in pools.values()}
        self._indexes = {key: index for key, index in self._indexes.items() if key in alive}
        return pools

    def _index(self, pool: list[Article]) -> keyword_filters.FilterIndex:
        index = self._indexes.get(id(pool))
        if index is None:
            index = self._indexes[id(pool)] = keyword_filters.FilterIndex(pool)
        return index

    def _count(self, schedule: Schedule | None) -> int:
        return schedule.item_count if schedule else self._settings.default_count

    def _select(
        self, pool: list[Article], seen: frozenset[int], filters: KeywordFilters, count: int
    ) -> tuple[Article, ...] | None:
        kept = keyword_filters.positions(self._index(pool).kept(filters))
        available = (pool[n] for n in kept if pool[n].id not in seen)
        chosen = select_articles(
            available, filters=KeywordFilters(), per_source=self._settings.max_per_source,
            count=count,
        )  # fmt: skip
        if len(chosen) < count and len(pool) == CANDIDATE_WINDOW:
            return None  # the chat's own window reaches further than the shared one
        return tuple(chosen)

    async def _select_alone(
        self, request: DigestRequest, now: datetime, count: int
    ) -> tuple[Article, ...]:
        since, horizon = candidate_window(now, self._settings.first_digest_hours)
        candidates = await digest_queries.undelivered(
            self._db, chat_id=request.chat.chat_id, after_id=request.after_id,
            fetched_since=since, not_before=horizon,
            topics=request.topics, limit=CANDIDATE_WINDOW,
        )  # fmt: skip
        chosen = select_articles(
            candidates,
            filters=request.filters,
            per_source=self._settings.max_per_source,
            count=count,
        )
        return tuple(chosen)

    def _parts(
        self,
        chat: ChatSettings,
        chosen: tuple[Article, ...],
        now: datetime,
        bot_username: str | None,
        layouts: dict[tuple[object, ...], tuple[str, ...] | None],
    ) -> tuple[str, ...] | None:
        tz = self.zone(chat)
        key = (chat.language, tz.key, tuple(a.id for a in chosen))
        if key not in layouts:
            t = self._catalogs.texts(chat.language)
            if chosen:
                parts = formatting.digest_parts(
                    t, list(chosen), moment=now, tz=tz, bot_username=bot_username
                )
                layouts[key] = tuple(parts)
            elif self._settings.empty == "note":
                layouts[key] = (formatting.digest_empty(t, moment=now, tz=tz),)
            else:
                layouts[key] = None
        return layouts[key]
