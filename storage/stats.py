"""Counts for the operator's `akhbar stats`."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.connection import Connection, is_postgres

_QUERIES = {
    "articles": "SELECT count(*) FROM articles",
    "articles with full text": "SELECT count(*) FROM articles WHERE body IS NOT NULL",
    "topics": "SELECT count(DISTINCT topic) FROM article_topics",
    "chats": "SELECT count(*) FROM chats",
    "sources failing": "SELECT count(*) FROM sources WHERE last_error IS NOT NULL",
    "subscribers": "SELECT count(*) FROM subscriptions",
    "subscribers with instant topics": "SELECT count(*) FROM subscriptions"
    " WHERE instant_topics <> '[]'",
    "schedules running": "SELECT count(*) FROM schedules WHERE paused_reason IS NULL",
    "schedules paused": "SELECT count(*) FROM schedules WHERE paused_reason IS NOT NULL",
    "chats inactive": "SELECT count(*) FROM chats WHERE is_active = 0",
    "articles delivered (history kept)": "SELECT count(*) FROM deliveries",
    "images hidden": "SELECT count(*) FROM images WHERE status = 'hidden'",
    "image reports": "SELECT count(*) FROM reports",
}


async def collect(db: Connection) -> dict[str, int | str]:
    """Named counts, plus the newest article's date."""
    numbers: dict[str, int | str] = {}
    for name, sql in _QUERIES.items():
        rows = await db.execute_fetchall(sql)
        numbers[name] = rows[0][0]
    # Formatted here, not with SQLite's datetime(): the same query on both engines.
    rows = await db.execute_fetchall("SELECT max(sort_at) FROM articles")
    newest = rows[0][0]
    numbers["newest article (UTC)"] = (
        "—" if newest is None else datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%d %H:%M:%S")
    )
    return numbers


_DAILY = {
    "deliveries": ("delivered_at", "deliveries"),
    "subscribers": ("created_at", "subscriptions"),
    "reports": ("created_at", "reports"),
}


def _day_of(db: Connection, column: str) -> str:
    """SQL for the UTC day (YYYY-MM-DD) of an epoch-seconds column."""
    if is_postgres(db):
        return f"to_char(to_timestamp({column}) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    return f"date({column}, 'unixepoch')"


async def daily(db: Connection, *, since: int) -> dict[str, dict[str, int]]:
    """Per UTC day (YYYY-MM-DD) since the epoch second `since`: deliveries, new subscribers,
    reports, and new articles per source (key "articles:<source>")."""
    series: dict[str, dict[str, int]] = {}
    for name, (column, table) in _DAILY.items():
        rows = await db.execute_fetchall(
            f"SELECT {_day_of(db, column)}, count(*) FROM {table} WHERE {column} >= ? GROUP BY 1",
            (since,),
        )
        series[name] = {row[0]: row[1] for row in rows}
    rows = await db.execute_fetchall(
        "SELECT source, day, articles FROM source_days WHERE day >= ?",
        (datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d"),),
    )
    for source, day, count in rows:
        series.setdefault(f"articles:{source}", {})[day] = count
    return series
