"""Copying an Akhbar database from SQLite into PostgreSQL (`akhbar db copy`).

Generic by design: the tables and columns are read from both databases, and every table they
have in common is copied, for the columns they share, so a migration written on both engines
needs no change here. Tables go parents first (by PostgreSQL's foreign keys); each is read in
batches inside one SQLite read transaction (a consistent snapshot, even of a running bot's
file) and written inside one PostgreSQL transaction (a failed copy leaves nothing behind).

Special handling, and why:
- `articles.search` exists only on PostgreSQL: the tsvector of the search terms, made from
  title and body by the Python function the bot indexes with (`db.index_terms`), weighted as
  storage.articles weights them. SQLite keeps those terms in `articles_fts`, not copied.
- `article_topics`, `article_total` and `topic_counts` are kept by a trigger on `articles` on
  both engines. User triggers are disabled during the copy and these tables copied as they
  are; otherwise every article would be counted twice.
- Rows the migrations insert themselves (`article_total`'s counter, say) do not make a target
  count as non-empty: the migrations are run in a scratch schema, rolled back, to know them.
  The copy replaces them with the SQLite database's own.
- Identity columns: their sequences are set past the largest copied id, so new rows get
  fresh ones.
- Values: SQLite lets an INTEGER column hold 3.0 or '3'. Each value is converted to the
  PostgreSQL column's type; one that would change (2.5 into a BIGINT) stops the copy, naming
  the table, column and value. NUL characters, which PostgreSQL's text refuses, are dropped.
"""

from __future__ import annotations

import asyncio
import math
import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import CopyRefused
from storage import postgres
from storage.connection import Connection
from storage.database import transaction

BATCH_ROWS = 2000
SAMPLE_ROWS = 25
_PROBE = "akhbar_copy_probe"
_SEARCH_TERMS = ("akhbar_title_terms", "akhbar_body_terms")
# As storage.articles indexes: title terms weighted A, body terms B, no stemming of its own.
_SEARCH = (
    "setweight(to_tsvector('simple', u.akhbar_title_terms), 'A')"
    " || setweight(to_tsvector('simple', u.akhbar_body_terms), 'B')"
)
_INTEGERS = frozenset({"bigint", "integer", "smallint"})
_FLOATS = frozenset({"double precision", "real"})

Value = Any
Terms = Callable[[str | None], str]


@dataclass(frozen=True, slots=True)
class TableCopied:
    """One table copied: its rows and how long they took."""

    name: str
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to copy of one table: shared columns with their PostgreSQL types."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    with_search: bool


class SqliteSnapshot:
    """A SQLite database read inside one transaction: every table as of the same moment.

    Synchronous (sqlite3): call its methods in a thread, one at a time."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise CopyRefused(f"{path}: no such file")
        # Read-write (a read-only connection cannot open a WAL database without its -shm), but
        # only ever read; mode=rw never creates a file.
        self._db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=rw",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
        self.path = path
        try:
            self._db.execute("BEGIN")
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            self.version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.DatabaseError as error:
            self.close()
            raise CopyRefused(f"{path}: not a SQLite database ({error})") from None

    def close(self) -> None:
        self._db.close()

    def tables(self) -> dict[str, tuple[str, ...]]:
        names = [
            row[0]
            for row in self._db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: tuple(row[1] for row in self._db.execute(f"PRAGMA table_info({_quote(name)})"))
            for name in names
        }

    def count(self, table: str) -> int:
        return self._db.execute(f"SELECT count(*) FROM {_quote(table)}").fetchone()[0]

    def batches(self, table: str, columns: Sequence[str], size: int) -> Iterator[list[tuple]]:
        """The table's rows in batches of `size`, in rowid (or primary key) order."""
        order = " ORDER BY rowid" if self._has_rowid(table) else ""
        cursor = self._db.execute(
            f"SELECT {', '.join(_quote(c) for c in columns)} FROM {_quote(table)}{order}"
        )
        while batch := cursor.fetchmany(size):
            yield batch

    def _has_rowid(self, table: str) -> bool:
        try:
            self._db.execute(f"SELECT rowid FROM {_quote(table)} LIMIT 0")
        except sqlite3.OperationalError:
            return False  # WITHOUT ROWID: scanned in primary key order anyway
        return True


async def target_tables(db: Connection) -> dict[str, dict[str, str]]:
    """Every table of the PostgreSQL schema: its columns and their types, in order."""
    rows = await db.execute_fetchall(
        "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod)"
        " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
        " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"
    )
    tables: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        tables.setdefault(table, {})[column] = kind
    return tables


async def _parents(db: Connection) -> list[tuple[str, str]]:
    rows = await db.execute_fetchall(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
        " WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"
    )
    return [(child.strip('"'), parent.strip('"')) for child, parent in rows]


