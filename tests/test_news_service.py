"""The news service over a real database, SQLite and PostgreSQL: storing, de-duplicating,
listing and searching."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.config import IngestionConfig
from bot.errors import ArticleNotFound, NothingSearchable, QueryTooLong
from bot.ingestion.service import IngestionService
from bot.models import ArticleDraft
from bot.reading.news import NewsService
from storage import database, postgres
from storage.connection import is_postgres

NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def services(db):
    async with httpx.AsyncClient() as client:
        ingestion = IngestionService(
            db,
            settings=IngestionConfig(),
            tz=ZoneInfo("Africa/Casablanca"),
            client=client,
            clock=lambda: NOW,
        )
        yield ingestion, NewsService(db, page_size=3)


def draft(title: str, **fields) -> ArticleDraft:
    return ArticleDraft(source=fields.pop("source", "src"), title=title, **fields)


@pytest.mark.sqlite_only
async def test_database_runs_in_wal_mode(db):
    async with db.execute("PRAGMA journal_mode") as cursor:
        assert (await cursor.fetchone())[0] == "wal"


async def test_database_is_at_the_latest_schema_and_migrating_again_changes_nothing(db):
    scripts = postgres.migrations() if is_postgres(db) else database._migrations()
    latest = max(number for number, _ in scripts)
    assert await database.migrate(db) == latest


async def test_duplicates_by_url_guid_or_title_are_not_stored_twice(services):
    ingestion, news = services
    first = [
        draft("أول خبر", url="https://a.test/1"),
        draft("ثاني خبر", guid="g-2"),
        draft("ثالث خبر"),
    ]
    assert await ingestion.store(first) == (3, 0)
    again = [
        draft("عنوان آخر", url="https://a.test/1"),
        draft("عنوان مختلف", guid="g-2"),
        draft("ثَالِث خَبَر!"),  # same headline with vowels and punctuation
    ]
    assert await ingestion.store(again) == (0, 3)
    assert (await news.latest()).total == 3


async def test_duplicates_within_one_batch_are_counted_exactly(services):
    ingestion, news = services
    # A feed lists newest first and is stored oldest first: of two items sharing a key, the
    # one further down the feed is kept.
    batch = [
        draft("خبر أول", url="https://a.test/1"),
        draft("خبر ثان", url="https://a.test/1"),  # same address
        draft("خبر ثالث", guid="g"),
        draft("خبر رابع", guid="g"),  # same guid from the same source
        draft("خَبَر أوَّل"),  # the first headline again, written with vowels
        draft("خبر خامس"),
    ]
    assert await ingestion.store(batch) == (4, 2)
    assert await ingestion.store([draft("خبر سادس"), *batch]) == (1, 6)
    listing = await news.latest(size=10)
    assert [a.title for a in listing.articles] == [
        "خبر سادس", "خبر ثان", "خبر رابع", "خَبَر أوَّل", "خبر خامس"
    ]  # fmt: skip


async def test_latest_lists_newest_first_and_keeps_the_source_order_for_undated_items(services):
    ingestion, news = services
    await ingestion.store([draft("قديم", published_at=NOW - timedelta(days=400))])
    await ingestion.store([draft("الأول في الشريط"), draft("الثاني"), draft("الثالث")])
    listing = await news.latest()
    assert [a.title for a in listing.articles] == ["الأول في الشريط", "الثاني", "الثالث"]
    assert listing.page.count == 2
    second = await news.latest(page=2)
    assert [a.title for a in second.articles] == ["قديم"]


async def test_latest_filters_by_topic(services):
    ingestion, news = services
    await ingestion.store(
        [draft("رياضة", topics=("sport",)), draft("سياسة", topics=("politique",))]
    )
    listing = await news.latest(topic="sport")
    assert [a.title for a in listing.articles] == ["رياضة"]
    assert await news.topics() == ["politique", "sport"]


async def test_unknown_article_id_raises_not_found(services):
    _, news = services
    with pytest.raises(ArticleNotFound):
        await news.article(999999)


async def test_search_finds_arabic_words_whatever_their_form(services):
    ingestion, news = services
    await ingestion.store(
        [
            draft("الملك يهنئ إمبراطور اليابان", body="بمناسبة عيد ميلاده"),
            draft("مقاييس الأمطار بالمغرب في 24 ساعة"),
            draft("السينما المغربية تتألق في دبلن"),
        ]
    )
    for query in ("المغرب", "مغرب", "المَغْرِبِيَّة"):
        found = await news.search(query)
        assert {a.title for a in found.articles} == {
            "مقاييس الأمطار بالمغرب في 24 ساعة",
            "السينما المغربية تتألق في دبلن",
        }, query
    assert (await news.search("ميلاده")).total == 1


async def test_search_ranks_title_matches_above_body_matches(services):
    ingestion, news = services
    await ingestion.store(
        [draft("خبر عن الطقس", body="الحصبة في المدارس"), draft("الحصبة تنتشر", body="نص")]
    )
    found = await news.search("الحصبة")
    assert [a.title for a in found.articles] == ["الحصبة تنتشر", "خبر عن الطقس"]


async def test_search_pages_results(services):
    ingestion, news = services
    await ingestion.store([draft(f"المغرب {n}", body=f"نص رقم {n}") for n in range(7)])
    pages = [await news.search("المغرب", page=n) for n in (1, 2, 3)]
    assert [len(p.articles) for p in pages] == [3, 3, 1]
    assert pages[0].total == 7 and pages[0].page.count == 3
    seen = [a.id for p in pages for a in p.articles]
    assert len(set(seen)) == 7


async def test_search_rejects_empty_and_overlong_queries(services):
    _, news = services
    with pytest.raises(NothingSearchable):
        await news.search("؟!")
    with pytest.raises(QueryTooLong):
        await news.search("كلمة " * 100)
