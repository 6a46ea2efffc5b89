"""`akhbar db copy` speed and memory: a SQLite database of many articles into PostgreSQL.

`python -m bench.db_copy [--articles 300000]`

The SQLite database is the shipped sample news imported once (topic `maroc`), then repeated with
every title and body made unique (so the search-terms memo does not flatter the copy) and two
topics each, until it holds `--articles` articles. It is copied into a fresh database of a
throwaway PostgreSQL cluster (or AKHBAR_TEST_POSTGRES_URL). Reported: rows per table, time,
articles per second and the process's peak memory (the copy reads and writes in batches, so
this should not grow with the database). Needs PostgreSQL's server binaries.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.postgres_server import bench_server
from bot.ops.db_copy import copy_to_postgres
from tests.support.postgres import PostgresServer

SAMPLE = Path(__file__).parent.parent / "bot" / "data" / "sample_news.txt"


def build_sqlite(folder: Path, articles: int) -> Path:
    config = folder / "config.toml"
    config.write_text('[storage]\npath = "akhbar.sqlite3"\n', encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(config), "import", str(SAMPLE),
         "--topic", "maroc"],
        check=True, capture_output=True,
    )  # fmt: skip
    path = folder / "akhbar.sqlite3"
    with sqlite3.connect(path) as db:
        base = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        for round_ in range(1, articles // base):
            db.execute(
                "INSERT INTO articles (source, url, guid, fingerprint, published_at, fetched_at,"
                " sort_at, language, topics, image_url, title, body)"
                " SELECT source, url || '#' || :r, guid || '#' || :r, fingerprint || '#' || :r,"
                ' published_at + :r, fetched_at, sort_at + :r, language, \'["maroc","sport"]\','
                " image_url, title || ' ' || :r, body || ' ' || :r FROM articles WHERE id <= :base",
                {"r": round_, "base": base},
            )
    return path


async def measure(server: PostgresServer, sqlite: Path) -> dict:
    name = await server.create_database()
    try:
        started = time.monotonic()
        report = await copy_to_postgres(sqlite, server.database_url(name))
        seconds = time.monotonic() - started
    finally:
        await server.drop_database(name)
    tables = {t.name: (t.rows, t.seconds) for t in report.tables if t.rows}
    return {
        "tables": tables,
        "seconds": seconds,
        "rows": report.rows,
        "articles_per_second": tables["articles"][0] / tables["articles"][1],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def render(result: dict, articles: int) -> str:
    lines = [
        f"## `akhbar db copy`, SQLite to PostgreSQL ({articles:,} articles)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, Python"
        f" {platform.python_version()}, SQLite {sqlite3.sqlite_version}; one process copying,"
        " PostgreSQL on the same machine (fsync off: the throwaway test cluster).",
        "",
        "| Table | Rows | Seconds |",
        "|---|---:|---:|",
    ]
    lines += [f"| {n} | {rows:,} | {s:.1f} |" for n, (rows, s) in result["tables"].items()]
    lines += [
        "",
        f"- whole copy: {result['rows']:,} rows in {result['seconds']:.1f} s"
        f" ({result['rows'] / result['seconds']:,.0f} rows/s)",
        f"- articles (search terms made in Python): {result['articles_per_second']:,.0f}/s",
        f"- peak memory of the process: {result['peak_rss_mb']:.0f} MB",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300_000)
    args = parser.parse_args()
    with bench_server() as server, tempfile.TemporaryDirectory() as folder:
        sqlite = build_sqlite(Path(folder), args.articles)
        result = asyncio.run(measure(server, sqlite))
    text = render(result, args.articles)
    (Path(__file__).parent / "db_copy_results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
