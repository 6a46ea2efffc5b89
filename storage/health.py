"""What the operations endpoints read from the database: a ping, the outbox's oldest due row,
moderation counts and the database's size."""

from __future__ import annotations

from storage.connection import Connection, is_postgres


async def ping(db: Connection) -> None:
    """Run the cheapest query there is; raises if the database does not answer."""
    await db.execute_fetchall("SELECT 1")


async def oldest_due_since(db: Connection, *, now: float) -> float | None:
    """When the longest-waiting due outbox row became due (epoch seconds), or None."""
    rows = await db.execute_fetchall(
        "SELECT min(CASE WHEN created_at > not_before THEN created_at ELSE not_before END)"
        " FROM outbox"
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
    """Pages in use times the page size (the main file, without the WAL); on PostgreSQL the
    database's size on disk."""
    if is_postgres(db):
        rows = await db.execute_fetchall("SELECT pg_database_size(current_database())")
        return rows[0][0]
    rows = await db.execute_fetchall(
        "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
    )
    return rows[0][0]
