"""The lxml fast path for plain RSS 2.0 gives exactly what feedparser gives, or steps aside."""

from zoneinfo import ZoneInfo

import pytest

from bot.ingestion import feed_parsing
from bot.ingestion.feed_parsing import parse_feed

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<channel><title>t</title><link>https://site.test/</link>{language}"
)
ITEMS = """
<item><title>الحكومةُ تُعلِنُ خُطّةً  جديدة</title><link>https://site.test/a/1</link>
  <guid isPermaLink="false">site-1</guid><pubDate>Sun, 23 Feb 2025 10:30:00 +0100</pubDate>
  <category>سياسة</category><category></category><category>Economy</category>
  <category>economy</category><description>ملخص &lt;b&gt;قصير&lt;/b&gt;</description>
  <content:encoded><![CDATA[<p>الفقرة&nbsp;الأولى</p><p>الثانية <img src="/i.jpg"></p>]]>
  </content:encoded><dc:creator>كاتب</dc:creator><author>a@site.test</author></item>
<item><title>&lt;b&gt;bold&lt;/b&gt; news &amp;amp; more</title><guid>https://site.test/a/2</guid>
  <description>&lt;p&gt;نص &lt;img src="https://cdn.test/in-body.jpg"&gt;&lt;/p&gt;</description>
  <enclosure url="https://cdn.test/a.mp3" type="audio/mpeg" length="1"/>
  <enclosure url="/b.png" type="image/png" length="1"/>
  <pubDate>الأحد 23 فبراير 2025</pubDate></item>
<item><title>Use &lt;b&gt; for bold &amp; more</title><guid>https://site.test/a/3</guid>
  <link>https://site.test/a/3-link</link><media:thumbnail url="https://cdn.test/t.jpg"/>
  <pubDate>2024-05-01T08:00:00Z</pubDate></item>
<item><title>Ã©tÃ© Ã  Paris</title><link>https://site.test/a/4</link>
  <media:content url="https://cdn.test/v.mp4" medium="video"/>
  <media:content url="https://cdn.test/p.jpg" type="image/jpeg"/></item>
<item><title>عنوان يتكرر</title><link>https://site.test/a/5</link>
  <description>عنوان يتكرر</description></item>
<item><description>نص بلا عنوان ولا رابط</description></item>
<item><content:encoded>   </content:encoded><link>https://site.test/a/7</link></item>
<item><link>https://site.test/a/8</link>
  <description>&lt;p&gt;جملة أولى طويلة&lt;/p&gt;</description></item>
<item><title>  </title><guid isPermaLink="true">https://site.test/a/9?x=1</guid></item>
<item><title>x</title><guid isPermaLink="False">not-a-link</guid></item>
"""
TAIL = "</channel></rss>"


def document(language: str = "<language>ar-MA</language>", items: str = ITEMS) -> bytes:
    return (HEAD.format(language=language) + items + TAIL).encode()


def parse_both(content: bytes, monkeypatch, **options):
    options = {"source": "s", "language": "fr", "topics": ("المغرب",), **options}
    fast = parse_feed(content, **options)
    with monkeypatch.context() as patched:
        patched.setattr(feed_parsing, "_plain_rss", lambda *_: None)
        slow = parse_feed(content, **options)
    return fast, slow


@pytest.mark.parametrize("base_url", [None, "https://site.test/rss"])
@pytest.mark.parametrize("language", ["<language>ar-MA</language>", ""])
def test_plain_rss_takes_the_fast_path_and_matches_feedparser(monkeypatch, base_url, language):
    content = document(language)
    assert feed_parsing._plain_rss(content, base_url) is not None
    fast, slow = parse_both(
        content, monkeypatch, base_url=base_url, tz=ZoneInfo("Africa/Casablanca")
    )
    assert fast == slow
    assert len(fast) == 9


@pytest.mark.parametrize(
    "change",
    [
        ("<link>https://site.test/a/4</link>", "<link>/relative</link>"),
        ("<link>https://site.test/a/5</link>", "<link>https://site.test/?a=1&amp;b=2</link>"),
        ("<dc:creator>كاتب</dc:creator>", "<source url='https://x.test/'>x</source>"),
        ("<category>سياسة</category>", "<category domain='d'>سياسة</category>"),
        ("<title>عنوان يتكرر</title>", "<title>عنوان</title><title>ثان</title>"),
        ("<title>عنوان يتكرر</title>", "<title>عنوان <!-- c --> يتكرر</title>"),
        ("<item>", "<item xml:lang='en'>"),
    ],
)
def test_anything_unusual_is_left_to_feedparser(monkeypatch, change):
    content = document(items=ITEMS.replace(*change, 1))
    assert feed_parsing._plain_rss(content, None) is None
    fast, slow = parse_both(content, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize(
    "content",
    [
        document().replace(b'encoding="UTF-8"', b'encoding="windows-1256"'),
        document().replace(b'version="2.0"', b'version="0.91"'),
        document(language="<language>ar</language><dc:language>fr</dc:language>"),
        document().replace(b"<title>Use", "<title>\u0085Use".encode()),
        document() + b"<rss/>",
    ],
)
def test_other_documents_are_left_to_feedparser(content):
    assert feed_parsing._plain_rss(content, None) is None
