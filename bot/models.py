"""Domain types shared by services, storage and handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.subscriptions.rules import ScheduleRule


@dataclass(frozen=True, slots=True)
class ArticleDraft:
    """A news item as read from a source, before it is stored and given an id."""

    source: str
    title: str
    body: str | None = None
    url: str | None = None
    guid: str | None = None
    published_at: datetime | None = None  # timezone-aware, UTC
    language: str = "ar"
    topics: tuple[str, ...] = ()
    image_url: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article; `id` is the short number users type in /read."""

    id: int
    source: str
    title: str
    body: str | None
    url: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str
    topics: tuple[str, ...] = field(default=())
    image_url: str | None = None

    @property
    def has_body(self) -> bool:
        return bool(self.body)


@dataclass(frozen=True, slots=True)
class KeywordFilters:
    """Words a chat wants (any of `include`) or refuses (any of `exclude`), as typed."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.include and not self.exclude


@dataclass(frozen=True, slots=True)
class Subscription:
    """A private chat's subscription; no topics means every topic."""

    chat_id: int
    topics: tuple[str, ...] = ()
    instant_topics: tuple[str, ...] = ()
    filters: KeywordFilters = field(default_factory=KeywordFilters)


@dataclass(frozen=True, slots=True)
class Schedule:
    """When one chat (or forum topic) gets a digest, of which topics and how many headlines."""

    id: int
    chat_id: int
    rule: ScheduleRule
    item_count: int
    thread_id: int | None = None
    topics: tuple[str, ...] = ()
    created_by: int | None = None
    paused_reason: str | None = None
    last_slot: datetime | None = None
    last_article_id: int | None = None

    @property
    def is_paused(self) -> bool:
        return self.paused_reason is not None


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """What the bot remembers of a chat that matters for digests."""

    chat_id: int
    type: str
    title: str | None
    language: str | None
    timezone: str | None
    is_active: bool


@dataclass(frozen=True, slots=True)
class ChatRights:
    """What Telegram says about a chat: is the person an admin, may the bot post there."""

    is_admin: bool
    bot_may_post: bool


@dataclass(frozen=True, slots=True)
class TargetChat:
    """A group or channel a schedule is for."""

    chat_id: int
    type: str
    title: str | None
