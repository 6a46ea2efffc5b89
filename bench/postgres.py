"""SQLite and PostgreSQL side by side: ingestion rate and /latest, /search latency.

    python -m bench.postgres [--articles 200000] [--repeats 200] [--url postgresql://…]

The same generated articles are stored into each backend through IngestionService.store (one
500-article transaction at a time, as bench.stores does), then /latest and /search are timed
through NewsService on each (bench.queries). The SQLite database is the cached one of
bench/results when it exists (its ingestion is then measured again on a fresh file); the
PostgreSQL one is a fresh database, VACUUM ANALYZEd after the build as autovacuum would soon
do. `--url` names a server where databases may be created; without it a throwaway cluster is
started (as the tests do: fsync off, 64 MB shared_buffers).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.queries import Latency, measure_queries
from bench.stores import cached_database, open_stores, store_in_batches
from bench.synthetic import Corpus

RESULTS = Path(__file__).parent / "results"
CHUNK = 50_000


async def ingest(location: Path | str, count: int) -> float:
    """Store `count` generated articles into `location`; articles/s of the store calls."""
    corpus, seconds = Corpus(), 0.0
    async with open_stores(location) as stores:
        for start in range(0, count, CHUNK):
            drafts = [a.draft for a in corpus.articles(min(CHUNK, count - start))]
            began = time.perf_counter()
            await store_in_batches(stores, drafts)
            seconds += time.perf_counter() - began
            print(f"  {location if isinstance(location, Path) else 'postgresql'}:"
                  f" {start + len(drafts):,} stored", flush=True)  # fmt: skip
        if not isinstance(location, Path):
            await stores.db.execute("VACUUM (ANALYZE) articles")
    return count / seconds


async def _sqlite(count: int, repeats: int) -> tuple[float, list[Latency]]:
    RESULTS.mkdir(exist_ok=True)
    path, rate = await cached_database(count, RESULTS)
    if rate is None:
        with tempfile.TemporaryDirectory(dir=RESULTS) as folder:
            rate = await ingest(Path(folder) / "ingest.sqlite3", count)
    return rate, await measure_queries(path, repeats=repeats)


async def _postgres(server, count: int, repeats: int) -> tuple[float, list[Latency]]:
    name = await server.create_database()
    try:
        url = server.database_url(name)
        rate = await ingest(url, count)
        return rate, await measure_queries(url, repeats=repeats)
    finally:
        await server.drop_database(name)


def _report(count: int, sqlite, postgres) -> None:
    print(f"\n| {count:,} articles | SQLite | PostgreSQL |\n|---|---|---|")
    print(f"| ingestion, store path | {sqlite[0]:,.0f}/s | {postgres[0]:,.0f}/s |")
    for lite, pg in zip(sqlite[1], postgres[1], strict=True):
        matches = "" if lite.matches is None else f" ({lite.matches:,} / {pg.matches:,} matches)"
        print(f"| {lite.name}{matches} p50 / p99 ms | {lite.p50_ms:.2f} / {lite.p99_ms:.2f} |"
              f" {pg.p50_ms:.2f} / {pg.p99_ms:.2f} |")  # fmt: skip


async def _main(args: argparse.Namespace) -> None:
    from bench.postgres_server import bench_server

    with bench_server(args.url) as server:
        print("SQLite…", flush=True)
        sqlite = await _sqlite(args.articles, args.repeats)
        print("PostgreSQL…", flush=True)
        postgres = await _postgres(server, args.articles, args.repeats)
        _report(args.articles, sqlite, postgres)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--url", help="a PostgreSQL server URL allowed to create databases")
    asyncio.run(_main(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
