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


async def page(db: Connection, words: str, *, window: int, offset: int, span="scan"):
    """One page's ids and the total, newest first (`span` "scan") or through the GIN index
    from the `span` newest ids (None: every match)."""
    query = search_text.search_query(words)
    kwargs = {"limit": 4, "offset": offset, "window": window}
    if span == "scan":
        rows, total = await article_search._newest_first(db, query, **kwargs)
    else:
        statistics = await article_search._statistics(db, query)
        rows, total = await article_search._through_index(
            db, query, statistics, span=span, **kwargs
        )
    return [row["id"] for row in rows], total


class Recorded:
    """The real database, keeping the text of each statement read through it."""

    def __init__(self, db: Connection) -> None:
        self.db, self.statements = db, []

    async def execute_fetchall(self, sql: str, parameters=()):
        self.statements.append(sql)
        return await self.db.execute_fetchall(sql, parameters)


@pytest.mark.parametrize(
    "words", ["maroc", "festival", "tanger", "maroc tanger", "festival tanger", "xyzzy"]
)
async def test_the_index_and_the_newest_first_scan_give_the_same_pages(pg, words):
    for window in (3, 10, 1000):
        for offset in (0, 4, 8, 100):
            newest = await page(pg, words, window=window, offset=offset)
            for span in (None, 1, 7, 30, 59):
                indexed = await page(pg, words, window=window, offset=offset, span=span)
                assert indexed == newest, (window, offset, span)
    first, total = await page(pg, words, window=1000, offset=0, span=None)
    if words != "xyzzy":
        assert first and total > 0


# (words, window, span, slices read, then every match read): a slice holding the window is
# enough; one too small is widened by its own density, to every match once that reaches the
# oldest id (always when the matches are fewer than the window, or none is in the slice).
SLICES = [
    ("maroc", 3, 10, 1, 0),
    ("maroc", 10, 5, 2, 0),
    ("festival", 10, 6, 2, 0),
    ("festival", 18, 10, 1, 1),
    ("tanger", 10, 20, 1, 1),
    ("maroc tanger", 1, 30, 1, 0),
    ("xyzzy", 3, 10, 1, 1),
]


@pytest.mark.parametrize(("words", "window", "span", "slices", "full"), SLICES)
async def test_a_slice_of_newest_ids_too_small_is_widened_to_the_same_page(
    pg, words, window, span, slices, full
):
    for offset in (0, 2, 20):
        every = await page(pg, words, window=window, offset=offset, span=None)
        recorded = Recorded(pg)
        assert await page(recorded, words, window=window, offset=offset, span=span) == every
        bounded = sum("id >= (SELECT" in sql for sql in recorded.statements)
        assert (bounded, len(recorded.statements) - 1 - bounded) == (slices, full), offset
    assert every == await page(pg, words, window=window, offset=20)


async def test_analysed_statistics_send_a_rare_word_through_the_index(pg):
    await pg.execute("ANALYZE articles")

    async def scans(words: str, window: int) -> bool:
        statistics = await article_search._statistics(pg, search_text.search_query(words))
        assert (statistics.oldest, statistics.newest, statistics.rows) == (1, ARTICLES, ARTICLES)
        return article_search._scanning_is_cheaper(statistics.rows, statistics.share, window)

    assert not await scans("tanger", window=5)
    assert not await scans("xyzzy", window=5)
    # Every article holds it: the newest 5 rows are the window, far fewer than its 60 matches.
    assert await scans("maroc", window=5)
    # A window larger than the table: the scan reads every row anyway, the index only matches.
    assert not await scans("maroc", window=1000)


@pytest.mark.parametrize("words", ["maroc", "festival", "tanger", "festival tanger", "xyzzy"])
async def test_a_search_on_analysed_articles_gives_the_newest_first_page(pg, words):
    await pg.execute("ANALYZE articles")
    query = search_text.search_query(words)
    for window in (3, 10, 1000):
        for offset in (0, 4, 100):
            found, total = await article_search.search(
                pg, query, limit=4, offset=offset, window=window
            )
            newest = await page(pg, words, window=window, offset=offset)
            assert ([a.id for a in found], total) == newest, (window, offset)
