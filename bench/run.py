"""The benchmarks' one entry point: `python -m bench.run [--quick]`.

The full run ingests 100,000 articles, queries databases of 100,000 and 1,000,000 articles
(built once and cached in bench/results/), measures the running bot, then runs the broadcast
(`bench.broadcast`), subscribers-at-scale (`bench.scale`) and image-report
(`bench.moderation`) benchmarks; it rewrites BENCHMARKS.md. --quick does the same at 10,000
articles and 300 chats in one to two minutes on the 2-core CI machine (measured 30 Nov 2026:
65 s when quiet, 88 s while other jobs ran); it leaves BENCHMARKS.md alone and writes its
tables under bench/results/.

Run on their own, not from here: `python -m bench.postgres [--articles N]` (SQLite beside
PostgreSQL: ingestion and /latest, /search latency at N articles), `python -m bench.multiprocess`
(broadcast by `akhbar run` on SQLite and by 1-3 processes on PostgreSQL) and `python -m
bench.webhook` (updates handled per second in webhook mode by one and two processes on
PostgreSQL).
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

from bench.ingest import IngestResult, measure_ingestion
from bench.memory import MemoryResult, measure_bot_memory
from bench.queries import Latency, measure_queries
from bench.report import Row, markdown, table
from bench.stores import cached_database

RESULTS = Path(__file__).parent / "results"
CORE = Path(__file__).parent / "core_results.md"
# Run by bench.run, then run on their own: (module, section title).
RUN_HERE = (
    ("scale", "Subscribers at scale"),
    ("broadcast", "Broadcast engine"),
    ("moderation", "Image reports"),
    ("polling", "Source polling"),
)
ON_THEIR_OWN = (
    ("multiprocess", "Several processes on one PostgreSQL database"),
    ("postgres", "PostgreSQL beside SQLite"),
    ("webhook", "Webhook mode on PostgreSQL"),
    ("db_copy", "Moving to PostgreSQL"),
)
BENCHMARKS = Path(__file__).parent.parent / "BENCHMARKS.md"
ANALYSIS = Path(__file__).parent / "analysis.md"

INTRO = """Written by `python -m bench.run` (full run; `--quick` is a smoke run), with the tables
of the benchmarks run on their own (PostgreSQL) from their results files; the machine and date
of each run are given with its tables."""

INGEST_TARGET, STORE_TARGET = 3_000, 20_000
LATEST_P99_MS, SEARCH_P99_MS, RSS_MB = 5.0, 50.0, 150.0


def _ingest_rows(result: IngestResult) -> list[Row]:
    section = f"Ingestion ({result.articles:,} articles, {result.stored:,} stored)"
    rows = [
        Row(section, "end to end, `akhbar import` path, one file after another",
            f"{result.sequential_rate:,.0f}/s", f">= {INGEST_TARGET:,}/s",
            result.sequential_rate >= INGEST_TARGET),
        Row(section, "end to end, parsing in 2 worker processes while storing",
            f"{result.pipelined_rate:,.0f}/s", f">= {INGEST_TARGET:,}/s",
            result.pipelined_rate >= INGEST_TARGET),
        Row(section, "store + index alone (IngestionService.store)",
            f"{result.store_rate:,.0f}/s", f">= {STORE_TARGET:,}/s",
            result.store_rate >= STORE_TARGET),
    ]  # fmt: skip
    rows += [
        Row(section, f"share of sequential time: {stage}", f"{share:.0%}")
        for stage, share in result.shares.items()
    ]
    return rows


def _latency_rows(count: int, latencies: list[Latency], judged: bool) -> list[Row]:
    section = f"Query latency at {count:,} articles (p50 / p99)"
    rows = []
    for latency in latencies:
        limit = LATEST_P99_MS if latency.name.startswith("latest") else SEARCH_P99_MS
        matches = "" if latency.matches is None else f", {latency.matches:,} matches"
        rows.append(
            Row(section, f"{latency.name}{matches}",
                f"{latency.p50_ms:.2f} / {latency.p99_ms:.2f} ms",
                f"p99 < {limit:g} ms" if judged else "",
                latency.p99_ms < limit if judged else None)
        )  # fmt: skip
    return rows


def _memory_rows(count: int, result: MemoryResult) -> list[Row]:
    section = f"Memory of the running bot at {count:,} articles (VmRSS)"
    return [
        Row(section, "after start-up and /start", f"{result.after_start_mb:.0f} MB"),
        Row(section, f"after {result.commands} commands (/latest, /search)",
            f"{result.after_queries_mb:.0f} MB", f"< {RSS_MB:g} MB",
            result.after_queries_mb < RSS_MB),
        Row(section, "peak (VmHWM)", f"{result.peak_mb:.0f} MB"),
    ]  # fmt: skip


async def _run(quick: bool) -> list[Row]:
    RESULTS.mkdir(exist_ok=True)
    ingest_count, sizes, repeats = (
        (10_000, (10_000,), 30) if quick else (100_000, (100_000, 1_000_000), 300)
    )
    print(f"ingesting {ingest_count:,} articles…", flush=True)
    rows = _ingest_rows(await measure_ingestion(ingest_count, RESULTS))
    database = RESULTS
    for size in sizes:
        print(f"database of {size:,} articles (cached after the first build)…", flush=True)
        database, build_rate = await cached_database(size, RESULTS)
        if build_rate is not None:
            print(f"  built at {build_rate:,.0f} articles/s", flush=True)
        latencies = await measure_queries(database, repeats=repeats)
        rows += _latency_rows(size, latencies, judged=size == sizes[-1])
    print("running the bot against the emulator…", flush=True)
    rows += _memory_rows(sizes[-1], await measure_bot_memory(database, RESULTS))
    return rows


def _other_benchmarks(quick: bool) -> None:
    """Run the scale, broadcast, moderation and polling benchmarks (each in its own
    processes); a quick run writes their tables under bench/results/ instead."""
    for name, title in RUN_HERE:
        out = RESULTS / f"{name}_quick.md" if quick else _results(name)
        print(f"{title.lower()} benchmark…", flush=True)
        extra = ["--quick"] if quick else []
        subprocess.run(
            [sys.executable, "-m", f"bench.{name}", "--out", str(out), *extra], check=True
        )


def _results(name: str) -> Path:
    return Path(__file__).parent / f"{name}_results.md"


def _nested(text: str) -> str:
    """A results file under its section: its own title dropped, its headings one level down."""
    lines = text.strip().splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(f"#{line}" if line.startswith("#") else line for line in lines).strip()


def assemble() -> None:
    """BENCHMARKS.md from the last full run's tables and every benchmark's results file."""
    sections = [CORE.read_text(encoding="utf-8").strip()]
    for name, title in (*RUN_HERE, *ON_THEIR_OWN):
        if _results(name).exists():
            text = _nested(_results(name).read_text(encoding="utf-8"))
            sections.append(f"## {title} (`python -m bench.{name}`)\n\n{text}")
    sections.append(ANALYSIS.read_text(encoding="utf-8").strip())
    BENCHMARKS.write_text("\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {BENCHMARKS}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a 1-2 minute smoke run: 10,000 articles, fewer queries, 300 chats",
    )
    parser.add_argument(
        "--core",
        action="store_true",
        help="measure only ingestion, query latency and the bot's memory (about 15 minutes),"
        " then rewrite BENCHMARKS.md with the other benchmarks' last tables",
    )
    parser.add_argument(
        "--assemble",
        action="store_true",
        help="measure nothing: rewrite BENCHMARKS.md from the results files",
    )
    args = parser.parse_args()
    if not args.assemble:
        rows = asyncio.run(_run(args.quick))
        print(table(rows))
        if not args.quick:
            CORE.write_text(markdown(rows, intro=INTRO, notes=""), encoding="utf-8")
        if not args.core:
            _other_benchmarks(args.quick)
    if not args.quick:
        assemble()


if __name__ == "__main__":
    main()
