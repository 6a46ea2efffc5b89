"""Auto-posting: new articles go to the channels and groups whose admins asked for them, each
once per chat, in the chosen style, at the chosen pace (see `flood`), through the outbox."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from itertools import zip_longest
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import formatting
from bot.config import AutopostConfig
from bot.errors import AutopostRuleNotFound, NotChatAdmin, TooManyAutopostRules
from bot.i18n.catalogs import Catalogs, Texts
from bot.models import (
    Article,
    AutopostRule,
    AutopostStyle,
    ChatRights,
    OutgoingMessage,
    PhotoPost,
    TargetChat,
)
from bot.reading.search_text import title_fingerprint
from bot.subscriptions import flood, keyword_filters
from bot.subscriptions.autopost_requests import AutopostRequest
from bot.subscriptions.digests import BOT_USERNAME, MessageQueue
from bot.subscriptions.schedules import check_rights
from storage import autopost_items, autopost_rules, bot_settings, chats, deliveries
from storage import digest_queries as article_queries
from storage.autopost_items import HeldGroup, ItemDecision
from storage.connection import Connection
from storage.database import transaction

log = logging.getLogger(__name__)

WATERMARK = "autopost_after_id"
# Articles read per step of a pass: a first poll of many feeds stays bounded work per commit.
ARTICLES_PER_STEP = 500
HELD_GROUPS_PER_FLUSH = 200


class ArticleImages(Protocol):
    """The moderation service, as auto-posting needs it: images are known before they show."""

    async def register_article_image(
        self, article_id: int, url: str, *, data: bytes | None
    ) -> int: ...

    async def hidden_article_ids(self, article_ids: Iterable[int]) -> set[int]: ...


def title_key(article: Article) -> str:
    """The normalised title that finds the same story from another source."""
    return title_fingerprint(article.title) or f"#{article.id}"


def rule_takes(rule: AutopostRule, article: Article) -> bool:
    """Whether the article is of the rule's topics (none = all) and passes its filters."""
    if rule.topics and not set(rule.topics) & set(article.topics):
        return False
    return keyword_filters.matches(article, rule.filters)


