from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import FeedParseError
from bot.ingestion.feed_parsing import parse_feed

RSS20 = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>هسبريس</title><link>https://www.hespress.com/</link><language>ar-MA</language>
  <item>
    <title>الحكومة تُعلِنُ خُطّةً جديدةً للماء</title>
    <link>/politique/123.html</link>
    <guid isPermaLink="false">hespress-123</guid>
    <pubDate>Sun, 23 Feb 2025 10:30:00 +0100</pubDate>
    <category>سياسة</category><category>Economy</category><category>economy</category>
    <description>ملخص قصير</description>
    <content:encoded><![CDATA[<p>الفقرة&nbsp;الأولى <a href="/x">رابط</a></p>
      <p>الفقرة الثانية</p><script>track()</script><img src="/inline.jpg">]]></content:encoded>
    <media:content url="https://cdn.hespress.com/photo.jpg" medium="image"/>
    <enclosure url="https://cdn.hespress.com/enclosure.jpg" type="image/jpeg" length="1"/>
  </item>
  <item>
    <title>خبر بصورة مرفقة</title>
    <link>https://www.hespress.com/b</link>
    <description>&lt;p&gt;نص &lt;img src="https://cdn.hespress.com/in-body.jpg"&gt;&lt;/p&gt;</description>
    <enclosure url="https://cdn.hespress.com/audio.mp3" type="audio/mpeg" length="1"/>
    <enclosure url="https://cdn.hespress.com/b.png" type="image/png" length="1"/>
  </item>
  <item>
    <title>خبر بصورة في النص فقط</title>
    <link>https://www.hespress.com/c</link>
    <description>&lt;p&gt;نص &lt;img src="/body.jpg"&gt;&lt;/p&gt;</description>
    <pubDate>الأحد 23 فبراير 2025</pubDate>
  </item>
  <item><title>عنوان يتكرر</title><link>https://www.hespress.com/d</link>
    <description>عنوان يتكرر</description></item>
  <item><description>عنصر بلا عنوان ولا رابط</description></item>
  <item><title>Use &lt;b&gt; for bold &amp; more</title><link>https://www.hespress.com/e</link></item>
</channel></rss>""".encode()

RSS10 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.org/"><title>RDF</title><link>https://example.org/</link>
    <description>d</description></channel>
  <item rdf:about="https://example.org/1"><title>\xd8\xa3\xd9\x88\xd9\x84</title>
    <link>https://example.org/1</link><dc:date>2024-05-01T08:00:00Z</dc:date>
    <description>First body</description></item>
  <item rdf:about="https://example.org/2"><title>Second</title><link>https://example.org/2</link></item>
</rdf:RDF>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">
  <title>مدونة</title><id>urn:feed</id><updated>2024-06-01T12:00:00Z</updated>
  <link href="https://blog.example/"/>
  <entry>
    <title type="html">&lt;em&gt;تحليل&lt;/em&gt; الأسبوع</title>
    <id>urn:entry:1</id>
    <link rel="alternate" href="https://blog.example/posts/1"/>
    <updated>2024-06-01T12:00:00+02:00</updated>
    <summary>ملخص</summary>
    <content type="html">&lt;h2&gt;مقدمة&lt;/h2&gt;&lt;p&gt;النص الكامل&lt;/p&gt;</content>
    <category term="تحليل"/>
  </entry>
</feed>""".encode()


def parse(content: bytes, **kwargs):
    options = {"source": "hespress", "language": "fr", "topics": ("المغرب",), **kwargs}
    return parse_feed(content, **options)


def test_rss20_arabic_item_keeps_diacritics_and_gets_clean_body():
    item = parse(RSS20, base_url="https://www.hespress.com/rss")[0]
    assert item.title == "الحكومة تُعلِنُ خُطّةً جديدةً للماء"
    assert item.body == "الفقرة الأولى رابط\n\nالفقرة الثانية"
    assert item.url == "https://www.hespress.com/politique/123.html"
    assert item.guid == "hespress-123"
    assert item.published_at == datetime(2025, 2, 23, 9, 30, tzinfo=UTC)
    assert item.source == "hespress"


def test_rss20_language_topics_and_media_image():
    item = parse(RSS20)[0]
    assert item.language == "ar"
    assert item.topics == ("المغرب", "سياسة", "economy")
    assert item.image_url == "https://cdn.hespress.com/photo.jpg"


def test_image_from_image_enclosure_then_from_body():
    items = parse(RSS20, base_url="https://www.hespress.com/rss")
    assert items[1].image_url == "https://cdn.hespress.com/b.png"
    assert items[2].image_url == "https://www.hespress.com/body.jpg"


def test_arabic_pubdate_falls_back_to_arabic_parser_in_given_zone():
    items = parse(RSS20, tz=ZoneInfo("Africa/Casablanca"))
    assert items[2].published_at == datetime(2025, 2, 22, 23, tzinfo=UTC)


def test_body_equal_to_title_is_dropped_and_empty_items_skipped():
    titles = [item.title for item in parse(RSS20)]
    assert "عنوان يتكرر" in titles
    assert parse(RSS20)[3].body is None
    assert len(titles) == 5  # the item with neither title nor link is skipped


def test_escaped_tag_in_title_stays_literal_text():
    assert parse(RSS20)[-1].title == "Use <b> for bold & more"


def test_rss10_items_in_document_order():
    items = parse(RSS10)
    assert [i.title for i in items] == ["أول", "Second"]
    assert items[0].published_at == datetime(2024, 5, 1, 8, tzinfo=UTC)
    assert items[0].body == "First body"
    assert items[1].body is None
    assert items[0].language == "fr"  # no feed language: the source's


def test_atom_entry_prefers_content_and_strips_html_title():
    (entry,) = parse(ATOM)
    assert entry.title == "تحليل الأسبوع"
    assert entry.body == "مقدمة\n\nالنص الكامل"
    assert entry.url == "https://blog.example/posts/1"
    assert entry.guid == "urn:entry:1"
    assert entry.published_at == datetime(2024, 6, 1, 10, tzinfo=UTC)
    assert entry.language == "ar"
    assert entry.topics == ("المغرب", "تحليل")


def test_malformed_xml_with_no_items_is_an_error():
    with pytest.raises(FeedParseError, match="not a readable feed"):
        parse(b"<rss><channel><title>broken</chan")


def test_html_page_is_not_a_feed():
    page = "<!DOCTYPE html><html><body><h1>مرحبا</h1><p>ليست خلاصة</p></body></html>".encode()
    with pytest.raises(FeedParseError):
        parse(page)


def test_malformed_feed_with_items_keeps_the_items():
    broken = RSS20.replace(b"</channel></rss>", b"<item><title>unclosed")
    assert [i.title for i in parse(broken)][:2] == [
        "الحكومة تُعلِنُ خُطّةً جديدةً للماء",
        "خبر بصورة مرفقة",
    ]


def test_valid_feed_without_items_gives_empty_list():
    assert parse(b'<rss version="2.0"><channel><title>t</title></channel></rss>') == []
