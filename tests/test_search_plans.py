"""PostgreSQL search reads a rare word's matches through the GIN index and a common word's
newest first: both ways give the same page and count, and the statistics pick the cheaper."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.models import ArticleDraft
from bot.reading import search_text
from storage import article_search, database
from storage.connection import Connection
from tests.support.ingest import store_drafts

NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)
ARTICLES = 60


def drafts() -> list[ArticleDraft]:
    """`maroc` in every article, `festival` in a third (some titles), `tanger` in three;
    publication times out of id order, so the newest by date is not the newest stored."""

    def draft(i: int) -> ArticleDraft:
        title = f"Dépêche {i} du jour" + (" festival" if i % 7 == 0 else "")
        title += " tanger" if i in (5, 42) else ""
        body = "Le maroc ce jour." + (" Un festival." if i % 3 == 0 else "")
        body += " Vu à tanger." if i == 17 else ""
        age = timedelta(hours=(i * 37) % ARTICLES)
        return ArticleDraft(
            source="plans", title=title, body=body, published_at=NOW - age, language="fr"
        )

    return [draft(i) for i in range(ARTICLES)]


@pytest.fixture
async def pg(postgres_db_url) -> AsyncIterator[Connection]:
    db = await database.connect(postgres_db_url, index_terms=search_text.index_text)
    try:
        assert await store_drafts(db, drafts(), at=NOW) == (ARTICLES, 0)
        yield db
    finally:
        await db.close()


async def page(db: Connection, words: str, *, through_index: bool, window: int, offset: int):
    query = search_text.search_query(words)
    rows = await article_search._search_postgres(
        db, query, limit=4, offset=offset, window=window, through_index=through_index
    )
    return [row["id"] for row in rows], rows[0]["total"] if rows else None


@pytest.mark.parametrize(
    "words", ["maroc", "festival", "tanger", "maroc tanger", "festival tanger", "xyzzy"]
)
async def test_the_index_and_the_newest_first_scan_give_the_same_pages(pg, words):
    for window in (3, 10, 1000):
        for offset in (0, 4, 8):
            newest = await page(pg, words, through_index=False, window=window, offset=offset)
            indexed = await page(pg, words, through_index=True, window=window, offset=offset)
            assert indexed == newest, (window, offset)
    first, total = await page(pg, words, through_index=True, window=1000, offset=0)
    if words != "xyzzy":
        assert first and total > 0


async def test_analysed_statistics_send_a_rare_word_through_the_index(pg):
    await pg.execute("ANALYZE articles")
    rare, common = search_text.search_query("tanger"), search_text.search_query("maroc")
    assert await article_search._is_rare(pg, rare, window=5)
    assert await article_search._is_rare(pg, search_text.search_query("xyzzy"), window=5)
    # Every article holds it: the newest 5 rows are the window, far fewer than its 60 matches.
    assert not await article_search._is_rare(pg, common, window=5)
    # A window larger than the table: the scan reads every row anyway, the index only matches.
    assert await article_search._is_rare(pg, common, window=1000)
