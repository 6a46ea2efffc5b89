"""`akhbar db copy`: move an installation from its SQLite file to a PostgreSQL database.

The copy reads the SQLite file as of one moment (a running bot may keep writing, but what it
writes afterwards is not copied: stop it first), migrates the PostgreSQL database to this
Akhbar's schema, copies every table in one transaction, verifies counts and a sample of rows,
and sets the id sequences past the copied ids. The work is storage.copying's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.config import postgres_url_problem
from bot.errors import CopyRefused
from bot.reading import search_text
from storage import copying, database, postgres
from storage.copying import TableCopied


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What was copied, table by table, and how long it took in all."""

    tables: tuple[TableCopied, ...]
    seconds: float

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


async def copy_to_postgres(
    source: Path,
    url: str,
    *,
    replace: bool = False,
    on_table: Callable[[TableCopied], None] = lambda _: None,
) -> CopyReport:
    """Copy the SQLite database at `source` into the PostgreSQL database at `url`.

    Refuses (CopyRefused) a missing or non-Akhbar file, a schema older or newer than this
    Akhbar's, and a target that already holds data unless `replace`; DatabaseUnavailable when
    the target cannot be reached. Messages name the URL without its password."""
    if postgres.is_url(str(source)):
        raise CopyRefused(f"--from takes the SQLite file, not {postgres.redacted(str(source))}")
    if not postgres.is_url(url):
        raise CopyRefused("--to takes a postgresql://user:password@host/database URL")
    if problem := postgres_url_problem(url):
        raise CopyRefused(f"the PostgreSQL URL {problem}")
    started = time.monotonic()
    snapshot = await asyncio.to_thread(copying.SqliteSnapshot, source)
    try:
        if snapshot.version == 0:
            raise CopyRefused(f"{source}: not an Akhbar database (no schema version)")
        db = await database.connect(url, index_terms=search_text.index_text, pool_size=2)
        try:
            await _check_versions(db, snapshot, url)
            plans = await copying.plan(db, snapshot)
            filled = await copying.filled_tables(db, [p.name for p in plans])
            if filled and not replace:
                raise CopyRefused(
                    f"{postgres.redacted(url)} already holds data ({', '.join(filled[:5])}):"
                    " copy into an empty database, or pass --force to replace what it holds"
                )
            tables = await copying.copy_all(db, snapshot, plans, on_table=on_table)
        finally:
            await db.close()
    finally:
        await asyncio.to_thread(snapshot.close)
    return CopyReport(tuple(tables), time.monotonic() - started)


async def _check_versions(db, snapshot: copying.SqliteSnapshot, url: str) -> None:
    # Both engines number their migrations alike: a copy needs the same schema on both sides.
    expected = await postgres.schema_version(db)
    if snapshot.version < expected:
        raise CopyRefused(
            f"{snapshot.path} has schema version {snapshot.version}, this Akhbar's is {expected}:"
            " let this version migrate it first (akhbar stats with the SQLite config does, after"
            " backing the file up), then copy"
        )
    if snapshot.version > expected:
        raise CopyRefused(
            f"{snapshot.path} has schema version {snapshot.version}, newer than this Akhbar's"
            f" ({expected}) at {postgres.redacted(url)}: copy with the version that wrote it"
        )
