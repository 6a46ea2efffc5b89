"""Readable plain text and the lead image out of the HTML that feeds carry."""

from __future__ import annotations

import html
import re
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import urljoin

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["clean_text", "first_image_url", "html_to_text", "lxml_etree", "plain_title"]

_BLOCKS = (
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "tr", "ul",
)  # fmt: skip
_DROPPED = ("script", "style", "noscript", "template", "title", "head")
_BREAK = "\u2029"  # PARAGRAPH SEPARATOR, which no feed uses on purpose
_TAG_HINT = re.compile(r"<[a-zA-Z!/?]")
_IMG_HINT = re.compile(r"<img\b", re.IGNORECASE)
# A complete character reference: numeric, or a name ending in ";". Bare "&T" in "AT&T" is not.
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Publishers escape titles twice, sometimes three times ("&amp;amp;amp;"); no more than that.
_MAX_TITLE_UNESCAPES = 3


@cache
def lxml_etree() -> ModuleType:
    """lxml.etree, imported at the first markup to read: a bot reading no feed never needs it."""
    from lxml import etree

    return etree


@cache
def _parser(encoding: str | None = None) -> etree.HTMLParser:
    return lxml_etree().HTMLParser(
        remove_comments=True, remove_pis=True, no_network=True, encoding=encoding
    )


def clean_text(text: str) -> str:
    """Collapse whitespace (no-break spaces too) per line; join non-empty lines by a blank line."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n\n".join(line for line in lines if line)


def plain_title(title: str) -> str:
    """A title as readers show it: character references still in it after parsing decoded.

    Many publishers escape titles twice, so after XML parsing "Tom &amp;amp; Jerry" still reads
    "Tom &amp; Jerry"; like most feed readers, Akhbar shows "Tom & Jerry". Only complete
    references are decoded ("&amp;", "&#039;", "&quot;"), never a bare "&" as in "AT&T" or
    "R&D". The price: a title that means the text "&lt;b&gt;" literally shows "<b>".
    """
    for _ in range(_MAX_TITLE_UNESCAPES):
        if "&" not in title:
            break
        decoded = _ENTITY.sub(lambda match: html.unescape(match.group()), title)
        if decoded == title:
            break
        title = decoded
    return " ".join(title.split())


def html_to_text(html_text: str) -> str:
    """Return the readable text of an HTML fragment, paragraphs separated by a blank line."""
    if not _TAG_HINT.search(html_text):
        # No markup: skip the parser, which costs most of the time.
        return clean_text(html.unescape(html_text) if "&" in html_text else html_text)
    root = _parse(html_text)
    if root is None:
        return ""
    lxml_etree().strip_elements(root, *_DROPPED, with_tail=False)
    # A break on both sides keeps block contents off the neighbouring text. The breaks are
    # marker elements around the content rather than edits of .text and .tail, which would
    # convert every paragraph to a Python string and back (two thirds of the time).
    for element in list(root.iter(_BLOCKS)):
        element.addprevious(_break_marker())
        element.append(_break_marker())
    # Newlines in the source are plain whitespace in HTML: only _BREAK separates paragraphs.
    parts = (" ".join(part.split()) for part in _to_string(root).split(_BREAK))
    return "\n\n".join(part for part in parts if part)


def first_image_url(html_text: str, base_url: str | None) -> str | None:
    """Return the absolute http(s) address of the first <img> in the fragment, or None."""
    if not _IMG_HINT.search(html_text):
        return None
    root = _parse(html_text)
    if root is None:
        return None
    for image in root.iter("img"):
        src = (image.get("src") or image.get("data-src") or "").strip()
        if src and not src.startswith("data:"):
            url = urljoin(base_url, src) if base_url else src
            if url.startswith(("http://", "https://")):
                return url
    return None


def _break_marker() -> etree._Element:
    marker = lxml_etree().Element("akhbar-break")
    marker.text = _BREAK
    return marker


def _to_string(root: etree._Element) -> str:
    return lxml_etree().tostring(root, method="text", encoding="unicode")


def _parse(html_text: str) -> etree._Element | None:
    etree = lxml_etree()
    try:
        return etree.fromstring(html_text, _parser())
    except ValueError:
        # lxml refuses str input that declares an encoding (<?xml ... encoding=...?>).
        return _parse_bytes(html_text.encode("utf-8"))
    except etree.LxmlError:
        return None


def _parse_bytes(data: bytes) -> etree._Element | None:
    etree = lxml_etree()
    try:
        return etree.fromstring(data, _parser("utf-8"))
    except (ValueError, etree.LxmlError):
        return None
