"""Reading the news: newest headlines, one article, and Arabic-aware search."""

from __future__ import annotations

from dataclasses import dataclass

from aiosqlite import Connection

from bot.errors import ArticleNotFound, NothingSearchable, QueryTooLong
from bot.formatting import Page
from bot.models import Article
from bot.reading import search_text
from storage import articles

MAX_QUERY_LENGTH = 200
SEARCH_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of articles and where it sits among all pages."""

    articles: tuple[Article, ...]
    page: Page
    total: int
    size: int  # articles per page


def _page_count(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)


class NewsService:
    """Queries over stored articles, paged for chat."""

    def __init__(self, db: Connection, *, page_size: int) -> None:
        self._db = db
        self.page_size = page_size

    async def latest(self, *, page: int = 1, topic: str | None = None, size: int | None = None):
        """A page of the newest headlines, optionally of one topic."""
        size = size or self.page_size
        total = await articles.count(self._db, topic=topic)
        page = min(max(page, 1), _page_count(total, size))
        found = await articles.newest(self._db, limit=size, offset=(page - 1) * size, topic=topic)
        return Listing(tuple(found), Page(page, _page_count(total, size)), total, size)

    async def topics(self) -> list[str]:
        """Topics that have articles, most used first."""
        return [topic for topic, _ in await articles.topics(self._db)]

    async def article(self, article_id: int) -> Article:
        """The article with this id; raise ArticleNotFound."""
        found = await articles.get(self._db, article_id)
        if found is None:
            raise ArticleNotFound(article_id)
        return found

    async def related(self, article_id: int) -> tuple[Article, tuple[Article, ...]]:
        """The article and up to a page of others whose headlines share the most words with
        its own: what a reader can open when only its headline is stored."""
        article = await self.article(article_id)
        match = search_text.fts_query(article.title, any_term=True)
        if match is None:
            return article, ()
        found, _ = await articles.search(
            self._db, match, limit=self.page_size + 1, window=SEARCH_WINDOW
        )
        return article, tuple(a for a in found if a.id != article_id)[: self.page_size]

    async def search(self, query: str, *, page: int = 1, size: int | None = None) -> Listing:
        """Rank articles matching every word of `query`, whatever their vowels, forms or affixes."""
        size = size or self.page_size
        if len(query) > MAX_QUERY_LENGTH:
            raise QueryTooLong(query)
        match = search_text.fts_query(query)
        if match is None:
            raise NothingSearchable(query)
        page = max(page, 1)
        size = size or self.page_size
        found, total = await articles.search(
            self._db,
            match,
            limit=size,
            offset=(page - 1) * size,
            window=SEARCH_WINDOW,
        )
        return Listing(tuple(found), Page(page, _page_count(total, size)), total, size)
