"""Plain-text news dumps (a headline ticker plus article pages) turned into article drafts.

The format, as copied from an Arabic news aggregator page:

- ticker lines: headlines separated by runs of no-break spaces;
- article blocks: a title line, the byline "نشر في <source> يوم DD - MM - YYYY",
  body paragraphs, then "انقر هنا لقراءة الخبر من مصدره" (the link to the source);
- interface lines of the page (image-report confirmation) and blank lines, skipped.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import tzinfo

from bot.ingestion.dates import parse_arabic_date
from bot.ingestion.html_text import plain_title
from bot.models import ArticleDraft

__all__ = ["SKIPPED_INTERFACE_LINES", "parse_dump", "parse_topic_index", "with_topics"]

# Page furniture, not news; matched as line prefixes.
SKIPPED_INTERFACE_LINES: tuple[str, ...] = (
    "شكرا على الإبلاغ!",
    "سيتم حجب هذه الصورة تلقائيا",
)
_READ_AT_SOURCE = "انقر هنا لقراءة الخبر من مصدره"
_TICKER_SEPARATOR = re.compile(r"\s*\xa0\s*\xa0\s*")
_BYLINE = re.compile(r"^نشر في\s+(?P<source>.+?)\s+يوم\s+(?P<date>.+)$")
_MAX_BYLINE_LENGTH = 120
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass
class _Block:
    """An article being read: its lines so far, and what its byline and link line said."""

    lines: list[str] = field(default_factory=list)
    byline: re.Match[str] | None = None
    url: str | None = None
    is_closed: bool = False


def parse_dump(
    text: str,
    *,
    source: str,
    language: str = "ar",
    topics: tuple[str, ...] = (),
    source_url: str | None = None,
    tz: tzinfo,
) -> list[ArticleDraft]:
    """Return the dump's headlines and articles as drafts, in the order they appear."""
    blocks = _BlockReader().read(_raw_lines(text))
    drafts: list[ArticleDraft] = []
    for block in blocks:
        if block.byline is None and not block.is_closed:
            drafts += [
                _headline(title, source=source, language=language, topics=topics)
                for title in block.lines
            ]
            continue
        drafts.append(_article(block, source=source, language=language, topics=topics,
                               source_url=source_url, tz=tz))  # fmt: skip
    return drafts


def parse_topic_index(text: str) -> dict[str, tuple[str, ...]]:
    """Per-headline topics: lines of space-separated topics, a tab, then the headline."""
    index = {}
    for line in text.splitlines():
        topics, tab, title = line.partition("\t")
        if tab and not line.startswith("#"):
            index[" ".join(title.split())] = tuple(topics.casefold().split())
    return index


def with_topics(
    drafts: list[ArticleDraft], index: dict[str, tuple[str, ...]]
) -> list[ArticleDraft]:
    """The drafts with the topics `index` gives their headline added to their own."""
    return [
        replace(d, topics=tuple(dict.fromkeys((*d.topics, *index.get(d.title, ())))))
        for d in drafts
    ]


def dump_guid(title: str) -> str:
    """A stable id from the title alone, so importing a dump twice changes nothing."""
    normalised = " ".join(title.split()).casefold()
    return "dump:" + hashlib.sha1(normalised.encode("utf-8")).hexdigest()


def _raw_lines(text: str) -> list[str]:
    return [line.strip(" \t\ufeff") for line in text.removeprefix("\ufeff").splitlines()]


class _BlockReader:
    """Groups lines into blocks: ticker headlines (no byline, not closed) and articles."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self.current = _Block()
        self.is_link_expected = False

    def read(self, lines: list[str]) -> list[_Block]:
        for line in lines:
            if line.strip() and not line.startswith(SKIPPED_INTERFACE_LINES):
                self._read_line(line)
        self._flush()
        return [block for block in self.blocks if block.lines and block.lines[0]]

    def _read_line(self, line: str) -> None:
        if self.is_link_expected:
            self.is_link_expected = False
            if _URL.fullmatch(line):
                self.blocks[-1].url = line
                return
        if self.current.byline is None and "\xa0" in line and _TICKER_SEPARATOR.search(line):
            self._flush()
            self.blocks.append(_Block(lines=_ticker_headlines(line)))
        elif (byline := _byline(line)) is not None:
            # The byline follows its title; lines before the title belong to an earlier block.
            title = self.current.lines.pop() if self.current.lines else ""
            self._flush()
            self.current = _Block(lines=[title], byline=byline)
        elif line.startswith(_READ_AT_SOURCE):
            url = _URL.search(line)
            self.current.url = url.group() if url else None
            self.current.is_closed = True
            self.is_link_expected = url is None
            self._flush()
        else:
            self.current.lines.append(line)

    def _flush(self) -> None:
        self.blocks.append(self.current)
        self.current = _Block()


def _byline(line: str) -> re.Match[str] | None:
    if len(line) > _MAX_BYLINE_LENGTH:
        return None
    return _BYLINE.match(line)


def _ticker_headlines(line: str) -> list[str]:
    return [h for h in (" ".join(p.split()) for p in _TICKER_SEPARATOR.split(line)) if h]


def _headline(title: str, *, source: str, language: str, topics: tuple[str, ...]) -> ArticleDraft:
    title = plain_title(title)
    return ArticleDraft(
        source=source, title=title, guid=dump_guid(title), language=language, topics=topics
    )


def _article(block: _Block, *, source: str, language: str, topics: tuple[str, ...],
             source_url: str | None, tz: tzinfo) -> ArticleDraft:  # fmt: skip
    title, *paragraphs = block.lines
    title = plain_title(title)
    body = "\n\n".join(" ".join(p.split()) for p in paragraphs) or None
    byline = block.byline
    return ArticleDraft(
        source=" ".join(byline["source"].split()) if byline else source,
        title=title,
        body=body,
        url=block.url or source_url,
        guid=dump_guid(title),
        published_at=parse_arabic_date(byline["date"], tz=tz) if byline else None,
        language=language,
        topics=topics,
    )
