"""SQLite and PostgreSQL side by side: ingestion rate and /latest, /search latency.

    python -m bench.postgres [--articles 200000] [--ingest-articles N] [--sqlite-db PATH]
                             [--repeats 200] [--url postgresql://…]

/latest and /search are timed through NewsService (bench.queries) on the same articles in each
backend: the SQLite database is `--sqlite-db` or the cached one of `--articles` in bench/results
(built when missing), and the PostgreSQL one is made from it by the product's `akhbar db copy`
(bot.ops.db_copy), then VACUUM ANALYZEd as autovacuum would soon do. `--sqlite-db` whose schema
is older is migrated in place, without the copy the bot makes before migrating its own database.

Ingestion is measured apart, on fresh databases of `--ingest-articles` (default: `--articles`,
at most 200,000) generated articles stored through IngestionService.store, one 500-article
transaction at a time, as bench.stores does. `--url` names a server where databases may be
created; without it a throwaway cluster is started (as the tests do: fsync off, 64 MB
shared_buffers).
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.queries import Latency, measure_queries
from bench.report import ResultsFile
from bench.stores import cached_database, open_stores, store_in_batches
from bench.synthetic import Corpus

RESULTS = Path(__file__).parent / "results"
CHUNK = 50_000
MOST_INGESTED = 200_000  # PostgreSQL stores ~2,000/s here: 1,000,000 would take ~8 minutes


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


async def _migrated_in_place(path: Path) -> Path:
    """`path` at this Akhbar's schema. Not through database.connect: it would first copy the
    file next to itself (6 GB at 1,000,000 articles), and a benchmark database is rebuilt,
    never restored."""
    import aiosqlite

    from bot.reading import search_text
    from storage import database

    async with aiosqlite.connect(path) as db:
        # The function the articles' triggers call, should a migration write articles.
        await db.create_function("akhbar_terms", 1, search_text.index_text, deterministic=True)
        await database.migrate(db)
    return path


def _article_count(path: Path) -> int:
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM articles").fetchone()[0]


async def _sqlite_rate(count: int) -> float:
    with tempfile.TemporaryDirectory(dir=RESULTS) as folder:
        return await ingest(Path(folder) / "ingest.sqlite3", count)


async def _postgres_rate(server, count: int) -> float:
    name = await server.create_database()
    try:
        return await ingest(server.database_url(name), count)
    finally:
        await server.drop_database(name)


async def _copied_latency(server, sqlite: Path, repeats: int) -> tuple[float, list[Latency]]:
    """`sqlite` copied by `akhbar db copy` into a fresh database: seconds, and its latency."""
    from bot.ops.db_copy import copy_to_postgres

    name = await server.create_database()
    try:
        url = server.database_url(name)
        began = time.perf_counter()
        await copy_to_postgres(sqlite, url)
        seconds = time.perf_counter() - began
        async with open_stores(url) as stores:
            await stores.db.execute("VACUUM (ANALYZE)")
        return seconds, await measure_queries(url, repeats=repeats)
    finally:
        await server.drop_database(name)


def _report(out: ResultsFile, count: int, ingested: int, rates: tuple[float, float],
            copy_s: float, sqlite: list[Latency], postgres: list[Latency]) -> None:  # fmt: skip
    out.add(f"| {count:,} articles | SQLite | PostgreSQL |\n|---|---|---|")
    out.add(f"| ingestion, store path ({ingested:,} generated articles) | {rates[0]:,.0f}/s |"
            f" {rates[1]:,.0f}/s |")  # fmt: skip
    out.add(f"| PostgreSQL database made by `akhbar db copy` | | {copy_s:.0f} s |")
    for lite, pg in zip(sqlite, postgres, strict=True):
        matches = "" if lite.matches is None else f" ({lite.matches:,} / {pg.matches:,} matches)"
        out.add(f"| {lite.name}{matches} p50 / p99 ms | {lite.p50_ms:.2f} / {lite.p99_ms:.2f} |"
                f" {pg.p50_ms:.2f} / {pg.p99_ms:.2f} |")  # fmt: skip


async def _main(args: argparse.Namespace) -> None:
    from bench.postgres_server import bench_server

    RESULTS.mkdir(exist_ok=True)
    if args.sqlite_db:
        sqlite = await _migrated_in_place(args.sqlite_db)
    else:
        sqlite, _ = await cached_database(args.articles, RESULTS)
    count = _article_count(sqlite)
    ingested = args.ingest_articles or min(args.articles, MOST_INGESTED)
    with bench_server(args.url) as server:
        print(f"Ingestion of {ingested:,} articles…", flush=True)
        rates = await _sqlite_rate(ingested), await _postgres_rate(server, ingested)
        print(f"SQLite queries on {sqlite}…", flush=True)
        lite = await measure_queries(sqlite, repeats=args.repeats)
        print("`akhbar db copy` into PostgreSQL, then its queries…", flush=True)
        copy_seconds, pg = await _copied_latency(server, sqlite, args.repeats)
    out = ResultsFile(__doc__.split("\n\n", 2)[2])
    _report(out, count, ingested, rates, copy_seconds, lite, pg)
    out.write(args.out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--ingest-articles", type=int, help="default: --articles, at most 200,000")
    parser.add_argument("--sqlite-db", type=Path, help="a database of generated articles to query")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--url", help="a PostgreSQL server URL allowed to create databases")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "postgres_results.md")
    args = parser.parse_args(argv)
    if args.sqlite_db and not args.sqlite_db.is_file():
        parser.error(f"--sqlite-db {args.sqlite_db}: no such file")
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
