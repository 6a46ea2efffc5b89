"""Ingestion: fetch sources, parse feeds and news dumps, de-duplicate and store articles."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Protocol
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx

from bot.config import IngestionConfig, SourceConfig
from bot.errors import AkhbarError, FeedParseError, FeedTooLarge, SourceGone
from bot.ingestion import health
from bot.ingestion.addresses import AddressGuard
from bot.ingestion.alerts import OperatorAlerts
from bot.ingestion.dumps import parse_dump, parse_topic_index, with_topics
from bot.ingestion.feed_parsing import parse_feed
from bot.ingestion.fetching import FetchResult, fetch_source
from bot.ingestion.limits import within_limits
from bot.models import ArticleDraft, Source
from bot.reading import search_text
from storage import articles, sources
from storage.connection import Connection
from storage.database import transaction

log = logging.getLogger(__name__)

SAMPLE_SOURCE = "هسبريس"
# The sample dump's articles and headlines carry no address; Hespress's own search finds them
# by title.
SAMPLE_LINK_TEMPLATE = "https://www.hespress.com/?s={title}"


class PollObserver(Protocol):
    """Told of every poll: outcome is "fetched", "not_modified" or "failed:<kind>"."""

    def __call__(
        self, source_name: str, outcome: str, seconds: float, new_articles: int
    ) -> None: ...


def no_poll_observer(source_name: str, outcome: str, seconds: float, new_articles: int) -> None:
    """The default observer: nothing to count."""


def as_source(source: SourceConfig | Source) -> Source:
    """A configured source as the database keeps it."""
    if isinstance(source, Source):
        return source
    return Source(
        name=source.name, url=source.url, kind=source.kind, language=source.language,
        topics=source.topics, poll_minutes=source.poll_minutes,
    )  # fmt: skip


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


@dataclass(frozen=True, slots=True)
class SourceReport:
    """What one pass over one source did."""

    name: str
    new: int = 0
    duplicate: int = 0
    error: str | None = None
    not_modified: bool = False
    error_kind: str | None = None  # bot.ingestion.health's name for the error
    shortened: int = 0  # articles whose title or body was cut to the [ingestion] limits

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
    """Give articles and headlines that have no address one built from `template` and their
    title, so a reader of a headline-only item still has a way to the source."""
    if template is None:
        return list(drafts)
    return [
        replace(d, url=template.format(title=quote(d.title))) if not d.url else d for d in drafts
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
        guard: AddressGuard | None = None,
        on_poll: PollObserver | None = None,
        alerts: OperatorAlerts | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._db = db
        self._settings = settings
        self._tz = tz
        self._client = client
        self._clock = clock
        self._guard = guard
        self._on_poll = on_poll or no_poll_observer
        self._alerts = alerts
        self._draw = draw

    @property
    def db(self) -> Connection:
        return self._db

    async def store(self, drafts: Sequence[ArticleDraft]) -> tuple[int, int]:
        """Store drafts oldest first so ids follow the source's order; return (new, duplicate).

        Titles and bodies are shortened to the [ingestion] limits first."""
        bounded, _ = self._within_limits(drafts)
        async with transaction(self._db):
            return await self._store(bounded)

    def _within_limits(self, drafts: Sequence[ArticleDraft]) -> tuple[list[ArticleDraft], int]:
        return within_limits(
            drafts,
            max_title_chars=self._settings.max_title_chars,
            max_body_chars=self._settings.max_body_chars,
        )

    async def _store(self, drafts: Sequence[ArticleDraft]) -> tuple[int, int]:
        # Runs inside the caller's transaction: the rows and their search index go together.
        now = self._clock()
        items = [articles.NewArticle(draft, fingerprint(draft), now) for draft in reversed(drafts)]
        new = await articles.insert_many(self._db, items)
        return new, len(items) - new

    async def ingest_source(self, source: SourceConfig | Source) -> SourceReport:
        """Poll one source now (adding it first when the database does not know it yet)."""
        stored = await sources.get(self._db, source.name)
        if stored is None:
            async with transaction(self._db):
                await sources.add(self._db, as_source(source), at=self._clock())
            stored = await sources.get(self._db, source.name)
        return await self.poll(stored)

    async def poll(self, source: Source) -> SourceReport:
        """Fetch one source, store its new articles and its health; failures are reported,
        never raised, and tell the poll observer in both cases."""
        started = time.monotonic()
        try:
            result = await fetch_source(
                self._client,
                source.url,
                etag=source.etag,
                last_modified=source.last_modified,
                max_bytes=self._settings.max_bytes,
                max_redirects=self._settings.max_redirects,
                guard=self._guard,
            )
            parsed = [] if result.content is None else self._parse(source, result.content)
        except AkhbarError as error:
            report = await self._failed(source, error)
            self._observe(source.name, f"failed:{report.error_kind}", started, 0)
            return report
        report = await self._fetched(source, result, parsed)
        if report.not_modified:
            log.debug("ingested %s: not modified", source.name)  # most polls: not worth INFO
        else:
            log.info("ingested %s: %s new, %s duplicate", source.name, report.new, report.duplicate)
        outcome = "not_modified" if report.not_modified else "fetched"
        self._observe(source.name, outcome, started, report.new)
        return report

    def _observe(self, name: str, outcome: str, started: float, new: int) -> None:
        try:
            self._on_poll(name, outcome, time.monotonic() - started, new)
        except Exception:  # an observer's bug must not stop polling
            log.exception("poll observer failed for %s", name)

    async def _fetched(
        self, source: Source, result: FetchResult, parsed: list[ArticleDraft]
    ) -> SourceReport:
        drafts, shortened = self._within_limits(parsed)
        if shortened:
            log.warning("source %s: %s article(s) shortened to the limits", source.name, shortened)
        now = self._clock()
        interval = timedelta(minutes=source.poll_minutes)
        outcome = sources.FetchOutcome(
            at=now,
            next_poll_at=health.next_poll_after_success(
                now, interval=interval, jitter=self._settings.jitter_fraction, draw=self._draw()
            ),
            etag=result.etag,
            last_modified=result.last_modified,
            new_url=result.moved_to,
        )
        if result.moved_to:
            log.info("source %s moved permanently to %s", source.name, result.moved_to)
        # The articles and the validators they were fetched with are committed together; the
        # fetch stays outside the transaction so the network never holds the connection.
        async with transaction(self._db):
            new, duplicate = await self._store(drafts)
            await sources.count_new_articles(self._db, source.name, new, day=_day(now))
            await sources.record(self._db, source.name, outcome)
            if source.alerted and self._alerts is not None:
                await self._alerts.recovered(source, now=now)
        return SourceReport(
            source.name, new, duplicate, not_modified=result.content is None, shortened=shortened
        )

    async def _failed(self, source: Source, error: AkhbarError) -> SourceReport:
        now = self._clock()
        kind = health.error_kind(error)
        message = str(error) or type(error).__name__
        log.warning("source %s failed: %s", source.name, message)
        failures = source.failures + 1
        since = source.failing_since or now
        alert = health.should_alert(
            since, now, after=timedelta(hours=self._settings.alert_after_hours),
            alerted=source.alerted,
        )  # fmt: skip
        outcome = sources.FetchOutcome(
            at=now,
            next_poll_at=health.next_poll_after_failure(
                now,
                interval=timedelta(minutes=source.poll_minutes),
                failures=failures,
                retry_after=getattr(error, "retry_after", None),
                max_backoff=timedelta(hours=self._settings.max_backoff_hours),
                jitter=self._settings.jitter_fraction,
                draw=self._draw(),
            ),
            error_kind=kind,
            error=message,
            gone=isinstance(error, SourceGone),
            alerted=source.alerted or alert,
        )
        async with transaction(self._db):
            await sources.record(self._db, source.name, outcome)
            if self._alerts is not None and outcome.gone:
                await self._alerts.gone(source, now=now)
            elif self._alerts is not None and alert:
                await self._alerts.failing(source, kind, since=since, now=now)
        return SourceReport(source.name, error=message, error_kind=kind)

    async def stuck_sources(self, now: datetime) -> list[Source]:
        """Polled sources failing for longer than `[ingestion] alert_after_hours`."""
        after = timedelta(hours=self._settings.alert_after_hours)
        return await sources.failing_since(self._db, before=now - after)

    def _parse(self, source: Source, content: bytes) -> list[ArticleDraft]:
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
        all_sources: Sequence[SourceConfig | Source],
        on_report: Callable[[int, SourceReport], None] | None = None,
    ) -> list[SourceReport]:
        """One pass over the given sources in turn; one failing source never stops the others."""
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
        title_topics: dict[str, tuple[str, ...]] | None = None,
    ) -> SourceReport:
        """Import a feed file or a plain-text news dump; the content decides which.

        `title_topics` adds topics per headline (the shipped sample's index).
        """
        try:
            content = await asyncio.to_thread(_read_capped, path, self._settings.max_bytes)
            parsed = self._parse_file(content, source, language, topics)
        except OSError as error:
            return SourceReport(source, error=f"cannot read {path}: {error.strerror}")
        except AkhbarError as error:
            return SourceReport(source, error=str(error))
        # Shortened before links are made from titles, so a link is never built from a huge one.
        drafts, shortened = self._within_limits(parsed)
        if title_topics:
            drafts = with_topics(drafts, title_topics)
        new, duplicate = await self.store(with_links(drafts, link_template))
        return SourceReport(source, new, duplicate, shortened=shortened)

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
        data = resources.files("bot") / "data"
        index = parse_topic_index((data / "sample_topics.txt").read_text(encoding="utf-8"))
        with resources.as_file(data / "sample_news.txt") as path:
            return await self.import_file(
                path, source=SAMPLE_SOURCE, link_template=SAMPLE_LINK_TEMPLATE, title_topics=index
            )


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes; raise FeedTooLarge past `max_bytes` without reading the rest."""
    with path.open("rb") as handle:
        content = handle.read(max_bytes + 1)
    if len(content) > max_bytes:
        raise FeedTooLarge(
            f"{path.name} is larger than {max_bytes:,} bytes, the [ingestion] max_bytes limit"
        )
    return content


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedParseError("not UTF-8 text") from None
