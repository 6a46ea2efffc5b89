"""/latest and /search latency through NewsService, on a database of generated articles."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.stores import open_stores
from bench.synthetic import Corpus
from bench.timing import percentile
from bot.reading import search_text
from storage import article_search

__all__ = ["Latency", "measure_queries", "query_words"]

WARM_UP = 5


@dataclass(frozen=True, slots=True)
class Latency:
    """One query's latency percentiles in milliseconds, and how many articles match it."""

    name: str
    matches: int | None
    p50_ms: float
    p99_ms: float


def query_words() -> dict[str, str]:
    """The most common word, a mid-frequency one and a rare one of the generated vocabulary."""
    vocabulary = Corpus().words.vocabulary
    return {"common": vocabulary[0], "mid": vocabulary[150], "rare": vocabulary[-1]}


async def _latency(run: Callable[[], Awaitable[object]], repeats: int) -> tuple[float, float]:
    for _ in range(WARM_UP):
        await run()
    samples = []
    for _ in range(repeats):
        began = time.perf_counter()
        await run()
        samples.append((time.perf_counter() - began) * 1000)
    return percentile(samples, 0.5), percentile(samples, 0.99)


async def measure_queries(path: Path | str, *, repeats: int) -> list[Latency]:
    """p50 and p99 of latest (with and without a topic) and of searches by word frequency."""
    results = []
    words = query_words()
    searches = [*words.items(), ("common+mid", f"{words['common']} {words['mid']}")]
    # Counted on connections of their own: on PostgreSQL, running the search statement with an
    # unbounded window first would leave its plan cache tuned for that, not for the real one.
    async with open_stores(path) as counting:
        counts = [await _match_count(counting.db, word) for _, word in searches]
    async with open_stores(path) as stores:
        news = stores.news
        topic = (await news.topics())[0]
        cases: list[tuple[str, Callable[[], Awaitable[object]], int | None]] = [
            ("latest", news.latest, None),
            ("latest page 50", lambda: news.latest(page=50), None),
            (f"latest topic={topic}", lambda: news.latest(topic=topic), None),
        ]
        for (kind, word), matches in zip(searches, counts, strict=True):
            cases.append((f"search {kind} ({word})", _searcher(news, word), matches))
        for name, run, matches in cases:
            p50, p99 = await _latency(run, repeats)
            results.append(Latency(name, matches, p50, p99))
    return results


def _searcher(news, word: str) -> Callable[[], Awaitable[object]]:
    return lambda: news.search(word)


async def _match_count(db, word: str) -> int:
    # Through the search module, so it counts the same way on SQLite and PostgreSQL: an empty
    # page makes it count every match inside the (here unbounded) window.
    query = search_text.search_query(word)
    if query is None:
        return 0
    _, total = await article_search.search(db, query, limit=0, window=2**62)
    return total
