"""What every storage function is given: one database, on SQLite or PostgreSQL.

The SQLite backend is an `aiosqlite.Connection`; the PostgreSQL backend (`storage.postgres`)
offers the same small surface over a connection pool. Queries are written once, with `?`
placeholders, in the SQL both engines accept; the few places where the engines differ ask
`is_postgres(db)` (or use `storage.dialect`) in the storage module concerned, never above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol


class Cursor(Protocol):
    rowcount: int

    async def fetchone(self) -> Any: ...

    async def fetchall(self) -> Sequence[Any]: ...


class Connection(Protocol):
    """The part of aiosqlite's connection the storage layer uses."""

    def execute(self, sql: str, parameters: Sequence[Any] = ...) -> Any: ...

    async def execute_fetchall(self, sql: str, parameters: Sequence[Any] = ...) -> Any: ...

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Any: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    async def close(self) -> None: ...


def is_postgres(db: Connection) -> bool:
    return getattr(db, "dialect", "sqlite") == "postgresql"


# A result row: aiosqlite.Row or asyncpg.Record, both indexable by position and by name.
Row = Any
