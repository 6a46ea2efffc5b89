"""RSS 2.0 documents for synthetic articles, cached on disk by generator version."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from bench.synthetic import GENERATOR_VERSION, SyntheticArticle, generate

__all__ = ["ITEMS_PER_FEED", "feed_files", "rss_document"]

ITEMS_PER_FEED = 500

_HEAD = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:media="http://search.yahoo.com/mrss/">\n<channel>\n'
    "<title>أخبار تجريبية</title><link>https://news.example/</link>"
    "<description>synthetic</description><language>ar-MA</language>\n"
)
_TAIL = "</channel>\n</rss>\n"


def _item(article: SyntheticArticle) -> str:
    d = article.draft
    assert d.published_at is not None and d.body is not None
    categories = "".join(f"<category>{escape(topic)}</category>" for topic in d.topics)
    paragraphs = "".join(f"<p>{escape(p)}</p>\n" for p in d.body.split("\n\n"))
    image = f'<media:content url={quoteattr(d.image_url)} medium="image"/>' if d.image_url else ""
    return (
        f"<item><title>{escape(d.title)}</title><link>{escape(d.url or '')}</link>"
        f'<guid isPermaLink="false">{escape(d.guid or "")}</guid>'
        f"<pubDate>{format_datetime(d.published_at)}</pubDate>{categories}"
        f"<description>{escape(article.summary)}</description>"
        f"<content:encoded><![CDATA[{paragraphs}]]></content:encoded>{image}</item>\n"
    )


def rss_document(articles: Sequence[SyntheticArticle]) -> bytes:
    """One feed of `articles`, newest first as news sites publish them."""
    return (_HEAD + "".join(_item(a) for a in reversed(articles)) + _TAIL).encode("utf-8")


def feed_files(count: int, folder: Path) -> list[Path]:
    """Write (or reuse) feeds holding `count` articles, oldest feed first; return their paths."""
    target = folder / f"feeds-v{GENERATOR_VERSION}-{count}"
    done = target / "complete"
    if not done.exists():
        target.mkdir(parents=True, exist_ok=True)
        articles = generate(count)
        for start in range(0, count, ITEMS_PER_FEED):
            path = target / f"{start // ITEMS_PER_FEED:05d}.xml"
            path.write_bytes(rss_document(articles[start : start + ITEMS_PER_FEED]))
        done.touch()
    return sorted(target.glob("*.xml"))
