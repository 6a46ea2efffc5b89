"""Inline shares: which articles people sent into chats with @bot, and the most shared today."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.models import Article
from storage import articles, shares
from storage.connection import Connection
from storage.database import transaction


class ShareService:
    """Counts chosen inline results per article."""

    def __init__(self, db: Connection, *, tz: ZoneInfo, clock: Callable[[], datetime]) -> None:
        self._db = db
        self._tz = tz
        self._clock = clock

    async def record(self, article_id: int, user_id: int) -> None:
        """Count one share of the article."""
        async with transaction(self._db):
            await shares.record(self._db, article_id=article_id, user_id=user_id, at=self._clock())

    async def most_shared_today(self, *, limit: int = 10) -> list[tuple[Article, int]]:
        """The articles shared most since midnight (the bot's time zone), with their counts."""
        local = self._clock().astimezone(self._tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        found = []
        for article_id, count in await shares.most_shared(self._db, since=midnight, limit=limit):
            article = await articles.get(self._db, article_id)
            if article is not None:
                found.append((article, count))
        return found
