"""The PostgreSQL backend: an asyncpg pool behind the connection surface storage uses.

Statements keep SQLite's `?` placeholders; they become `$1, $2…` here. Outside a transaction
each statement runs on any pooled connection and commits by itself; inside `transaction()`
every statement of the task runs on the one connection holding the transaction. Migrations
run under an advisory lock, so of several processes starting at once exactly one applies them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from importlib import resources
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from bot.errors import DatabaseUnavailable

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

TermsFunction = Callable[[str | None], str]

# Keys of the advisory locks Akhbar takes (pg_advisory_lock's two-int form: class, object).
LOCK_CLASS = 0x416B68  # "Akh"
MIGRATION_LOCK, WRITE_LOCK, LEADER_LOCK, START_LOCK = 1, 2, 3, 4

_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|\?")
_ROWS = re.compile(r"^\s*(SELECT|VALUES|SHOW|EXPLAIN)\b|\bRETURNING\b", re.IGNORECASE)
_WRITE_CTE = re.compile(r"\b(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def driver() -> ModuleType:
    """asyncpg, imported at its first use: a bot on SQLite never loads it (~3 MB resident)."""
    import asyncpg

    return asyncpg


def driver_errors() -> tuple[type[BaseException], ...]:
    """What a failing server or connection raises: asyncpg's errors, OSError, timeouts."""
    asyncpg = driver()
    return (
        OSError,
        asyncio.TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        # A connection the server cut while an operation was under way may be left in a state
        # asyncpg refuses to go on from: as broken as a closed one.
        asyncpg.InternalClientError,
    )


def is_url(location: str) -> bool:
    return location.startswith(("postgresql://", "postgres://"))


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def numbered(sql: str) -> str:
    """SQLite's `?` placeholders as PostgreSQL's `$n`, leaving literals and comments alone."""
    counter = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal counter
        if match.group(0) != "?":
            return match.group(0)
        counter += 1
        return f"${counter}"

    return _PLACEHOLDER.sub(replace, sql)


def _returns_rows(sql: str) -> bool:
    if _ROWS.search(sql):
        return True
    return sql.lstrip()[:4].upper() == "WITH" and not _WRITE_CTE.search(sql)


def _count(status: str) -> int:
    """Rows affected, from a command status such as 'UPDATE 3' or 'INSERT 0 5'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _numeric(text: str) -> int | float:
    # sum() over integers is NUMERIC in PostgreSQL; callers expect what SQLite gives.
    return int(text) if text.lstrip("-").isdigit() else float(text)


class PgCursor:
    """The result of one statement: its rows (if any) and how many rows it changed."""

    lastrowid = None

    def __init__(self, rows: Sequence[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[asyncpg.Record]:
        return list(self._rows)

    def __aiter__(self) -> AsyncIterator[asyncpg.Record]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[asyncpg.Record]:
        for row in self._rows:
            yield row


class _Statement:
    """Awaitable, or usable as `async with`, like aiosqlite's `execute` result."""

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self):
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(self, *exc: object) -> None:
        return None


