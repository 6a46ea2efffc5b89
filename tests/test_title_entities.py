"""Character references left in a title after parsing are decoded, as feed readers do.

Publishers often escape titles twice (`&amp;amp;` in the XML), which leaves "&amp;" in the
parsed title. Akhbar decodes complete references still there (up to three levels) and leaves a
bare "&" alone; the deliberate price is that a title meaning "&lt;b&gt;" literally shows "<b>".
The same rule holds for RSS read by lxml or by feedparser, for Atom, and for news dumps.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.config import SourceConfig
from bot.ingestion.dumps import parse_dump
from bot.ingestion.feed_parsing import parse_feed
from tests.support.feeds import item, rss

# (the title as written in the XML, what readers see)
CASES = [
    ("Tom &amp;amp; Jerry", "Tom & Jerry"),
    ("L&amp;#039;économie marocaine", "L'économie marocaine"),
    ("L&amp;apos;économie", "L'économie"),
    ("&amp;quot;Nous y sommes&amp;quot;, dit-il", '"Nous y sommes", dit-il'),
    ("Tom &amp;amp;amp; Jerry", "Tom & Jerry"),  # escaped three times
    ("AT&amp;T rachète", "AT&T rachète"),
    ("R&amp;D: le Maroc investit", "R&D: le Maroc investit"),
    ("Q&amp;A &amp;amp; R&amp;D", "Q&A & R&D"),
    ("Use &lt;b&gt; for bold", "Use <b> for bold"),
    ("&amp;lt;b&amp;gt; is a tag", "<b> is a tag"),  # the price: no literal "&lt;b&gt;"
    ("fish &amp;amp chips", "fish &amp chips"),  # incomplete reference: left as written
    ("المغرب &amp;amp; فرنسا: شراكة جديدة", "المغرب & فرنسا: شراكة جديدة"),
    ("&amp;#1605;&amp;#1594;&amp;#1585;&amp;#1576; &amp;quot;اليوم&amp;quot;", 'مغرب "اليوم"'),
    ("الرباط&amp;nbsp;&amp;nbsp;تستضيف", "الرباط تستضيف"),
]
IDS = [written for written, _ in CASES]


def rss_document(title: str, *, lxml_path: bool) -> bytes:
    # xml:lang sends the document to feedparser instead of the lxml fast path.
    root = '<rss version="2.0">' if lxml_path else '<rss version="2.0" xml:lang="ar">'
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{root}<channel><item><title>{title}</title>'
        "<link>https://news.test/1</link></item></channel></rss>"
    ).encode()


def atom_document(title: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>f</title><entry><title type="text">{title}</title>'
        '<link href="https://news.test/1"/><id>1</id></entry></feed>'
    ).encode()


def parsed_title(document: bytes) -> str:
    [draft] = parse_feed(document, source="s", language="ar", topics=())
    return draft.title


@pytest.mark.parametrize(("written", "shown"), CASES, ids=IDS)
def test_rss_titles_read_by_lxml_and_by_feedparser_agree(written, shown):
    assert parsed_title(rss_document(written, lxml_path=True)) == shown
    assert parsed_title(rss_document(written, lxml_path=False)) == shown


@pytest.mark.parametrize(("written", "shown"), CASES, ids=IDS)
def test_atom_text_titles_follow_the_same_rule(written, shown):
    assert parsed_title(atom_document(written)) == shown


def test_feed_categories_follow_the_same_rule():
    document = rss_document("عنوان", lxml_path=True).replace(
        b"</title>",
        b"</title><category>Arts &amp;amp; Culture</category><category>AT&amp;T</category>",
    )
    [draft] = parse_feed(document, source="s", language="ar", topics=("maroc",))
    assert draft.topics == ("maroc", "arts & culture", "at&t")


def test_dump_headlines_follow_the_same_rule():
    dump = "Tom &amp; Jerry\nL&#039;économie\nAT&T\n"
    drafts = parse_dump(dump, source="s", tz=ZoneInfo("Africa/Casablanca"))
    assert [d.title for d in drafts] == ["Tom & Jerry", "L'économie", "AT&T"]


async def test_a_double_escaped_title_reaches_the_user_with_a_plain_ampersand(
    akhbar, emulator, feeds
):
    title = "المغرب &amp;amp; فرنسا: l&amp;apos;accord"  # &apos; kept feedparser from decoding
    feeds.publish("/feed.xml", rss(item(title, "https://news.test/amp")))
    source = SourceConfig(name="twice", url=feeds.url("/feed.xml"))
    report = await akhbar.bot_data.services.ingestion.ingest_source(source)
    assert report.new == 1
    await emulator.send_text(7, "/latest 1")
    reply = await emulator.next_message(7)
    assert "المغرب & فرنسا: l'accord" in reply.text
