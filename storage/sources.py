"""News sources: what to fetch, when next, fetch validators and health."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from bot.models import PauseReason, Source
from storage.connection import Connection, Row, is_postgres
from storage.timestamps import optional_from_db, optional_to_db

_COLUMNS = (
    "name, url, kind, language, topics, poll_minutes, paused_reason, next_poll_at, etag,"
    " last_modified, failures, failing_since, error_kind, last_error, last_success_at, alerted"
)


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """What one poll of a source changes in its row."""

    at: datetime
    next_poll_at: datetime
    etag: str | None = None
    last_modified: str | None = None
    error_kind: str | None = None
    error: str | None = None
    new_url: str | None = None
    gone: bool = False
    alerted: bool = False


def host_of(url: str) -> str:
    """The host name a source's address names (lower case), as the per-host limit counts it."""
    return (urlsplit(url).hostname or "").lower()


def _to_source(row: Row) -> Source:
    reason = row["paused_reason"]
    return Source(
        name=row["name"],
        url=row["url"],
        kind=row["kind"],
        language=row["language"],
        topics=tuple(json.loads(row["topics"])),
        poll_minutes=row["poll_minutes"],
        paused_reason=PauseReason(reason) if reason else None,
        next_poll_at=optional_from_db(row["next_poll_at"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        failures=row["failures"],
        failing_since=optional_from_db(row["failing_since"]),
        error_kind=row["error_kind"],
        last_error=row["last_error"],
        last_success_at=optional_from_db(row["last_success_at"]),
        alerted=bool(row["alerted"]),
    )


async def add(db: Connection, source: Source, *, at: datetime) -> bool:
    """Add a source due at once; False when its name is taken. Rows that only held
    validators (written before sources lived here) take the address."""
    cursor = await db.execute(
        "INSERT INTO sources (name, url, host, kind, language, topics, poll_minutes, added_at,"
        " next_poll_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (name) DO UPDATE SET url = excluded.url, host = excluded.host,"
        " kind = excluded.kind,"
        " language = excluded.language, topics = excluded.topics,"
        " poll_minutes = excluded.poll_minutes, added_at = excluded.added_at,"
        " next_poll_at = excluded.next_poll_at WHERE sources.url IS NULL",
        (
            source.name,
            source.url,
            host_of(source.url),
            source.kind,
            source.language,
            json.dumps(list(source.topics), ensure_ascii=False),
            source.poll_minutes,
            optional_to_db(at),
            optional_to_db(at),
        ),
    )
    return cursor.rowcount > 0


async def get(db: Connection, name: str) -> Source | None:
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM sources WHERE name = ? AND url IS NOT NULL", (name,)
    )
    return _to_source(rows[0]) if rows else None


async def by_url(db: Connection, url: str) -> Source | None:
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM sources WHERE url = ? LIMIT 1", (url,)
    )
    return _to_source(rows[0]) if rows else None


async def all_sources(db: Connection) -> list[Source]:
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM sources WHERE url IS NOT NULL ORDER BY name"
    )
    return [_to_source(row) for row in rows]


async def remove(db: Connection, name: str) -> bool:
    cursor = await db.execute("DELETE FROM sources WHERE name = ? AND url IS NOT NULL", (name,))
    return cursor.rowcount > 0


async def set_paused(
    db: Connection, name: str, reason: PauseReason | None, *, next_poll_at: datetime
) -> bool:
    """Pause (with a reason) or resume (None, polled at `next_poll_at`) a source."""
    cursor = await db.execute(
        "UPDATE sources SET paused_reason = ?, next_poll_at = ?, failures = 0,"
        " failing_since = NULL, error_kind = NULL, last_error = NULL"
        " WHERE name = ? AND url IS NOT NULL",
        (None if reason is None else reason.value, optional_to_db(next_poll_at), name),
    )
    return cursor.rowcount > 0


async def next_due(db: Connection) -> datetime | None:
    """The earliest due time of any polled source (read from the sources_due index)."""
    rows = await db.execute_fetchall(
        "SELECT min(next_poll_at) FROM sources WHERE paused_reason IS NULL AND url IS NOT NULL"
    )
    return optional_from_db(rows[0][0])