def _parents_first(tables: Sequence[str], edges: Sequence[tuple[str, str]]) -> list[str]:
    parents = {t: {p for c, p in edges if c == t and p != t and p in tables} for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        waiting = [t for t in sorted(tables) if t not in ordered]
        # A cycle would leave none ready: go on in name order, the copy says what failed.
        ordered += [t for t in waiting if parents[t] <= set(ordered)] or waiting[:1]
    return ordered


async def plan(db: Connection, snapshot: SqliteSnapshot) -> list[_Plan]:
    """The tables both databases have, parents first, with the columns they share."""
    source = await asyncio.to_thread(snapshot.tables)
    target = await target_tables(db)
    common = [t for t in target if t in source]
    plans = []
    for table in _parents_first(common, await _parents(db)):
        ours, theirs = target[table], source[table]
        columns = tuple(c for c in ours if c in theirs)
        with_search = table == "articles" and "search" in ours and "search" not in theirs
        plans.append(_Plan(table, columns, tuple(ours[c] for c in columns), with_search))
    return plans


async def filled_tables(db: Connection, tables: Sequence[str]) -> list[str]:
    """The tables holding rows beyond those the migrations themselves insert."""
    seeded = await _seeded_rows(db)
    filled = []
    for table in tables:
        if seeded.get(table, 0):
            rows = await db.execute_fetchall(f"SELECT count(*) FROM {_quote(table)}")
            if rows[0][0] != seeded[table]:
                filled.append(table)
            continue
        rows = await db.execute_fetchall(f"SELECT EXISTS (SELECT 1 FROM {_quote(table)})")
        if rows[0][0]:
            filled.append(table)
    return filled


class _Probed(Exception):
    """Ends the probe's transaction, rolling it back."""


async def _seeded_rows(db: Connection) -> dict[str, int]:
    """Rows per table of a freshly migrated schema (made in a scratch schema, rolled back)."""
    seeded: dict[str, int] = {}
    try:
        async with transaction(db):
            await db.execute(f"CREATE SCHEMA {_PROBE}")
            await db.execute(f"SET LOCAL search_path = {_PROBE}")
            for _, script in postgres.migrations():
                await db.executescript(script)
            for table in await target_tables(db):
                rows = await db.execute_fetchall(f"SELECT count(*) FROM {_quote(table)}")
                seeded[table] = rows[0][0]
            raise _Probed
    except _Probed:
        return seeded
    except postgres.driver().InsufficientPrivilegeError:
        return {}  # then any row counts as data: --force is the way past


async def copy_all(
    db: Connection,
    snapshot: SqliteSnapshot,
    plans: Sequence[_Plan],
    *,
    on_table: Callable[[TableCopied], None] = lambda _: None,
    batch_rows: int = BATCH_ROWS,
) -> list[TableCopied]:
    """Replace the target's rows with the snapshot's, in one transaction, and verify them:
    the same count per table, and a sample of rows found with every field equal."""
    names = [p.name for p in plans]
    copied = []
    async with transaction(db, immediate=True):
        if names:
            await db.execute(f"TRUNCATE {', '.join(_quote(n) for n in names)} RESTART IDENTITY")
        triggered = await _tables_with_triggers(db, names)
        for table in triggered:
            await db.execute(f"ALTER TABLE {_quote(table)} DISABLE TRIGGER USER")
        for table in plans:
            copied.append(await _copy_table(db, snapshot, table, batch_rows))
            on_table(copied[-1])
        for table in triggered:
            await db.execute(f"ALTER TABLE {_quote(table)} ENABLE TRIGGER USER")
        await _advance_identities(db, names)
    return copied


async def _tables_with_triggers(db: Connection, tables: Sequence[str]) -> list[str]:
    rows = await db.execute_fetchall(
        "SELECT DISTINCT c.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE NOT g.tgisinternal AND n.nspname = current_schema()"
    )
    return [row[0] for row in rows if row[0] in tables]


async def _copy_table(
    db: Connection, snapshot: SqliteSnapshot, table: _Plan, batch_rows: int
) -> TableCopied:
    started = time.monotonic()
    expected = await asyncio.to_thread(snapshot.count, table.name)
    convert = _converter(table)
    terms: Terms | None = getattr(db, "index_terms", None) if table.with_search else None
    sql = _insert_sql(table)
    batches = snapshot.batches(table.name, table.columns, batch_rows)
    sample = _Reservoir(SAMPLE_ROWS, seed=table.name)

    def next_batch() -> tuple[list[tuple], list[list[Value]]] | None:
        rows = next(batches, None)
        if rows is None:
            return None
        converted = [convert(row) for row in rows]
        arrays = [list(column) for column in zip(*converted, strict=True)]
        if terms is not None:
            title, body = table.columns.index("title"), table.columns.index("body")
            arrays.append([terms(row[title]) for row in converted])
            arrays.append([terms(row[body]) for row in converted])
        return converted, arrays

    # The next batch is read (and its search terms made) while this one is written.
    pending = asyncio.ensure_future(asyncio.to_thread(next_batch))
    written = 0
    try:
        while (batch := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(next_batch))
            converted, arrays = batch
            await _write(db, sql, arrays, table.name)
            written += len(converted)
            sample.offer(converted)
    except BaseException:
        # The snapshot is closed after this: let the read in flight end first.
        await asyncio.gather(pending, return_exceptions=True)
        raise
    await _verify(db, table, expected, written, sample.rows)
    return TableCopied(table.name, written, time.monotonic() - started)


async def _write(db: Connection, sql: str, arrays: list[list[Value]], table: str) -> None:
    try:
        await db.execute(sql, arrays)
    except postgres.driver_errors() as error:
        # The whole copy rolls back; say which table, and PostgreSQL's reason in one line.
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CopyRefused(f"{table}: PostgreSQL refused the rows: {reason}") from None


def _insert_sql(table: _Plan) -> str:
    names = [_quote(c) for c in table.columns]
    arrays = [f"CAST(? AS {kind}[])" for kind in table.types]
    selected = [f"u.{name}" for name in names]
    aliases = list(names)
    if table.with_search:
        names.append("search")
        arrays += ["CAST(? AS text[])", "CAST(? AS text[])"]
        aliases += _SEARCH_TERMS
        selected.append(_SEARCH)
    return (
        f"INSERT INTO {_quote(table.name)} ({', '.join(names)})"
        f" SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)})"
        f" AS u({', '.join(aliases)})"
    )


async def _verify(
    db: Connection, table: _Plan, expected: int, written: int, sample: list[tuple]
) -> None:
    rows = await db.execute_fetchall(f"SELECT count(*) FROM {_quote(table.name)}")
    if not expected == written == rows[0][0]:
        raise CopyRefused(
            f"{table.name}: {expected} rows in SQLite, {written} read, {rows[0][0]} in PostgreSQL"
        )
    for row in sample:
        # `=` where there is a value, so the primary key's index finds the row.
        match = " AND ".join(
            f"{_quote(c)} IS NULL" if value is None else f"{_quote(c)} = CAST(? AS {kind})"
            for c, kind, value in zip(table.columns, table.types, row, strict=True)
        )
        values = [value for value in row if value is not None]
        found = await db.execute_fetchall(
            f"SELECT EXISTS (SELECT 1 FROM {_quote(table.name)} WHERE {match})", values
        )
        if not found[0][0]:
            shown = dict(zip(table.columns, row, strict=True))
            raise CopyRefused(f"{table.name}: a copied row differs from SQLite's: {shown}")


async def _advance_identities(db: Connection, tables: Sequence[str]) -> None:
    rows = await db.execute_fetchall(
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND a.attidentity <> '' AND a.attnum > 0"
    )
    for table, column in rows:
        if table not in tables:
            continue
        await db.execute(
            "SELECT setval(pg_get_serial_sequence(?, ?),"
            f" coalesce((SELECT max({_quote(column)}) FROM {_quote(table)}), 0) + 1, false)",
            (_quote(table), column),
        )


def _converter(table: _Plan) -> Callable[[tuple], tuple]:
    fits = [_fitting(table.name, column, kind) for column, kind in zip(
        table.columns, table.types, strict=True)]  # fmt: skip

    def convert(row: tuple) -> tuple:
        return tuple(fit(value) for fit, value in zip(fits, row, strict=True))

    return convert


def _fitting(table: str, column: str, kind: str) -> Callable[[Value], Value]:
    """The function that gives a SQLite value the PostgreSQL column's type, or refuses."""

    def refuse(value: Value) -> CopyRefused:
        return CopyRefused(
            f"{table}.{column}: the value {value!r} does not fit PostgreSQL's {kind}"
        )

    def integer(value: Value) -> Value:
        if value is None or type(value) is int:
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise refuse(value)

    def real(value: Value) -> Value:
        if value is None or type(value) is float:
            return value
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise refuse(value) from None
        if math.isnan(number):
            raise refuse(value)
        return number

    def text(value: Value) -> Value:
        if type(value) is str:
            # PostgreSQL's text cannot hold NUL, which SQLite's can: it carried nothing.
            return value.replace("\x00", "") if "\x00" in value else value
        if value is None:
            return value
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                raise refuse(value) from None
        return str(value)

    if kind in _INTEGERS:
        return integer
    if kind in _FLOATS:
        return real
    if kind == "text":
        return text
    return lambda value: value


class _Reservoir:
    """A uniform random sample of the rows seen, of at most `size` rows (reservoir sampling)."""

    def __init__(self, size: int, *, seed: str) -> None:
        self._size, self._seen, self.rows = size, 0, []
        self._random = random.Random(seed)

    def offer(self, rows: Sequence[tuple]) -> None:
        for row in rows:
            self._seen += 1
            if len(self.rows) < self._size:
                self.rows.append(row)
                continue
            slot = self._random.randrange(self._seen)
            if slot < self._size:
                self.rows[slot] = row


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
