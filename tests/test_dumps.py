from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import bot
from bot.ingestion.dumps import SKIPPED_INTERFACE_LINES, parse_dump

SAMPLE = Path(bot.__file__).parent / "data" / "sample_news.txt"
CASABLANCA = ZoneInfo("Africa/Casablanca")
READ_AT_SOURCE = "انقر هنا لقراءة الخبر من مصدره."


@pytest.fixture(scope="module")
def sample_text() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def parse(text: str, **kwargs):
    return parse_dump(text, source="ملخص", tz=CASABLANCA, **kwargs)


def article_block(title: str, source: str, date: str, *paragraphs: str) -> str:
    return "\n".join([title, f"نشر في {source} يوم {date}", "", *paragraphs, "", READ_AT_SOURCE])


def test_sample_gives_58_headlines_then_one_article(sample_text):
    drafts = parse(sample_text)
    headlines, articles = drafts[:-1], drafts[-1:]
    assert len(headlines) == 58
    assert headlines[0].title == "رسالة مفتوحة إلى عبد السلام أحيزون"
    assert headlines[1].title == "مصرع أربعة أشخاص بأسفي طفلين وأمهما وعمهما احترق منزلهم"
    assert headlines[-1].title == "التصوف المغربي.. دلالة الرمز والفعل"
    assert all(h.body is None and h.url is None and h.published_at is None for h in headlines)
    assert {h.source for h in headlines} == {"ملخص"}
    assert len(articles) == 1


def test_sample_article_fields(sample_text):
    article = parse(sample_text, source_url="https://www.hespress.com/")[-1]
    assert article.title == 'تنظيم "داعش" يفقد معظم جيوبه في شرق آسيا'
    assert article.source == "هسبريس"
    assert article.published_at == datetime(2019, 3, 20, tzinfo=CASABLANCA).astimezone(UTC)
    assert article.body.startswith("قالت قوات سوريا الديمقراطية")
    assert article.body.endswith("التي تسيطر عليها قوات سوريا الديمقراطية.")
    assert "\n\n*خطر العودة\n\n" in article.body
    assert article.body.count("\n\n") == 23  # 24 paragraphs
    assert article.url == "https://www.hespress.com/"
    assert article.language == "ar"


def test_interface_lines_never_become_news(sample_text):
    texts = [d.title for d in parse(sample_text)] + [parse(sample_text)[-1].body]
    for prefix in SKIPPED_INTERFACE_LINES:
        assert not any(prefix in text for text in texts)
    assert not any("انقر هنا" in text for text in texts)


def test_guids_are_stable_and_distinct(sample_text):
    first, second = parse(sample_text), parse(sample_text)
    assert [d.guid for d in first] == [d.guid for d in second]
    assert len({d.guid for d in first}) == len(first)
    assert all(d.guid.startswith("dump:") for d in first)


def test_crlf_bom_and_trailing_whitespace_give_the_same_result(sample_text):
    messy = "\ufeff" + "\r\n".join(line + "  \t" for line in sample_text.split("\n"))
    assert parse(messy) == parse(sample_text)


def test_several_articles_each_with_own_source_and_date():
    text = "\n\n".join(
        [
            article_block("العنوان الأول", "هسبريس", "01 - 02 - 2024", "فقرة أ"),
            article_block("العنوان الثاني", "الأيام 24", "15 / 06 / 2023", "فقرة ب", "فقرة ج"),
        ]
    )
    first, second = parse(text)
    assert (first.title, first.source, first.body) == ("العنوان الأول", "هسبريس", "فقرة أ")
    assert (second.title, second.source, second.body) == (
        "العنوان الثاني",
        "الأيام 24",
        "فقرة ب\n\nفقرة ج",
    )
    assert first.published_at == datetime(2024, 1, 31, 23, tzinfo=UTC)
    assert second.published_at == datetime(2023, 6, 14, 23, tzinfo=UTC)


def test_block_without_date_line_is_still_an_article():
    text = "عنوان بلا تاريخ\nالفقرة الأولى\nالفقرة الثانية\nانقر هنا لقراءة الخبر من مصدره"
    (article,) = parse(text)
    assert article.title == "عنوان بلا تاريخ"
    assert article.source == "ملخص"
    assert article.published_at is None
    assert article.body == "الفقرة الأولى\n\nالفقرة الثانية"


def test_link_on_the_read_at_source_line_or_the_next_line_is_the_url():
    inline = article_block("أ", "هسبريس", "01 - 02 - 2024", "نص").replace(
        READ_AT_SOURCE, READ_AT_SOURCE + " https://example.ma/a"
    )
    next_line = article_block("ب", "هسبريس", "01 - 02 - 2024", "نص") + "\nhttps://example.ma/b\n"
    drafts = parse(inline + "\n" + next_line, source_url="https://fallback.ma/")
    assert [d.url for d in drafts] == ["https://example.ma/a", "https://example.ma/b"]


def test_headline_ticker_after_an_article_is_read_too():
    text = (
        article_block("عنوان", "هسبريس", "01 - 02 - 2024", "نص")
        + "\nخبر أ\xa0\xa0\xa0خبر ب\xa0\xa0"
    )
    assert [d.title for d in parse(text)] == ["عنوان", "خبر أ", "خبر ب"]


def test_empty_dump_gives_nothing():
    assert parse("") == []
    assert parse("\n\n" + "\n".join(SKIPPED_INTERFACE_LINES)) == []