class PostgresDatabase:
    """One Akhbar database on PostgreSQL, shared by the services of one process."""

    dialect = "postgresql"

    def __init__(self, pool: asyncpg.Pool, index_terms: TermsFunction, url: str) -> None:
        self._pool = pool
        self.index_terms = index_terms
        self.url = url
        # The transaction's connection and the task that opened it: a task started inside
        # the block inherits the context but must not use a connection it does not own.
        self._current: ContextVar[tuple[asyncio.Task[Any] | None, asyncpg.Connection] | None] = (
            ContextVar(f"akhbar_pg_{id(self)}", default=None)
        )
        # As on SQLite, one transaction at a time per process and database object: code
        # written for SQLite's single connection may rely on it for check-then-write.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        held = self._current.get()
        if held is not None and held[0] is asyncio.current_task():
            yield held[1]
            return
        async with self._pool.acquire() as connection:
            yield connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> _Statement:
        return _Statement(self._execute(sql, parameters))

    async def _execute(self, sql: str, parameters: Sequence[Any]) -> PgCursor:
        query = numbered(sql)
        async with self._connection() as connection:
            if _returns_rows(query):
                rows = await connection.fetch(query, *parameters)
                return PgCursor(rows, len(rows))
            status = await connection.execute(query, *parameters)
            return PgCursor((), _count(status))

    async def execute_fetchall(
        self, sql: str, parameters: Sequence[Any] = ()
    ) -> list[asyncpg.Record]:
        query = numbered(sql)
        async with self._connection() as connection:
            return await connection.fetch(query, *parameters)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> PgCursor:
        """Run one statement per parameter row, all or none; count the rows changed."""
        query, changed = numbered(sql), 0
        async with self._connection() as connection, connection.transaction():
            for row in parameters:
                changed += _count(await connection.execute(query, *row))
        return PgCursor((), changed)

    async def executescript(self, script: str) -> None:
        async with self._connection() as connection:
            await connection.execute(script)

    async def commit(self) -> None:
        """Statements outside `transaction()` commit by themselves."""

    async def rollback(self) -> None:
        """Nothing is pending outside `transaction()`."""

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self, *, immediate: bool = False) -> AsyncIterator[None]:
        """Run the block's statements as one transaction on one connection.

        `immediate` also takes Akhbar's database-wide write lock first, as SQLite's
        `BEGIN IMMEDIATE` does, so check-then-write blocks hold across processes."""
        async with self._lock, self._pool.acquire() as connection, connection.transaction():
            if immediate:
                await connection.execute(
                    "SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, WRITE_LOCK
                )
            token = self._current.set((asyncio.current_task(), connection))
            try:
                yield
            finally:
                self._current.reset(token)


async def _setup_connection(connection: asyncpg.Connection) -> None:
    await connection.set_type_codec(
        "numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text"
    )


async def connect(
    url: str, *, index_terms: TermsFunction, create: bool = True, pool_size: int = 10
) -> PostgresDatabase:
    """Open a pool on the database at `url` and apply pending migrations (`create`), or check
    the schema is there (not `create`); raise DatabaseUnavailable when it cannot be used."""
    try:
        pool = await driver().create_pool(
            url, min_size=1, max_size=pool_size, init=_setup_connection, command_timeout=60
        )
    except (*driver_errors(), ValueError) as error:
        raise DatabaseUnavailable(f"{redacted(url)}: cannot be opened: {_reason(error)}") from None
    db = PostgresDatabase(pool, index_terms, url)
    try:
        if create:
            await migrate(db)
        elif await schema_version(db) == 0:
            raise DatabaseUnavailable(
                f"{redacted(url)}: no Akhbar schema there yet (run, ingest or import makes one)"
            )
    except BaseException:
        await pool.close()
        raise
    return db


def _reason(error: BaseException) -> str:
    # asyncpg's messages name host, port and user, never the password.
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def migrations() -> list[tuple[int, str]]:
    folder = resources.files("storage") / "migrations" / "postgresql"
    scripts = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(int(p.name.split("_", 1)[0]), p.read_text(encoding="utf-8")) for p in scripts]


async def schema_version(db: PostgresDatabase) -> int:
    rows = await db.execute_fetchall(
        "SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN 0"
        " ELSE (SELECT coalesce(max(version), 0) FROM schema_version) END"
    )
    return rows[0][0]


async def migrate(db: PostgresDatabase) -> int:
    """Apply the migrations newer than the recorded version, once whoever else starts too."""
    async with db._pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1, $2)", LOCK_CLASS, MIGRATION_LOCK)
        try:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            version = await connection.fetchval(
                "SELECT coalesce(max(version), 0) FROM schema_version"
            )
            for number, script in migrations():
                if number <= version:
                    continue
                async with connection.transaction():
                    await connection.execute(script)
                    await connection.execute(
                        "INSERT INTO schema_version (version) VALUES ($1)", number
                    )
                log.info("applied PostgreSQL migration %03d", number)
                version = number
            return version
        finally:
            await connection.execute(
                "SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, MIGRATION_LOCK
            )
