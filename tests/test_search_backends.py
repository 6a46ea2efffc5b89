"""Search finds the same articles in the same order on SQLite (FTS5) and PostgreSQL (tsvector).

The same articles (the shipped sample news and a few French and English ones) are stored in a
SQLite file and a PostgreSQL database; every query must give identical ids, order and counts.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from bot.errors import NothingSearchable
from bot.ingestion.dumps import parse_dump, parse_topic_index, with_topics
from bot.models import ArticleDraft
from bot.reading import search_text
from bot.reading.news import NewsService
from storage import article_search, database
from storage.connection import Connection
from tests.support.ingest import store_drafts

NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Africa/Casablanca")


def more_articles() -> list[ArticleDraft]:
    """French, English and Arabic articles with bodies and dates, some sharing words."""
    day = timedelta(days=1)

    def draft(title: str, body: str, age: timedelta, language: str) -> ArticleDraft:
        return ArticleDraft(
            source="extra", title=title, body=body, published_at=NOW - age, language=language
        )

    return [
        draft("Élections législatives en Allemagne", "Le scrutin a lieu dimanche.", 2 * day, "fr"),
        draft("Le Maroc accueille la CAN", "Les élections de la fédération sont reportées.",
              day, "fr"),
        draft("Météo : fortes pluies au Maroc", "Des précipitations à Tanger et à Fès.",
              3 * day, "fr"),
        draft("Fès célèbre son festival", "La ville de Fes accueille des musiciens.", day, "fr"),
        draft("Germany votes under pressure", "The election is watched by Morocco too.",
              4 * day, "en"),
        draft("Morocco's rains fill the dams", "Heavy rain in Tangier; the élection is over.",
              2 * day, "en"),
        draft("Rain, rain and more rain", "Morocco expects rain all week.", 5 * day, "en"),
        draft("الأمطار تعود إلى المغرب", "توقعات بأمطار غزيرة في طنجة وفاس.", 6 * day, "ar"),
        draft("إسرائيل وحماس: مفاوضات جديدة", "اسرائيل ترسل وفدا إلى القاهرة.", day, "ar"),
        draft("مؤتمر عن الانتخابات في المغرب", "ألمانيا تنتخب برلمانها.", 3 * day, "ar"),
        draft("نتائج الانتخابات الألمانية", "المانيا بعد الانتخابات.", 2 * day, "ar"),
    ]  # fmt: skip


def sample_drafts() -> list[ArticleDraft]:
    data = resources.files("bot") / "data"
    drafts = parse_dump(
        (data / "sample_news.txt").read_text(encoding="utf-8"), source="هسبريس", tz=TZ
    )
    index = parse_topic_index((data / "sample_topics.txt").read_text(encoding="utf-8"))
    return with_topics(drafts, index)


QUERIES = [
    # Arabic: with and without the article, hamza and other letter forms, vowels, suffixes.
    "المغرب", "مغرب", "المغربي", "المَغْرِبِيَّة", "بالمغرب",
    "ألمانيا", "المانيا", "إسرائيل", "اسرائيل", "الانتخابات", "انتخابات", "السمك",
    "الأمطار", "امطار", "الملك", "مصرع", "الكلاسيكو",
    # French: accents and case folded.
    "élections", "elections", "ÉLECTIONS", "Fès", "fes", "météo", "maroc", "Maroc",
    # English.
    "Morocco", "rain", "rains", "the election",
    # Prefixes of indexed words, which are words of their own to search.
    "مغ", "انتخ", "élect", "Mor", "ra",
    # Several words.
    "انتخابات ألمانيا", "الانتخابات المغرب", "السمك المغربي", "rain Morocco",
    "élection maroc", "Maroc CAN",
    # Nothing matches.
    "xyzzy", "كلمةغيرموجودة", "Maroc xyzzy",
    # Query syntax of either engine is only words.
    'NEAR(maroc fes) OR "rain"', "rain & !morocco", "maroc:* | fes", "rain's",
]  # fmt: skip


@pytest.fixture
async def both(tmp_path, postgres_db_url) -> AsyncIterator[tuple[Connection, Connection]]:
    """The same articles stored on SQLite and on PostgreSQL."""
    opened = []
    try:
        for location in (tmp_path / "search.sqlite3", postgres_db_url):
            db = await database.connect(location, index_terms=search_text.index_text)
            opened.append(db)
            await store(db, sample_drafts())
            await store(db, more_articles())
        yield opened[0], opened[1]
    finally:
        for db in opened:
            await db.close()


async def store(db: Connection, drafts: list[ArticleDraft]) -> None:
    await store_drafts(db, drafts, at=NOW)


async def every_page(db: Connection, query: str) -> tuple[list[int], int]:
    """The ids of every page of results, in order, and the count shown."""
    news = NewsService(db, page_size=4)
    first = await news.search(query)
    ids = [a.id for a in first.articles]
    for page in range(2, first.page.count + 1):
        ids += [a.id for a in (await news.search(query, page=page)).articles]
    return ids, first.total


async def test_every_query_finds_the_same_articles_in_the_same_order_on_both(both):
    sqlite, postgres = both
    found_any = 0
    for query in QUERIES:
        on_sqlite = await every_page(sqlite, query)
        assert await every_page(postgres, query) == on_sqlite, query
        assert len(on_sqlite[0]) == on_sqlite[1], query
        found_any += bool(on_sqlite[1])
    # The comparison means something only if most queries find something.
    assert found_any >= len(QUERIES) * 2 // 3


async def test_title_matches_come_first_then_the_newest_on_both(both):
    for db in both:
        ids, _ = await every_page(db, "élections")
        titles = [(await NewsService(db, page_size=4).article(i)).title for i in ids]
        assert titles == ["Élections législatives en Allemagne", "Le Maroc accueille la CAN"]


async def test_a_window_of_newest_matches_is_ordered_the_same_way_on_both(both):
    sqlite, postgres = both
    for query in ("المغرب", "rain", "الانتخابات"):
        terms = search_text.search_query(query)
        for window in (1, 2, 3, 5):
            expected = await article_search.search(sqlite, terms, limit=10, window=window)
            found = await article_search.search(postgres, terms, limit=10, window=window)
            assert [a.id for a in found[0]] == [a.id for a in expected[0]], (query, window)
            assert found[1] == expected[1] == min(window, expected[1])
        past_the_end = [
            await article_search.search(db, terms, limit=5, offset=50, window=3) for db in both
        ]
        assert past_the_end[0] == past_the_end[1] == ([], min(3, expected[1]))


async def test_related_headlines_are_the_same_articles_on_both(both):
    sqlite, postgres = both
    total = (await NewsService(sqlite, page_size=8).latest()).total
    related_somewhere = 0
    for article_id in range(1, total + 1):
        _, on_sqlite = await NewsService(sqlite, page_size=50).related(article_id)
        _, on_postgres = await NewsService(postgres, page_size=50).related(article_id)
        assert {a.id for a in on_postgres} == {a.id for a in on_sqlite}, article_id
        related_somewhere += bool(on_sqlite)
    assert related_somewhere >= 5


async def test_nothing_searchable_is_refused_before_either_engine_is_asked(both):
    for db in both:
        for query in ("؟!", "ال", "و", "---"):
            with pytest.raises(NothingSearchable):
                await NewsService(db, page_size=4).search(query)