class AutopostService:
    """Admins' auto-posting rules and the passes that post new articles by them."""

    def __init__(
        self,
        db: Connection,
        *,
        outbox: MessageQueue,
        catalogs: Catalogs,
        images: ArticleImages,
        settings: AutopostConfig,
        default_tz: ZoneInfo,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._catalogs = catalogs
        self._images = images
        self._settings = settings
        self._default_tz = default_tz
        self._clock = clock
        # One pass at a time: two feeds polled at once must not both post the same articles.
        self._pass = asyncio.Lock()

    # Rules ------------------------------------------------------------------------------------

    async def create(
        self,
        target: TargetChat,
        request: AutopostRequest,
        *,
        rights: ChatRights,
        user_id: int,
        thread_id: int | None,
        language: str,
    ) -> tuple[AutopostRule, int]:
        """Store a rule after checking rights; return it and its number in the chat."""
        check_rights(rights)
        now = self._clock()
        chat_id = target.chat_id
        rule = AutopostRule(
            id=0, chat_id=chat_id, thread_id=thread_id, topics=request.topics,
            filters=request.filters, style=request.style, link_preview=request.link_preview,
            hourly_cap=request.hourly_cap, quiet=request.quiet, created_by=user_id,
        )  # fmt: skip
        async with transaction(self._db):
            await chats.remember(self._db, chat_id, type=target.type, title=target.title, at=now)
            await chats.set_active(self._db, chat_id, is_active=True)
            if await chats.language(self._db, chat_id) is None:
                await chats.set_language(self._db, chat_id, language)
            existing = await autopost_rules.of_chat(self._db, chat_id=chat_id)
            if len(existing) >= self._settings.max_rules_per_chat:
                raise TooManyAutopostRules(len(existing))
            # Rules post what arrives from now on, never the archive.
            if await bot_settings.get(self._db, WATERMARK) is None:
                newest = await article_queries.newest_id(self._db)
                await bot_settings.put(self._db, WATERMARK, str(newest))
            rule_id = await autopost_rules.add(self._db, rule, at=now)
        return replace(rule, id=rule_id), len(existing) + 1

    async def of_chat(self, chat_id: int) -> list[AutopostRule]:
        """The chat's rules; their 1-based position is the number `/autopost off` takes."""
        return await autopost_rules.of_chat(self._db, chat_id=chat_id)

    async def remove(
        self, chat_id: int, *, number: int | None, thread_id: int | None, rights: ChatRights
    ) -> list[AutopostRule]:
        """Remove rule `number`, or every rule of the chat (of the forum topic, in one)."""
        if not rights.is_admin:
            raise NotChatAdmin()
        async with transaction(self._db):
            found = await autopost_rules.of_chat(self._db, chat_id=chat_id)
            if number is not None:
                if not 1 <= number <= len(found):
                    raise AutopostRuleNotFound(number)
                removed = [found[number - 1]]
            else:
                removed = [r for r in found if thread_id is None or r.thread_id == thread_id]
            ids = [r.id for r in removed]
            await autopost_rules.delete(self._db, ids)
            await autopost_items.drop_rule(self._db, rule_ids=ids)
        return removed

    # Posting ----------------------------------------------------------------------------------

    async def post_new_articles(self) -> int:
        """Post (or hold, or skip) the articles stored since the last pass; return how many
        messages were queued. The first pass ever only sets the mark."""
        queued = 0
        async with self._pass:
            while True:
                mark = await bot_settings.get(self._db, WATERMARK)
                if mark is None:
                    async with transaction(self._db):
                        newest = await article_queries.newest_id(self._db)
                        await bot_settings.put(self._db, WATERMARK, str(newest))
                    return 0
                ids = await article_queries.ids_after(
                    self._db, after_id=int(mark), limit=ARTICLES_PER_STEP
                )
                if not ids:
                    return queued
                queued += await self._step(ids)
                if len(ids) < ARTICLES_PER_STEP:
                    return queued

    async def _step(self, ids: Sequence[int]) -> int:
        found = await article_queries.by_ids(self._db, ids)
        topics = tuple(dict.fromkeys(t for a in found for t in a.topics))
        rules = await autopost_rules.running_for(self._db, topics=topics)
        # Images are registered before the transaction: moderation writes on its own connection.
        images = await self._photos(found, rules)
        username = await bot_settings.get(self._db, BOT_USERNAME)
        by_chat: dict[int, list[AutopostRule]] = defaultdict(list)
        for rule in rules:
            by_chat[rule.chat_id].append(rule)
        # The posts, the decisions and the moved mark are one transaction: a restart redoes a
        # step whole or not at all, and the outbox keys keep a post from being queued twice.
        async with transaction(self._db):
            per_chat = [
                await self._post_to_chat(chat_id, chat_rules, found, images, username)
                for chat_id, chat_rules in by_chat.items()
            ]
            # Queued round-robin across chats: the worker claims rows in id order, and a window
            # of one chat's posts would wait on that chat's own pace instead of filling the
            # overall rate with other chats.
            queued = await self._outbox.enqueue(_interleaved(per_chat))
            await bot_settings.put(self._db, WATERMARK, str(ids[-1]))
        if queued:
            log.info("auto-posting: %s posts queued for %s new articles", queued, len(found))
        return queued

    async def _photos(
        self, found: Sequence[Article], rules: Sequence[AutopostRule]
    ) -> dict[int, int]:
        """Image ids of the articles a photo rule may show, hidden images left out."""
        if not any(r.style is AutopostStyle.PHOTO for r in rules):
            return {}
        images = {
            a.id: await self._images.register_article_image(a.id, a.image_url, data=None)
            for a in found
            if a.image_url
        }
        hidden = await self._images.hidden_article_ids(images)
        return {a: image for a, image in images.items() if a not in hidden}

    async def _post_to_chat(
        self,
        chat_id: int,
        rules: Sequence[AutopostRule],
        found: Sequence[Article],
        images: dict[int, int],
        username: str | None,
    ) -> list[OutgoingMessage]:
        """Decide the chat's new articles and return its posts to queue (decisions and
        deliveries are written here, inside the caller's transaction). The first rule that
        takes an article posts it."""
        taken: dict[int, list[Article]] = defaultdict(list)
        claimed: set[int] = set()
        for rule in rules:
            for article in found:
                if article.id not in claimed and rule_takes(rule, article):
                    claimed.add(article.id)
                    taken[rule.id].append(article)
        if not claimed:
            return []
        decided = await autopost_items.decided_among(
            self._db, chat_id=chat_id, article_ids=sorted(claimed)
        )
        now = self._clock()
        history = [
            flood.Seen(item.url, item.title_key, item.decided_at, item.state == "posted")
            for item in await autopost_items.recent(
                self._db, chat_id=chat_id, since=now - flood.SAME_STORY_WITHIN
            )
        ]
        t, tz = await self._chat_texts(chat_id)
        items: list[ItemDecision] = []
        messages: list[OutgoingMessage] = []
        posted: list[int] = []
        for rule in rules:
            fresh = [a for a in taken.get(rule.id, ()) if a.id not in decided]
            if not fresh:
                continue
            decisions = flood.plan(
                [flood.Candidate(a.id, a.url, title_key(a)) for a in fresh],
                history=history,
                now=now,
                hourly_cap=rule.hourly_cap or self._settings.default_hourly_cap,
                quiet_end=flood.quiet_until(now, rule.quiet, tz),
            )
            for article, decision in zip(fresh, decisions, strict=True):
                key = title_key(article)
                fate, due_at = decision.fate.value, decision.due_at
                items.append(
                    ItemDecision(chat_id, article.id, rule.id, article.url, key, fate, due_at)
                )
                if decision.fate is flood.Fate.DUPLICATE:
                    continue
                history.append(flood.Seen(article.url, key, now, decision.fate is flood.Fate.POST))
                if decision.fate is flood.Fate.POST:
                    messages.append(self._message(rule, article, t, tz, username, images))
                    posted.append(article.id)
        await autopost_items.record(self._db, items, at=now)
        await deliveries.record(
            self._db, chat_id=chat_id, article_ids=posted, kind="autopost", at=now
        )
        return messages

    def _message(
        self,
        rule: AutopostRule,
        article: Article,
        t: Texts,
        tz: ZoneInfo,
        username: str | None,
        images: dict[int, int],
    ) -> OutgoingMessage:
        text = formatting.autopost_text(
            t,
            article,
            with_summary=rule.style is not AutopostStyle.HEADLINE,
            tz=tz,
            bot_username=username,
            hashtags=article.topics,
        )
        photo = None
        image_id = images.get(article.id)
        if rule.style is AutopostStyle.PHOTO and article.image_url and image_id is not None:
            photo = PhotoPost(article.image_url, image_id, t("button-report-image"))
        return OutgoingMessage(
            key=post_key(rule.chat_id, article.id),
            chat_id=rule.chat_id,
            parts=(text,),
            thread_id=rule.thread_id,
            kind="autopost",
            photo=photo,
            link_preview=rule.link_preview and photo is None,
        )

    async def _chat_texts(self, chat_id: int) -> tuple[Texts, ZoneInfo]:
        chat = await chats.get(self._db, chat_id)
        t = self._catalogs.texts(chat.language if chat else None)
        tz = ZoneInfo(chat.timezone) if chat and chat.timezone else self._default_tz
        return t, tz

    # "More news" digests ----------------------------------------------------------------------

    async def flush_due(self) -> int:
        """Queue one "more news" digest for each rule whose held articles are due; return how
        many were queued."""
        queued = 0
        async with self._pass:
            now = self._clock()
            username = await bot_settings.get(self._db, BOT_USERNAME)
            while True:
                groups = await autopost_items.held_due(
                    self._db, now=now, limit=HELD_GROUPS_PER_FLUSH
                )
                for group in groups:
                    async with transaction(self._db):
                        queued += await self._flush(group, now, username)
                if len(groups) < HELD_GROUPS_PER_FLUSH:
                    return queued

    async def _flush(self, group: HeldGroup, now: datetime, username: str | None) -> int:
        rule = await autopost_rules.get(self._db, group.rule_id)
        if rule is None or rule.is_paused:
            # A paused chat does not get a late pile of old news when the bot is let back in.
            await autopost_items.fold(self._db, group)
            return 0
        t, tz = await self._chat_texts(group.chat_id)
        quiet_end = flood.quiet_until(now, rule.quiet, tz)
        if quiet_end is not None:
            await autopost_items.postpone(self._db, group, due_at=quiet_end)
            return 0
        found = await article_queries.by_ids(self._db, group.article_ids)
        if found:
            text = formatting.more_news(
                t, found, shown=self._settings.more_news_headlines, bot_username=username
            )
            key = f"autopost-more:{group.chat_id}:{rule.id}:{int(group.due_at.timestamp())}"
            message = OutgoingMessage(
                key, group.chat_id, (text,), thread_id=rule.thread_id, kind="autopost-more"
            )
            await self._outbox.enqueue([message])
            await deliveries.record(
                self._db, chat_id=group.chat_id, article_ids=[a.id for a in found],
                kind="autopost", at=now,
            )  # fmt: skip
        await autopost_items.fold(self._db, group)
        return 1 if found else 0


def _interleaved(per_chat: Sequence[Sequence[OutgoingMessage]]) -> list[OutgoingMessage]:
    """The first post of every chat, then the second of every chat, and so on."""
    rounds = zip_longest(*per_chat)
    return [message for batch in rounds for message in batch if message is not None]


def post_key(chat_id: int, article_id: int) -> str:
    """The outbox key of one article's post in one chat: queued once, whatever happens."""
    return f"autopost:{chat_id}:{article_id}"
