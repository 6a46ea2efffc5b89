"""RSS 0.9x/1.0/2.0 and Atom documents turned into article drafts."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urljoin

import feedparser

from bot.dates import parse_arabic_date, to_utc
from bot.errors import FeedParseError
from bot.html_text import clean_text, first_image_url, html_to_text
from bot.models import ArticleDraft

__all__ = ["parse_feed"]

_MAX_TOPICS = 12
_MAX_TOPIC_LENGTH = 40
_UNTITLED_LENGTH = 80


def parse_feed(
    content: bytes,
    *,
    source: str,
    language: str,
    topics: tuple[str, ...],
    base_url: str | None = None,
    tz: tzinfo = UTC,
) -> list[ArticleDraft]:
    """Return the feed's entries as drafts in document order; raise FeedParseError if unreadable.

    `tz` is only used for dates feedparser cannot read and that carry no zone of their own.
    """
    headers = {"content-location": base_url} if base_url else None
    # Everything is reduced to plain text, so feedparser's slow HTML sanitiser buys nothing.
    parsed = feedparser.parse(
        content, sanitize_html=False, resolve_relative_uris=False, response_headers=headers
    )
    if not parsed.entries:
        _check_empty_feed(parsed)
        return []
    feed_language = _primary_language(parsed.feed.get("language")) or language
    drafts = []
    for entry in parsed.entries:
        draft = _to_draft(entry, source=source, language=feed_language, topics=topics,
                          base_url=base_url, tz=tz)  # fmt: skip
        if draft is not None:
            drafts.append(draft)
    return drafts


def _check_empty_feed(parsed: Any) -> None:
    if parsed.bozo:
        reason = " ".join(str(parsed.get("bozo_exception", "")).split())[:120]
        raise FeedParseError(f"not a readable feed: {reason or 'malformed document'}")
    if not parsed.version:
        raise FeedParseError("not an RSS or Atom feed")


def _to_draft(entry: Any, *, source: str, language: str, topics: tuple[str, ...],
              base_url: str | None, tz: tzinfo) -> ArticleDraft | None:  # fmt: skip
    title = _detail_text(entry.get("title_detail"), entry.get("title", ""))
    url = _absolute(entry.get("link"), base_url)
    if not title and not url:
        return None
    html_body = _html_body(entry)
    body = _detail_text(*html_body) or None
    if not title:
        title = _untitled(body, url)
    return ArticleDraft(
        source=source,
        title=title,
        body=None if body == title else body,
        url=url,
        guid=entry.get("id") or None,
        published_at=_published_at(entry, tz),
        language=language,
        topics=_topics(topics, entry.get("tags") or ()),
        image_url=_image_url(entry, html_body[1], url or base_url),
    )


def _html_body(entry: Any) -> tuple[Any, str]:
    """The richest body the entry has: content:encoded or Atom content, else the summary."""
    for content in entry.get("content") or ():
        if (content.get("value") or "").strip():
            return content, content["value"]
    return entry.get("summary_detail"), entry.get("summary") or ""


def _detail_text(detail: Any, value: str) -> str:
    if not value:
        return ""
    if detail is not None and detail.get("type") == "text/plain":
        return clean_text(value)
    return html_to_text(value)


def _untitled(body: str | None, url: str | None) -> str:
    if not body:
        return url or ""
    line = body.split("\n", 1)[0]
    return line if len(line) <= _UNTITLED_LENGTH else line[: _UNTITLED_LENGTH - 1] + "…"


def _absolute(link: str | None, base_url: str | None) -> str | None:
    if not link:
        return None
    url = urljoin(base_url, link.strip()) if base_url else link.strip()
    return url if url.startswith(("http://", "https://")) else None


def _published_at(entry: Any, tz: tzinfo) -> datetime | None:
    # dict.get skips feedparser's deprecated updated -> published key aliasing (and its warning).
    for key in ("published_parsed", "updated_parsed"):
        parsed = to_utc(dict.get(entry, key))
        if parsed is not None:
            return parsed
    for key in ("published", "updated"):
        if raw := dict.get(entry, key):
            parsed = parse_arabic_date(raw, tz=tz)
            if parsed is not None:
                return parsed
    return None


def _topics(source_topics: tuple[str, ...], tags: Any) -> tuple[str, ...]:
    terms = [*source_topics, *(tag.get("term") or "" for tag in tags)]
    seen: dict[str, None] = {}
    for term in terms:
        topic = " ".join(term.split()).lower()
        if topic and len(topic) <= _MAX_TOPIC_LENGTH:
            seen.setdefault(topic)
    return tuple(seen)[:_MAX_TOPICS]


def _image_url(entry: Any, html_body: str, base_url: str | None) -> str | None:
    for url in _media_image_urls(entry):
        if absolute := _absolute(url, base_url):
            return absolute
    return first_image_url(html_body, base_url) if html_body else None


def _media_image_urls(entry: Any) -> list[str]:
    urls = [
        media.get("url", "")
        for media in entry.get("media_content") or ()
        if media.get("medium", "image") == "image"
        and media.get("type", "image/").startswith("image/")
    ]
    urls += [thumb.get("url", "") for thumb in entry.get("media_thumbnail") or ()]
    urls += [
        enclosure.get("href", "")
        for enclosure in entry.get("enclosures") or ()
        if enclosure.get("type", "").startswith("image/")
    ]
    return urls


def _primary_language(code: str | None) -> str | None:
    """'ar-MA' -> 'ar': sources and stemmers speak in primary subtags."""
    if not code:
        return None
    primary = code.strip().replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() else None