async def claim_due(
    db: Connection,
    *,
    now: datetime,
    until: datetime,
    limit: int,
    busy_hosts: Sequence[str] = (),
) -> list[Source]:
    """The sources due at `now` whose host is not in `busy_hosts`, earliest first, moved to
    `until` so no one claims them twice while they are fetched (a crash only delays them)."""
    busy = ", ".join("?" for _ in busy_hosts)
    # On PostgreSQL the inner SELECT skips rows another process's claim holds, so claims at
    # once share the due sources out instead of waiting on each other; the outer
    # `next_poll_at <= ?` is checked again on the row as it is when it is updated, so a source
    # another claim moved meanwhile is never moved twice.
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres(db) else ""
    rows = await db.execute_fetchall(
        "UPDATE sources SET next_poll_at = ? WHERE next_poll_at <= ? AND name IN"
        " (SELECT name FROM sources WHERE paused_reason IS NULL AND url IS NOT NULL"
        f" AND next_poll_at <= ?{f' AND host NOT IN ({busy})' if busy_hosts else ''}"
        f" ORDER BY next_poll_at LIMIT ?{lock}) RETURNING {_COLUMNS}",
        (optional_to_db(until), optional_to_db(now), optional_to_db(now), *busy_hosts, limit),
    )
    return sorted((_to_source(row) for row in rows), key=lambda s: (s.next_poll_at, s.name))


async def record(db: Connection, name: str, outcome: FetchOutcome) -> None:
    """Store the outcome of one poll: validators, health, next due time."""
    at = optional_to_db(outcome.at)
    changes: list[tuple[str, object]] = [
        ("last_fetched_at = ?", at),
        ("next_poll_at = ?", optional_to_db(outcome.next_poll_at)),
        ("error_kind = ?", outcome.error_kind),
        ("last_error = ?", outcome.error),
        ("alerted = ?", int(outcome.alerted)),
        ("url = coalesce(?, url)", outcome.new_url),
        ("host = coalesce(?, host)", host_of(outcome.new_url) if outcome.new_url else None),
        ("paused_reason = coalesce(?, paused_reason)", "gone" if outcome.gone else None),
    ]
    if outcome.error_kind is not None:
        # A failure keeps the validators and the last success, and counts itself.
        changes += [("failures = failures + 1, failing_since = coalesce(failing_since, ?)", at)]
    else:
        changes += [
            ("etag = coalesce(?, etag)", outcome.etag),
            ("last_modified = coalesce(?, last_modified)", outcome.last_modified),
            ("failures = 0, failing_since = NULL, last_success_at = ?", at),
        ]
    await db.execute(
        f"UPDATE sources SET {', '.join(sql for sql, _ in changes)} WHERE name = ?",
        (*(value for _, value in changes), name),
    )


async def failing_since(db: Connection, *, before: datetime) -> list[Source]:
    """Polled sources that have failed without a success since before `before`."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM sources WHERE url IS NOT NULL AND paused_reason IS NULL"
        " AND failing_since <= ? ORDER BY failing_since",
        (optional_to_db(before),),
    )
    return [_to_source(row) for row in rows]


async def count_new_articles(db: Connection, name: str, new: int, *, day: str) -> None:
    if new:
        await db.execute(
            "INSERT INTO source_days (source, day, articles) VALUES (?, ?, ?)"
            " ON CONFLICT (source, day)"
            " DO UPDATE SET articles = source_days.articles + excluded.articles",
            (name, day, new),
        )


async def articles_per_day(db: Connection, *, since_day: str, days: int) -> dict[str, float]:
    """Each source's mean new articles per day over the `days` days from `since_day`."""
    rows = await db.execute_fetchall(
        "SELECT source, sum(articles) FROM source_days WHERE day >= ? GROUP BY source",
        (since_day,),
    )
    return {row[0]: row[1] / days for row in rows}


async def names(db: Connection) -> Sequence[str]:
    rows = await db.execute_fetchall("SELECT name FROM sources WHERE url IS NOT NULL")
    return [row[0] for row in rows]


async def release(db: Connection, names: Sequence[str], *, due: datetime) -> None:
    """Give back claimed sources that could not start (their host filled up): due at `due`."""
    await db.executemany(
        "UPDATE sources SET next_poll_at = ? WHERE name = ?",
        [(optional_to_db(due), name) for name in names],
    )
