"""Ingestion throughput: feeds end to end, the store-and-index stage alone, and stage shares."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.feeds import feed_files
from bench.stores import Stores, _fresh, open_stores, store_in_batches
from bench.synthetic import Corpus
from bench.timing import Stopwatch
from bot.ingestion import feed_parsing
from bot.ingestion import service as ingestion
from bot.models import ArticleDraft
from bot.reading import search_text

__all__ = ["IngestResult", "measure_ingestion"]

SOURCE = "bench"


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Articles per second of each way of ingesting, and where the sequential time goes."""

    articles: int
    stored: int
    sequential_rate: float
    pipelined_rate: float
    store_rate: float
    shares: dict[str, float]


async def measure_ingestion(count: int, folder: Path) -> IngestResult:
    """Ingest `count` synthetic articles from RSS files each way, on fresh databases."""
    paths = feed_files(count, folder)
    stored, sequential = await _timed(_import_sequentially, paths, folder / "ingest-seq.sqlite3")
    _, pipelined = await _timed(_import_pipelined, paths, folder / "ingest-pipe.sqlite3")
    shares = await _stage_shares(paths, folder / "ingest-stages.sqlite3")
    store_rate = await _store_rate(count, folder / "ingest-store.sqlite3")
    return IngestResult(count, stored, count / sequential, count / pipelined, store_rate, shares)


async def _timed(run, paths: list[Path], database: Path) -> tuple[int, float]:
    async with open_stores(_fresh(database)) as stores:
        began = time.perf_counter()
        stored = await run(stores, paths)
        return stored, time.perf_counter() - began


async def _import_sequentially(stores: Stores, paths: list[Path]) -> int:
    """The product's own path: `akhbar import` of one feed file after another."""
    new = 0
    for path in paths:
        report = await stores.ingestion.import_file(path, source=SOURCE)
        new += report.new
    return new


def _parse_file(path: Path) -> list[ArticleDraft]:
    return feed_parsing.parse_feed(path.read_bytes(), source=SOURCE, language="ar", topics=())


async def _import_pipelined(stores: Stores, paths: list[Path]) -> int:
    """Feeds parsed in worker processes (both cores) while this process stores the results."""
    loop = asyncio.get_running_loop()
    new = 0
    with ProcessPoolExecutor(max_workers=2) as pool:
        parsed = [loop.run_in_executor(pool, _parse_file, path) for path in paths]
        for drafts in parsed:
            added, _ = await stores.ingestion.store(await drafts)
            await stores.db.commit()
            new += added
    return new


async def _stage_shares(paths: list[Path], database: Path) -> dict[str, float]:
    """Sequential ingestion with each stage's functions timed; shares of the total time."""
    clean, keys, index = Stopwatch(), Stopwatch(), Stopwatch()
    originals = (feed_parsing.html_to_text, feed_parsing.clean_text, ingestion.fingerprint)
    feed_parsing.html_to_text, feed_parsing.clean_text = map(clean.wrap, originals[:2])
    ingestion.fingerprint = keys.wrap(originals[2])
    parse_seconds = store_seconds = 0.0
    try:
        async with open_stores(
            _fresh(database), index_terms=index.wrap(search_text.index_text)
        ) as stores:
            for path in paths:
                began = time.perf_counter()
                drafts = _parse_file(path)
                parsed = time.perf_counter()
                await stores.ingestion.store(drafts)
                await stores.db.commit()
                parse_seconds += parsed - began
                store_seconds += time.perf_counter() - parsed
    finally:
        feed_parsing.html_to_text, feed_parsing.clean_text, ingestion.fingerprint = originals
    total = parse_seconds + store_seconds
    return {
        "parse XML": (parse_seconds - clean.seconds) / total,
        "clean HTML/text": clean.seconds / total,
        "fingerprint + normalise/stem": (keys.seconds + index.seconds) / total,
        "SQLite insert + FTS": (store_seconds - keys.seconds - index.seconds) / total,
    }


async def _store_rate(count: int, database: Path) -> float:
    """IngestionService.store alone, on drafts prepared beforehand, 500 a transaction."""
    drafts = [article.draft for article in Corpus().articles(count)]
    async with open_stores(_fresh(database)) as stores:
        began = time.perf_counter()
        await store_in_batches(stores, drafts)
        return count / (time.perf_counter() - began)
