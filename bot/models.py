"""Domain types shared by services, storage and handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
