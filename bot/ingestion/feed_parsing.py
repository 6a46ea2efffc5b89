"""RSS 0.9x/1.0/2.0 and Atom documents turned into article drafts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from bot.errors import FeedParseError
from bot.ingestion.dates import parse_arabic_date, to_utc
from bot.ingestion.html_text import (
    clean_text,
    first_image_url,
    html_to_text,
    lxml_etree,
    plain_title,
)
from bot.models import ArticleDraft

if TYPE_CHECKING:
    from lxml import etree

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
    fast = _plain_rss(content, base_url)
    if fast is not None:
        feed_language_code, entries = fast
    else:
        feed_language_code, entries = _feedparser_entries(content, base_url)
    feed_language = _primary_language(feed_language_code) or language
    drafts = []
    for entry in entries:
        draft = _to_draft(entry, source=source, language=feed_language, topics=topics,
                          base_url=base_url, tz=tz)  # fmt: skip
        if draft is not None:
            drafts.append(draft)
    return drafts


@cache
def _feedparser() -> ModuleType:
    """feedparser, imported at the first feed: a bot that reads none never loads it (~6 MB
    with lxml)."""
    import feedparser
    import feedparser.datetimes
    import feedparser.mixin

    return feedparser


def _feedparser_entries(content: bytes, base_url: str | None) -> tuple[str | None, list[Any]]:
    """The feed's language and entries as feedparser reads them; raise FeedParseError."""
    headers = {"content-location": base_url} if base_url else None
    # Everything is reduced to plain text, so feedparser's slow HTML sanitiser buys nothing.
    parsed = _feedparser().parse(
        content, sanitize_html=False, resolve_relative_uris=False, response_headers=headers
    )
    if not parsed.entries:
        _check_empty_feed(parsed)
    return parsed.feed.get("language"), parsed.entries


def _check_empty_feed(parsed: Any) -> None:
    if parsed.bozo:
        reason = " ".join(str(parsed.get("bozo_exception", "")).split())[:120]
        raise FeedParseError(f"not a readable feed: {reason or 'malformed document'}")
    if not parsed.version:
        raise FeedParseError("not an RSS or Atom feed")


def _to_draft(entry: Any, *, source: str, language: str, topics: tuple[str, ...],
              base_url: str | None, tz: tzinfo) -> ArticleDraft | None:  # fmt: skip
    title = plain_title(_detail_text(entry.get("title_detail"), entry.get("title", "")))
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
        topic = plain_title(term).lower()  # categories are escaped twice like titles
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


