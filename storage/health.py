"""What the operations endpoints read from the database: a ping, the outbox's oldest due row,
moderation counts and the file's size."""

from __future__ import annotations

from storage.connection import Connection


async def ping(db: Connection) -> None:
    """Run the cheapest query there is; raises if the database does not answer."""
    await db.execute_fetchall("SELECT 1")


async def oldest_due_since(db: Connection, *, now: float) -> float | None:
    """When the longest-waiting due outbox row became due (epoch seconds), or None."""
    rows = await db.execute_fetchall(
        "SELECT min(max(created_at, not_before)) FROM outbox"
        " WHERE status = 'queued' AND not_before <= ?",
        (now,),
    )
    return rows[0][0]


async def moderation_counts(db: Connection) -> tuple[int, int]:
    """(image reports, hidden images)."""
    rows = await db.execute_fetchall(
        "SELECT (SELECT count(*) FROM reports), (SELECT count(*) FROM images"
        " WHERE status = 'hidden')"
    )
    return rows[0][0], rows[0][1]


async def size_bytes(db: Connection) -> int:
    """Pages in use times the page size (the main file, without the WAL)."""
    rows = await db.execute_fetchall(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
    )
    return rows[0][0]
