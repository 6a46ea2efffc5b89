"""Sources managed at run time: seeded from config.toml, added (after a look), paused,
removed, listed with their health, imported from and exported to OPML."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import httpx

from bot.clock import Clock
from bot.config import IngestionConfig, SourceConfig
from bot.errors import (
    AkhbarError,
    FeedParseError,
    SourceExists,
    SourceNotFound,
    UnsupportedUrl,
)
from bot.ingestion import health
from bot.ingestion.addresses import AddressGuard
from bot.ingestion.feed_parsing import parse_feed
from bot.ingestion.fetching import FetchResult, fetch_source
from bot.ingestion.service import as_source
from bot.models import PauseReason, Source, SourceHealth
from storage import bot_settings, sources
from storage.connection import Connection
from storage.database import transaction

SEEDED = "sources_seeded"
RATE_DAYS = 7
PENDING_LIMIT = 64
PENDING_TTL = timedelta(hours=1)
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
_NAME_CHARS = re.compile(r"[^\w.-]+")


@dataclass(frozen=True, slots=True)
class SourcePreview:
    """What one fetch of a proposed source found; `token` confirms it."""

    token: str
    source: Source
    headlines: tuple[str, ...]
    article_count: int
    discovered: bool  # the address given was a page whose feed link was followed


@dataclass(slots=True)
class ImportReport:
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (url, error kind)


def _host_name(url: str) -> str:
    host = httpx.URL(url).host.removeprefix("www.")
    return _NAME_CHARS.sub("-", host)[:64] or "source"


class SourceCatalog:
    """The operators' view of sources; the polling loop reads the same rows."""

    def __init__(
        self,
        db: Connection,
        *,
        settings: IngestionConfig,
        client: httpx.AsyncClient,
        guard: AddressGuard,
        clock: Clock,
    ) -> None:
        self._db = db
        self._settings = settings
        self._client = client
        self._guard = guard
        self._clock = clock
        self._pending: dict[str, tuple[datetime, SourcePreview]] = {}

    async def seed(self, configured: Sequence[SourceConfig]) -> int:
        """On first start, add config.toml's sources; later starts leave the database alone
        (so a source removed from chat stays removed)."""
        async with transaction(self._db):
            if await bot_settings.get(self._db, SEEDED):
                return 0
            added = 0
            for source in configured:
                added += await sources.add(self._db, as_source(source), at=self._clock())
            await bot_settings.put(self._db, SEEDED, self._clock().isoformat())
        return added

    async def health(self) -> list[SourceHealth]:
        """Every source with its mean new articles per day over the last week."""
        since = (self._clock().astimezone(UTC) - timedelta(days=RATE_DAYS - 1)).date()
        rates = await sources.articles_per_day(
            self._db, since_day=since.isoformat(), days=RATE_DAYS
        )
        return [
            SourceHealth(source, rates.get(source.name, 0.0))
            for source in await sources.all_sources(self._db)
        ]

    async def all(self) -> list[Source]:
        return await sources.all_sources(self._db)

    # Adding: look first, then confirm

    async def preview(
        self, url: str, *, topics: tuple[str, ...] = (), language: str | None = None
    ) -> SourcePreview:
        """Fetch `url` once (a feed, or a page whose <link rel="alternate"> names one) and
        return what it holds; raise a FetchError or FeedParseError when it cannot be used."""
        url = url.strip()
        result = await self._fetch(url)
        discovered = False
        try:
            drafts = parse_feed(result.content or b"", source="-", language="ar", topics=())
        except FeedParseError:
            feed_url = _feed_link(result.content or b"", result.final_url)
            if feed_url is None:
                raise
            url, discovered = feed_url, True
            result = await self._fetch(url)
            drafts = parse_feed(result.content or b"", source="-", language="ar", topics=())
        url = result.moved_to or url
        if await sources.by_url(self._db, url) is not None:
            raise SourceExists(url)
        detected = drafts[0].language if drafts else "ar"
        source = Source(
            name=await self._free_name(_host_name(url)),
            url=url,
            language=language or detected,
            topics=topics,
        )
        preview = SourcePreview(
            token=secrets.token_urlsafe(9),
            source=source,
            headlines=tuple(d.title for d in drafts[:3]),
            article_count=len(drafts),
            discovered=discovered,
        )
        self._remember(preview)
        return preview

    async def _fetch(self, url: str) -> FetchResult:
        return await fetch_source(
            self._client,
            url,
            etag=None,
            last_modified=None,
            max_bytes=self._settings.max_bytes,
            max_redirects=self._settings.max_redirects,
            guard=self._guard,
        )

    def _remember(self, preview: SourcePreview) -> None:
        now = self._clock()
        self._pending = {
            token: (at, p) for token, (at, p) in self._pending.items() if now - at < PENDING_TTL
        }
        while len(self._pending) >= PENDING_LIMIT:
            self._pending.pop(next(iter(self._pending)))
        self._pending[preview.token] = (now, preview)

    def pending(self, token: str) -> SourcePreview | None:
        entry = self._pending.get(token)
        if entry is None or self._clock() - entry[0] >= PENDING_TTL:
            return None
        return entry[1]

    async def confirm(self, token: str) -> Source | None:
        """Save a previewed source (polled at once); None when the preview expired."""
        preview = self.pending(token)
        if preview is None:
            return None
        self._pending.pop(token, None)
        await self.add(preview.source)
        return preview.source

    def cancel(self, token: str) -> None:
        self._pending.pop(token, None)

    async def add(self, source: Source) -> None:
        """Add a source due at once; raise SourceExists when its name or address is known."""
        async with transaction(self._db):
            if await sources.by_url(self._db, source.url) is not None:
                raise SourceExists(source.url)
            if not await sources.add(self._db, source, at=self._clock()):
                raise SourceExists(source.name)

    async def _free_name(self, wanted: str) -> str:
        taken = set(await sources.names(self._db))
        name, number = wanted, 1
        while name in taken:
            number += 1
            name = f"{wanted[:60]}-{number}"
        return name

    # Operators' switches

    async def remove(self, name: str) -> None:
        async with transaction(self._db):
            if not await sources.remove(self._db, name):
                raise SourceNotFound(name)

    async def pause(self, name: str) -> None:
        await self._set_paused(name, PauseReason.OPERATOR)

    async def resume(self, name: str) -> None:
        """Poll the source again, at once, with a clean health record."""
        await self._set_paused(name, None)

    async def _set_paused(self, name: str, reason: PauseReason | None) -> None:
        async with transaction(self._db):
            changed = await sources.set_paused(self._db, name, reason, next_poll_at=self._clock())
        if not changed:
            raise SourceNotFound(name)

    # OPML

    async def import_opml(
        self, content: bytes, *, language: str = "ar", poll_minutes: int = 30
    ) -> ImportReport:
        """Add an OPML file's feeds; each is added, already present, or refused with a reason.
        Raise BadOpml when the file itself is refused."""
        # Here, not at the top: OPML (with defusedxml and ElementTree, ~0.6 MB) is for the
        # `akhbar sources import/export` commands, never for a serving bot.
        from bot.ingestion.opml import read_opml

        entries = read_opml(content, max_bytes=self._settings.max_opml_bytes)
        checks = await asyncio.gather(*(self._refusal(entry.url) for entry in entries))
        report = ImportReport()
        for entry, refusal in zip(entries, checks, strict=True):
            if refusal is not None:
                report.refused.append((entry.url, refusal))
                continue
            name = _NAME_CHARS.sub("-", entry.title)[:64].strip("-") or _host_name(entry.url)
            source = Source(
                name=await self._free_name(name),
                url=entry.url,
                language=language,
                topics=entry.topics,
                poll_minutes=poll_minutes,
            )
            try:
                await self.add(source)
            except SourceExists:
                report.present.append(entry.url)
            else:
                report.added.append(source.name)
        return report

    async def _refusal(self, url: str) -> str | None:
        try:
            parsed = httpx.URL(url)
            if parsed.scheme not in ("http", "https") or not parsed.host:
                raise UnsupportedUrl(url)
            await self._guard.check(parsed)
        except httpx.InvalidURL:
            return "bad-address"
        except AkhbarError as error:
            return health.error_kind(error)
        return None

    async def export_opml(self) -> bytes:
        from bot.ingestion.opml import write_opml  # rare, as in import_opml

        return write_opml(await sources.all_sources(self._db))


def _feed_link(content: bytes, base_url: str) -> str | None:
    """The first feed a web page announces with <link rel="alternate" type="…rss/atom…">."""
    if not content.strip():
        return None
    import lxml.html
    from lxml import etree

    try:
        page = lxml.html.fromstring(content)
    except (ValueError, etree.ParserError):
        return None
    for link in page.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            return urljoin(base_url, href)
    return None


__all__ = ["ImportReport", "SourceCatalog", "SourcePreview"]
