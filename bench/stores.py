"""Opening Akhbar's real services on a benchmark database, and building cached databases."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from bench.synthetic import GENERATOR_VERSION, Corpus
from bot.config import IngestionConfig
from bot.ingestion.service import IngestionService
from bot.models import ArticleDraft
from bot.reading import search_index, search_text
from bot.reading.news import NewsService
from storage import database
from storage.connection import Connection

__all__ = ["BATCH", "Stores", "cached_database", "open_stores", "store_in_batches"]

BATCH = 500
NOW = datetime(2025, 6, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Stores:
    """The database and the two services the benchmarks drive."""

    db: Connection
    ingestion: IngestionService
    news: NewsService


@asynccontextmanager
async def open_stores(
    path: Path | str, *, index_terms: Callable[[str | None], str] = search_text.index_text
) -> AsyncIterator[Stores]:
    """Akhbar's own connection and services on `path` (or a postgresql:// URL), closed on exit."""
    db = await database.connect(path, index_terms=index_terms)
    try:
        async with httpx.AsyncClient() as client:
            ingestion = IngestionService(
                db,
                settings=IngestionConfig(),
                tz=ZoneInfo("Africa/Casablanca"),
                client=client,
                clock=lambda: NOW,
            )
            yield Stores(db, ingestion, NewsService(db, page_size=8))
    finally:
        await db.close()


async def store_in_batches(stores: Stores, drafts: Sequence[ArticleDraft]) -> int:
    """Store drafts a batch (one transaction) at a time, as one feed at a time; return new."""
    new = 0
    for start in range(0, len(drafts), BATCH):
        # A feed lists its newest item first; store() expects that order.
        added, _ = await stores.ingestion.store(drafts[start : start + BATCH][::-1])
        await stores.db.commit()
        new += added
    return new


def _fresh(path: Path) -> Path:
    """`path` with any leftover database (and WAL files) from an interrupted build removed."""
    for stale in path.parent.glob(f"{path.name}*"):
        stale.unlink()
    return path


def _schema_key() -> str:
    """Changes when the articles schema does; later migrations are applied when opened."""
    script = resources.files("storage") / "migrations" / "001_init.sql"
    return hashlib.sha256(script.read_bytes()).hexdigest()[:10]


async def cached_database(count: int, folder: Path) -> tuple[Path, float | None]:
    """A database of `count` generated articles, built once per generator and schema version.

    Returns its path and, when it was built now, the articles/s of the build.
    """
    # The index version too: a database indexed with older search terms would answer wrongly.
    index = search_text.INDEX_VERSION
    path = folder / f"db-v{GENERATOR_VERSION}-{_schema_key()}-i{index}-{count}.sqlite3"
    if path.exists():
        return path, None
    building = _fresh(path.with_suffix(".building"))
    corpus, stored_seconds = Corpus(), 0.0
    async with open_stores(building) as stores:
        # Empty: this only records the index version, as a new bot's first start does; without
        # it the first bot on this database would rebuild the whole index before answering.
        await search_index.ensure_current(stores.db)
        for start in range(0, count, 50_000):
            drafts = [a.draft for a in corpus.articles(min(50_000, count - start))]
            began = time.perf_counter()
            await store_in_batches(stores, drafts)
            stored_seconds += time.perf_counter() - began
        await stores.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    building.rename(path)
    return path, count / stored_seconds
