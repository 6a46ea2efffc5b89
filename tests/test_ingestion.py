"""Ingestion end to end: sources served from loopback, through fetching, parsing and storage."""

from datetime import UTC, datetime
from importlib import resources

import pytest

from bot.config import Config, IngestionConfig, SourceConfig, StorageConfig
from bot.services import open_services
from tests.support.feeds import FeedServer, item, rss

NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)
GOOD = rss(
    item(
        "المغرب يعود إلى الساعة القانونية",
        "https://news.test/1",
        body="<p>يعود <b>المغرب</b> إلى الساعة القانونية.</p><p>فقرة ثانية.</p>",
        date="Sun, 23 Feb 2025 10:00:00 +0000",
        image="https://news.test/1.jpg",
    ),
    item(
        "الصين تطلق قمرا صناعيا جديدا",
        "https://news.test/2",
        date="Sun, 23 Feb 2025 08:00:00 +0000",
    ),
)


@pytest.fixture
async def services(db_path, feeds):
    config = Config(
        storage=StorageConfig(path=str(db_path)),
        ingestion=IngestionConfig(
            max_bytes=50_000, timeout_seconds=5, allowed_networks=("127.0.0.0/8",)
        ),
    )
    opened = await open_services(config, clock=lambda: NOW)
    yield opened
    await opened.close()


def source(feeds: FeedServer, name: str, path: str) -> SourceConfig:
    return SourceConfig(name=name, url=feeds.url(path), topics=("maroc",))


async def test_a_feed_is_stored_with_clean_text_date_and_image(services, feeds):
    feeds.publish("/good.xml", GOOD)
    [report] = await services.ingestion.ingest_all([source(feeds, "good", "/good.xml")])
    assert (report.new, report.duplicate, report.failed) == (2, 0, False)
    listing = await services.news.latest()
    first = listing.articles[0]
    assert first.title == "المغرب يعود إلى الساعة القانونية"
    assert first.body == "يعود المغرب إلى الساعة القانونية.\n\nفقرة ثانية."
    assert first.published_at == datetime(2025, 2, 23, 10, 0, tzinfo=UTC)
    assert first.image_url == "https://news.test/1.jpg"
    assert first.topics == ("maroc",)


async def test_ingesting_again_stores_nothing_new_and_uses_conditional_get(services, feeds):
    feeds.publish("/good.xml", GOOD)
    sources = [source(feeds, "good", "/good.xml")]
    await services.ingestion.ingest_all(sources)
    [again] = await services.ingestion.ingest_all(sources)
    assert again.new == 0 and again.not_modified
    assert feeds.not_modified["/good.xml"] == 1
    assert (await services.news.latest()).total == 2


async def test_one_failing_source_never_stops_the_others(services, feeds):
    feeds.publish("/broken.xml", "<rss><channel><item><title>نص غير مكتمل")
    feeds.publish("/huge.xml", rss(item("كبير", "https://news.test/big", body="ح" * 60_000)))
    feeds.publish("/page.html", "<html><body><h1>not a feed</h1></body></html>", "text/html")
    feeds.publish("/good.xml", GOOD)
    reports = await services.ingestion.ingest_all(
        [
            source(feeds, "broken", "/broken.xml"),
            source(feeds, "huge", "/huge.xml"),
            source(feeds, "missing", "/missing.xml"),
            source(feeds, "page", "/page.html"),
            source(feeds, "good", "/good.xml"),
        ]
    )
    outcome = {r.name: r for r in reports}
    assert outcome["huge"].failed and outcome["missing"].failed and outcome["page"].failed
    assert outcome["good"].new == 2
    assert all(r.error is None or len(r.error) < 200 for r in reports)
    stored = {a.title for a in (await services.news.latest(size=20)).articles}
    assert "كبير" not in stored
    assert "المغرب يعود إلى الساعة القانونية" in stored


async def test_the_shipped_sample_loads_once_into_an_empty_database(services):
    report = await services.ingestion.load_sample_if_empty()
    assert (report.new, report.duplicate) == (59, 0)
    assert await services.ingestion.load_sample_if_empty() is None
    listing = await services.news.latest(size=20)
    assert listing.total == 59
    assert listing.articles[0].title == "رسالة مفتوحة إلى عبد السلام أحيزون"


async def test_importing_the_same_dump_twice_adds_nothing(services, tmp_path):
    dump = tmp_path / "dump.txt"
    sample = (await services.ingestion.load_sample_if_empty()).new
    dump.write_bytes((resources.files("bot") / "data" / "sample_news.txt").read_bytes())
    report = await services.ingestion.import_file(dump, source="هسبريس")
    assert (report.new, report.duplicate) == (0, sample)


async def test_importing_a_missing_or_binary_file_reports_a_clear_error(services, tmp_path):
    missing = await services.ingestion.import_file(tmp_path / "nope.txt", source="x")
    assert missing.failed and "nope.txt" in missing.error
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81" * 100)
    report = await services.ingestion.import_file(binary, source="x")
    assert report.failed
    assert (await services.news.latest()).total == 0


@pytest.fixture
async def limited(db_path):
    """Services whose [ingestion] keeps titles to 100 characters and bodies to 1,000."""
    config = Config(
        storage=StorageConfig(path=str(db_path)),
        ingestion=IngestionConfig(
            max_bytes=50_000,
            max_title_chars=100,
            max_body_chars=1_000,
            allowed_networks=("127.0.0.0/8",),  # the feeds are served from loopback
        ),
    )
    opened = await open_services(config, clock=lambda: NOW)
    yield opened
    await opened.close()


def assert_cut_at_a_word(original: str, stored: str, limit: int) -> None:
    assert len(stored) <= limit and stored.endswith("…")
    assert original.startswith(stored[:-1]) and original[len(stored) - 1] == " "


async def test_overlong_feed_titles_and_bodies_are_cut_to_the_limits(limited, feeds):
    title = ("عنوان طويل جدا " * 20).strip()  # 299 characters
    body = ("فقرة من نص طويل. " * 200).strip()  # 3,399 characters
    feeds.publish("/long.xml", rss(item(title, "https://news.test/long", body=f"<p>{body}</p>")))
    [report] = await limited.ingestion.ingest_all([source(feeds, "long", "/long.xml")])
    assert (report.new, report.shortened) == (1, 1)
    [stored] = (await limited.news.latest()).articles
    article = await limited.news.article(stored.id)
    assert_cut_at_a_word(title, article.title, 100)
    assert_cut_at_a_word(body, article.body, 1_000)


async def test_overlong_dump_titles_are_cut_before_their_links_are_made(limited, tmp_path):
    dump = tmp_path / "dump.txt"
    dump.write_text(
        f"{'مقال ' * 1_000}\nنشر في هسبريس يوم 23 - 02 - 2025\nنص المقال.\n", encoding="utf-8"
    )
    report = await limited.ingestion.import_file(
        dump, source="x", link_template="https://news.test/?s={title}"
    )
    assert (report.new, report.shortened) == (1, 1)
    [article] = (await limited.news.latest()).articles
    assert_cut_at_a_word("مقال " * 1_000, article.title, 100)
    assert len(article.url) < 1_000  # built from the cut title, not from 5,000 characters
