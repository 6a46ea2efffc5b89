"""Ingestion: fetch sources, parse feeds and news dumps, de-duplicate and store articles."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from importlib import resources
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from aiosqlite import Connection

from bot.config import IngestionConfig, SourceConfig
from bot.errors import AkhbarError, FeedParseError
from bot.ingestion.dumps import parse_dump
from bot.ingestion.feed_parsing import parse_feed
from bot.ingestion.fetching import fetch_source
from bot.models import ArticleDraft
from bot.reading import search_text
from storage import articles, sources
from storage.database import transaction

log = logging.getLogger(__name__)

SAMPLE_SOURCE = "هسبريس"
# The sample dump's articles carry no address; Hespress's own search finds them by title.
SAMPLE_LINK_TEMPLATE = "https://www.hespress.com/?s={title}"


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one pass over one source did."""

    name: str
    new: int = 0
    duplicate: int = 0
    error: str | None = None
    not_modified: bool = False
    error_kind: str = ""  # the error's class name, for metrics

    @property
    def failed(self) -> bool:
        return self.error is not None


def fingerprint(draft: ArticleDraft) -> str:
    """The de-duplication key of a headline: its normalised title, and its day when known."""
    key = search_text.title_fingerprint(draft.title)
    if draft.published_at is not None:
        key = f"{key}|{draft.published_at.date().isoformat()}"
    return key


def with_links(drafts: Sequence[ArticleDraft], template: str | None) -> list[ArticleDraft]:
    """Give full articles that have no address one built from `template` and their title."""
    if template is None:
        return list(drafts)
    return [
        replace(d, url=template.format(title=quote(d.title))) if d.body and not d.url else d
        for d in drafts
    ]


class IngestionService:
    """Turns sources and files into stored, indexed, de-duplicated articles."""

    def __init__(
        self,
        db: Connection,
        *,
        settings: IngestionConfig,
        tz: ZoneInfo,
        client: httpx.AsyncClient,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._settings = settings
        self._tz = tz
        self._client = client
        self._clock = clock

    async def store(self, drafts: Sequence[ArticleDraft]) -> tuple[int, int]:
        """Store drafts oldest first so ids follow the source's order; return (new, duplicate)."""
        async with transaction(self._db):
            return await self._store(drafts)

    async def _store(self, drafts: Sequence[ArticleDraft]) -> tuple[int, int]:
        # Runs inside the caller's transaction: the rows and their search index go together.
        now = self._clock()
        items = [articles.NewArticle(draft, fingerprint(draft), now) for draft in reversed(drafts)]
        new = await articles.insert_many(self._db, items)
        return new, len(items) - new

    async def ingest_source(self, source: SourceConfig) -> SourceReport:
        """One pass over one source; failures are reported, never raised."""
        state = await sources.get(self._db, source.name)
        try:
            result = await fetch_source(
                self._client,
                source.url,
                etag=state.etag,
                last_modified=state.last_modified,
                max_bytes=self._settings.max_bytes,
                max_redirects=self._settings.max_redirects,
            )
            drafts = [] if result.content is None else self._parse(source, result.content)
        except AkhbarError as error:
            log.warning("source %s failed: %s", source.name, error)
            async with transaction(self._db):
                await self._record(source.name, error=str(error) or type(error).__name__)
            return SourceReport(
                source.name, error=str(error) or type(error).__name__, error_kind=_kind(error)
            )
        # The articles and the validators they were fetched with are committed together; the
        # fetch stays outside the transaction so the network never holds the connection.
        async with transaction(self._db):
            new, duplicate = await self._store(drafts)
            await self._record(
                source.name, error=None, etag=result.etag, last_modified=result.last_modified
            )
        return SourceReport(source.name, new, duplicate, not_modified=result.content is None)

    async def _record(self, name: str, *, error: str | None, **validators: str | None) -> None:
        await sources.record_fetch(
            self._db,
            name,
            at=self._clock(),
            etag=validators.get("etag"),
            last_modified=validators.get("last_modified"),
            error=error,
        )

    def _parse(self, source: SourceConfig, content: bytes) -> list[ArticleDraft]:
        if source.kind == "dump":
            return parse_dump(
                _decode(content),
                source=source.name,
                language=source.language,
                topics=source.topics,
                tz=self._tz,
            )
        return parse_feed(
            content, source=source.name, language=source.language, topics=source.topics,
            base_url=source.url, tz=self._tz,
        )  # fmt: skip

    async def ingest_all(
        self,
        all_sources: Sequence[SourceConfig],
        on_report: Callable[[int, SourceReport], None] | None = None,
    ) -> list[SourceReport]:
        """One pass over every source in turn; one failing source never stops the others."""
        reports = []
        for number, source in enumerate(all_sources, start=1):
            report = await self.ingest_source(source)
            reports.append(report)
            if on_report:
                on_report(number, report)
        return reports

    async def import_file(
        self,
        path: Path,
        *,
        source: str,
        language: str = "ar",
        topics: tuple[str, ...] = (),
        link_template: str | None = None,
    ) -> SourceReport:
        """Import a feed file or a plain-text news dump; the content decides which."""
        try:
            content = await asyncio.to_thread(path.read_bytes)
        except OSError as error:
            return SourceReport(source, error=f"cannot read {path}: {error.strerror}")
        try:
            drafts = self._parse_file(content, source, language, topics)
        except AkhbarError as error:
            return SourceReport(source, error=str(error))
        new, duplicate = await self.store(with_links(drafts, link_template))
        return SourceReport(source, new, duplicate)

    def _parse_file(
        self, content: bytes, source: str, language: str, topics: tuple[str, ...]
    ) -> list[ArticleDraft]:
        if content.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            return parse_feed(content, source=source, language=language, topics=topics, tz=self._tz)
        return parse_dump(
            _decode(content), source=source, language=language, topics=topics, tz=self._tz
        )

    async def load_sample_if_empty(self) -> SourceReport | None:
        """Import the shipped sample news into an empty database, so a new install has news."""
        if await articles.count(self._db) > 0:
            return None
        with resources.as_file(resources.files("bot") / "data" / "sample_news.txt") as path:
            return await self.import_file(
                path, source=SAMPLE_SOURCE, link_template=SAMPLE_LINK_TEMPLATE
            )


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedParseError("not UTF-8 text") from None


def _kind(error: Exception) -> str:
    """FetchTimeout -> fetch_timeout."""
    name = type(error).__name__
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
