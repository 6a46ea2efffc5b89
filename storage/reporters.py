"""People whose reports moderators decided not to count."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Connection
from storage.timestamps import to_db


async def ignore(db: Connection, user_id: int, *, by: int, at: datetime) -> bool:
    """Stop counting the person's reports; False if they were already ignored."""
    cursor = await db.execute(
        "INSERT INTO ignored_reporters (user_id, ignored_by, ignored_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_id) DO NOTHING",
        (user_id, by, to_db(at)),
    )
    return cursor.rowcount == 1


async def unignore(db: Connection, user_id: int) -> bool:
    """Count the person's reports again; False if they were not ignored."""
    cursor = await db.execute("DELETE FROM ignored_reporters WHERE user_id = ?", (user_id,))
    return cursor.rowcount == 1


async def is_ignored(db: Connection, user_id: int) -> bool:
    """Whether the person's reports are ignored."""
    rows = await db.execute_fetchall(
        "SELECT 1 FROM ignored_reporters WHERE user_id = ?", (user_id,)
    )
    return bool(rows)