# The fast path: feedparser spends ~0.4 ms an item in Python SAX callbacks, which caps
# ingestion near 2,500 items/s. Plain, well-formed UTF-8 RSS 2.0 (what news sites serve) is
# read with lxml instead into the same entry shape feedparser gives; any document using
# something outside that narrow subset goes to feedparser, so results stay identical.
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_SINGLE = frozenset({"title", "link", "guid", "pubDate", "description", _CONTENT})
_LISTED = frozenset({"category", "enclosure", f"{_MEDIA}content", f"{_MEDIA}thumbnail"})
_IGNORED = frozenset({"author", "comments", "{http://purl.org/dc/elements/1.1/}creator"})
_FAST_CHILDREN = _SINGLE | _LISTED | _IGNORED
_PLAIN_URL = re.compile(r"https?://[^\s/&][^\s&]*\Z")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([^\"']+)")
_C1_CONTROLS = re.compile(rb"\xc2[\x80-\x9f]")


@cache
def _xml_parser() -> etree.XMLParser:
    return lxml_etree().XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


class _NotPlain(Exception):
    """The document needs feedparser."""


def _plain_rss(content: bytes, base_url: str | None) -> tuple[str | None, list[dict]] | None:
    """The language and feedparser-shaped entries of a plain RSS 2.0 document, or None."""
    if not _may_be_plain(content):
        return None
    etree = lxml_etree()
    try:
        root = etree.fromstring(content, _xml_parser())
        channel = _only_channel(root)
        entries = [_plain_entry(item, base_url) for item in channel.iterfind("item")]
    except (etree.LxmlError, ValueError, _NotPlain):
        return None
    return _fp_text(channel.findtext("language")) or None, entries


def _may_be_plain(content: bytes) -> bool:
    head = content[:512]
    declared = _DECLARED_ENCODING.match(head)
    if declared and declared.group(1).lower() not in (b"utf-8", b"utf8"):
        return False
    # feedparser remaps C1 controls to cp1252 and honours xml:base and xml:lang.
    return not (
        b"<!DOCTYPE" in head or b"xml:base" in content or b"xml:lang" in content
        or _C1_CONTROLS.search(content)
    )  # fmt: skip


def _only_channel(root: etree._Element) -> etree._Element:
    if root.tag != "rss" or root.get("version") != "2.0" or len(root) != 1:
        raise _NotPlain
    channel = root[0]
    languages = channel.findall("{*}language")
    if channel.tag != "channel" or [e.tag for e in languages] not in ([], ["language"]):
        raise _NotPlain
    return channel


def _plain_entry(item: etree._Element, base_url: str | None) -> dict[str, Any]:
    fields: dict[str, etree._Element] = {}
    entry: dict[str, Any] = {}
    for child in item:
        tag = child.tag
        if tag not in _FAST_CHILDREN or (tag in _SINGLE and tag in fields):
            raise _NotPlain
        if tag in _LISTED:
            _add_listed(entry, tag, child)
        fields[tag] = child
    if "title" in fields:
        entry["title"] = title = _fp_text(_leaf_text(fields["title"]))
        plain = not _feedparser().mixin._FeedParserMixin.looks_like_html(title)
        entry["title_detail"] = {"type": "text/plain" if plain else "text/html"}
    _add_link_and_id(entry, fields, base_url)
    if "pubDate" in fields:
        entry["published"] = published = _fp_text(_leaf_text(fields["pubDate"]))
        entry["published_parsed"] = _feedparser().datetimes._parse_date(published)
    if "description" in fields:
        entry["summary"] = _fp_text(_leaf_text(fields["description"]))
        entry["summary_detail"] = {"type": "text/html"}
    if _CONTENT in fields:
        entry["content"] = [{"type": "text/html", "value": _fp_text(_leaf_text(fields[_CONTENT]))}]
    return entry


def _add_listed(entry: dict[str, Any], tag: str, element: etree._Element) -> None:
    if tag == "category":
        entry.setdefault("tags", []).append({"term": _fp_text(_leaf_text(element)) or None})
        return
    if len(element) or (element.text or "").strip() or any(k.lower() != k for k in element.attrib):
        raise _NotPlain
    attributes = dict(element.attrib)
    if tag == "enclosure":
        if "url" in attributes:
            attributes["href"] = attributes.pop("url")
        entry.setdefault("enclosures", []).append(attributes)
    else:
        entry.setdefault(tag.replace(_MEDIA, "media_"), []).append(attributes)


def _add_link_and_id(
    entry: dict[str, Any], fields: dict[str, etree._Element], base_url: str | None
) -> None:
    if "link" in fields:
        entry["link"] = _plain_url(_fp_text(_leaf_text(fields["link"])), base_url)
    guid = fields.get("guid")
    if guid is None:
        return
    if len(guid) or guid.keys() not in ([], ["isPermaLink"]):
        raise _NotPlain
    value = _fp_text(guid.text)
    if guid.get("isPermaLink", "true") != "true":
        entry["id"] = value
        return
    entry["id"] = _plain_url(value, base_url)
    entry.setdefault("link", entry["id"])


def _plain_url(value: str, base_url: str | None) -> str:
    if not _PLAIN_URL.match(value):
        raise _NotPlain
    return urljoin(base_url or "", value)


def _leaf_text(element: etree._Element) -> str:
    if len(element) or len(element.attrib):
        raise _NotPlain
    return element.text or ""


def _fp_text(value: str | None) -> str:
    """Text as feedparser hands it over: stripped, with its Latin-1 mojibake repair."""
    value = (value or "").strip()
    try:
        return value.encode("iso-8859-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value
