from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot import formatting
from bot.i18n.catalogs import Catalogs, TextStyle
from bot.models import Article
from emulator.html_parser import parse_html

TZ = ZoneInfo("Africa/Casablanca")
AR = Catalogs("ar").texts("ar")


def article(**fields) -> Article:
    values = dict(
        id=7,
        source="هسبريس",
        title="عنوان",
        body=None,
        url=None,
        published_at=None,
        fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
        language="ar",
    )
    values.update(fields)
    return Article(**values)


def test_feed_markup_in_titles_is_shown_as_text_not_parsed():
    html = formatting.headline_list(AR, "t", [article(title="<b>x</b> & <script>")], None, TZ)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;" in html
    parse_html(html)  # Telegram would accept it


def test_long_body_is_split_between_paragraphs_within_the_limit():
    paragraph = "كلمة " * 300
    body = "\n\n".join(f"{n} {paragraph}" for n in range(20))
    view = formatting.article_view(AR, article(body=body), TZ)
    assert len(view.messages) > 1
    for message in view.messages:
        assert parse_html(message).length <= formatting.MESSAGE_LIMIT
    assert all(m.split("\n\n")[-1].strip().endswith("كلمة") for m in view.messages)


def test_single_huge_paragraph_with_entities_is_cut_between_words():
    body = " ".join(["a&b<c>"] * 3000)
    view = formatting.article_view(AR, article(body=body), TZ)
    texts = [parse_html(m) for m in view.messages]
    assert all(t.length <= formatting.MESSAGE_LIMIT for t in texts)
    words = " ".join(t.text for t in texts).split()
    assert words.count("a&b<c>") == 3000


def test_article_date_line_names_the_moroccan_month_in_the_chats_zone():
    published = datetime(2019, 3, 19, 23, 30, tzinfo=UTC)  # 20 March in Casablanca (UTC+1)
    view = formatting.article_view(AR, article(body="نص", published_at=published), TZ)
    assert "نشر في هسبريس يوم 20 مارس 2019" in view.messages[0]


def test_the_numeric_date_style_keeps_the_source_format():
    numeric = Catalogs("ar", TextStyle(date_style="numeric")).texts("ar")
    published = datetime(2019, 3, 19, 23, 30, tzinfo=UTC)
    view = formatting.article_view(numeric, article(body="نص", published_at=published), TZ)
    assert "نشر في هسبريس يوم 20 - 03 - 2019" in view.messages[0]


def test_photo_caption_stays_within_the_caption_limit():
    view = formatting.article_view(
        AR, article(title="ع" * 2000, body="نص", image_url="https://x.test/a.jpg"), TZ
    )
    assert view.photo_url == "https://x.test/a.jpg"
    assert parse_html(view.caption).length <= formatting.CAPTION_LIMIT


def test_headline_only_article_says_the_text_is_not_stored():
    view = formatting.article_view(AR, article(url="https://x.test/a"), TZ)
    assert AR("read-headline-only-link", source="هسبريس") in view.messages[0]


def test_twenty_very_long_headlines_still_fit_in_one_message():
    articles = [article(id=n, title="عنوان طويل جدا " * 30) for n in range(100000, 100020)]
    html = formatting.headline_list(AR, "آخر الأخبار", articles, formatting.Page(1, 9), TZ)
    assert parse_html(html).length <= formatting.MESSAGE_LIMIT
    assert html.count("…") == 20


def test_a_huge_title_does_not_overflow_the_first_message():
    view = formatting.article_view(AR, article(title="ع" * 6000, body="نص"), TZ)
    assert all(parse_html(m).length <= formatting.MESSAGE_LIMIT for m in view.messages)
