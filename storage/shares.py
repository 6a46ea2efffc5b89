"""Articles people shared through inline mode, for "most shared today"."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Connection


async def record(db: Connection, *, article_id: int, user_id: int, at: datetime) -> None:
    await db.execute(
        "INSERT INTO inline_shares (article_id, user_id, shared_at) VALUES (?, ?, ?)",
        (article_id, user_id, int(at.timestamp())),
    )


async def most_shared(db: Connection, *, since: datetime, limit: int) -> list[tuple[int, int]]:
    """(article id, shares) since `since`, most shared first, then newest."""
    rows = await db.execute_fetchall(
        "SELECT s.article_id, count(*) AS n FROM inline_shares s"
        " JOIN articles a ON a.id = s.article_id"
        " WHERE s.shared_at >= ? GROUP BY s.article_id ORDER BY n DESC, s.article_id DESC"
        " LIMIT ?",
        (int(since.timestamp()), limit),
    )
    return [(row[0], row[1]) for row in rows]
