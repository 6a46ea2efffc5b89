"""Reading the news: newest headlines, one article, and Arabic-aware search."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass

from bot.errors import ArticleNotFound, NothingSearchable, QueryTooLong, UnknownTopic
from bot.formatting import Page
from bot.models import Article
from bot.reading import search_text
from bot.reading.topics import Topics
from storage import article_search, articles
from storage.connection import Connection

MAX_QUERY_LENGTH = 200
SEARCH_WINDOW = 1000


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of articles and where it sits among all pages."""

    articles: tuple[Article, ...]
    page: Page
    total: int
    size: int  # articles per page
    topic: str | None = None  # the stored id of the topic asked for, when it names one


def _page_count(total: int, size: int) -> int:
    return max((total + size - 1) // size, 1)


class NewsService:
    """Queries over stored articles, paged for chat."""

    def __init__(self, db: Connection, *, page_size: int, topics: Topics | None = None) -> None:
        self._db = db
        self.page_size = page_size
        self._topics = topics

    async def latest(self, *, page: int = 1, topic: str | None = None, size: int | None = None):
        """A page of the newest headlines, optionally of one topic (named in any language)."""
        size = size or self.page_size
        if topic is not None and self._topics is not None:
            # An unknown word gives an empty listing: the reader is shown the topics there are.
            with suppress(UnknownTopic):
                topic = await self._topics.resolve(topic)
        total = await articles.count(self._db, topic=topic)
        page = min(max(page, 1), _page_count(total, size))
        found = await articles.newest(self._db, limit=size, offset=(page - 1) * size, topic=topic)
        return Listing(tuple(found), Page(page, _page_count(total, size)), total, size, topic)

    async def topics(self) -> list[str]:
        """Known topics, most used first."""
        if self._topics is not None:
            return await self._topics.known()
        return [topic for topic, _ in await articles.topics(self._db)]

    async def article(self, article_id: int) -> Article:
        """The article with this id; raise ArticleNotFound."""
        found = await articles.get(self._db, article_id)
        if found is None:
            raise ArticleNotFound(article_id)
        return found

    async def related(self, article_id: int) -> tuple[Article, tuple[Article, ...]]:
        """The article and up to a page of others whose headlines share at least two significant
        words with its own, closest first: what a reader can open when only its headline is
        stored."""
        article = await self.article(article_id)
        match = search_text.related_query(article.title)
        if match is None:
            return article, ()
        found = await article_search.closest_titles(
            self._db, match, limit=self.page_size, window=SEARCH_WINDOW, exclude=article_id
        )
        return article, tuple(found)

    async def search(self, query: str, *, page: int = 1, size: int | None = None) -> Listing:
        """Rank articles matching every word of `query`, whatever their vowels, forms or affixes."""
        size = size or self.page_size
        if len(query) > MAX_QUERY_LENGTH:
            raise QueryTooLong(query)
        terms = search_text.search_query(query)
        if terms is None:
            raise NothingSearchable(query)
        page = max(page, 1)
        found, total = await self._search_page(terms, page, size)
        if page > _page_count(total, size):
            # A page past the end (an old button, fewer matches now): the last page instead,
            # as `latest` does.
            page = _page_count(total, size)
            found, total = await self._search_page(terms, page, size)
        return Listing(tuple(found), Page(page, _page_count(total, size)), total, size)

    async def _search_page(self, terms: article_search.TermQuery, page: int, size: int):
        return await article_search.search(
            self._db, terms, limit=size, offset=(page - 1) * size, window=SEARCH_WINDOW
        )
