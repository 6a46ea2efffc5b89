"""Per-chat overrides of how many reports hide an image."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Connection
from storage.timestamps import to_db


async def set_threshold(
    db: Connection, chat_id: int, threshold: int, *, by: int, at: datetime
) -> None:
    """Use `threshold` for reports made in this chat."""
    await db.execute(
        "INSERT INTO chat_thresholds (chat_id, threshold, set_by, set_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET threshold = excluded.threshold,"
        " set_by = excluded.set_by, set_at = excluded.set_at",
        (chat_id, threshold, by, to_db(at)),
    )


async def clear(db: Connection, chat_id: int) -> None:
    """Go back to the global threshold for this chat."""
    await db.execute("DELETE FROM chat_thresholds WHERE chat_id = ?", (chat_id,))


async def get(db: Connection, chat_id: int) -> int | None:
    """The chat's own threshold, or None when it uses the global one."""
    rows = await db.execute_fetchall(
        "SELECT threshold FROM chat_thresholds WHERE chat_id = ?", (chat_id,)
    )
    return rows[0][0] if rows else None
