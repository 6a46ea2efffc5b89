"""OPML 1.0/2.0 subscription lists: read safely (listparser behind defusedxml), and written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from bot.errors import BadOpml
from bot.models import Source

__all__ = ["OpmlEntry", "read_opml", "write_opml"]


@dataclass(frozen=True, slots=True)
class OpmlEntry:
    """One feed of an OPML file; its categories become topics."""

    url: str
    title: str
    topics: tuple[str, ...] = ()


def read_opml(content: bytes, *, max_bytes: int) -> list[OpmlEntry]:
    """The feeds an OPML document lists; raise BadOpml when it is too large or unsafe."""
    if len(content) > max_bytes:
        raise BadOpml(f"larger than {max_bytes:,} bytes")
    _refuse_unsafe_xml(content)
    import listparser  # here: a bot nobody sends OPML to never loads it (nor its lxml)

    # Bytes, never str: listparser fetches a str that looks like a URL.
    parsed = listparser.parse(bytes(content))
    if not parsed.get("version", "").startswith("opml") and not parsed.feeds:
        raise BadOpml("not an OPML subscription list")
    entries: dict[str, OpmlEntry] = {}
    for feed in parsed.feeds:
        url = (feed.get("url") or "").strip()
        if url and url not in entries:
            entries[url] = OpmlEntry(url, (feed.get("title") or "").strip(), _topics(feed))
    return list(entries.values())


def _refuse_unsafe_xml(content: bytes) -> None:
    # defusedxml refuses DTDs (so entity expansion and external entities) before listparser,
    # whose lxml HTML parser would otherwise see them.
    try:
        root = defused_fromstring(content, forbid_dtd=True)
    except DefusedXmlException as error:
        raise BadOpml(f"refused: {type(error).__name__}") from None
    except ET.ParseError as error:
        raise BadOpml(f"not well-formed XML ({error})") from None
    if root.tag.lower() != "opml":
        raise BadOpml("not an OPML document")


def _topics(feed) -> tuple[str, ...]:
    topics: list[str] = []
    for path in feed.get("categories") or ():
        for part in path:
            word = part.strip().lower()
            if word and word not in topics:
                topics.append(word)
    return tuple(topics[:10])


def write_opml(sources: Sequence[Source], *, title: str = "Akhbar sources") -> bytes:
    """An OPML 2.0 document of `sources`; topics go in the category attribute."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {
            "type": "rss",
            "text": source.name,
            "title": source.name,
            "xmlUrl": source.url,
            "language": source.language,
        }
        if source.topics:
            attributes["category"] = ",".join(f"/{topic}" for topic in source.topics)
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
