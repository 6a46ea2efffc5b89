"""Per-source fetch state: validators for conditional GET and the last outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiosqlite import Connection

from storage.timestamps import to_db


@dataclass(frozen=True, slots=True)
class SourceState:
    name: str
    etag: str | None = None
    last_modified: str | None = None
    last_error: str | None = None


async def get(db: Connection, name: str) -> SourceState:
    """The stored state of a source (empty when it was never fetched)."""
    rows = await db.execute_fetchall(
        "SELECT name, etag, last_modified, last_error FROM sources WHERE name = ?", (name,)
    )
    if not rows:
        return SourceState(name=name)
    row = rows[0]
    return SourceState(row["name"], row["etag"], row["last_modified"], row["last_error"])


async def record_fetch(
    db: Connection,
    name: str,
    *,
    at: datetime,
    etag: str | None,
    last_modified: str | None,
    error: str | None,
) -> None:
    """Remember the outcome of fetching a source; validators are kept when not replaced."""
    await db.execute(
        "INSERT INTO sources (name, etag, last_modified, last_fetched_at, last_error)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET"
        " etag = coalesce(excluded.etag, etag),"
        " last_modified = coalesce(excluded.last_modified, last_modified),"
        " last_fetched_at = excluded.last_fetched_at, last_error = excluded.last_error",
        (name, etag, last_modified, to_db(at), error),
    )
