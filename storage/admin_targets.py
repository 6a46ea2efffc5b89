"""The channel an admin picked, in a private chat, by forwarding one of its posts."""

from __future__ import annotations

from datetime import datetime

from storage.connection import Connection
from storage.timestamps import to_db


async def choose(db: Connection, *, user_chat_id: int, target_chat_id: int, at: datetime) -> None:
    """Remember the channel this admin manages from their private chat."""
    await db.execute(
        "INSERT INTO admin_targets (user_chat_id, target_chat_id, chosen_at) VALUES (?, ?, ?)"
        " ON CONFLICT (user_chat_id) DO UPDATE SET target_chat_id = excluded.target_chat_id,"
        " chosen_at = excluded.chosen_at",
        (user_chat_id, target_chat_id, to_db(at)),
    )


async def chosen(db: Connection, *, user_chat_id: int) -> int | None:
    """The channel picked from this private chat, or None."""
    rows = await db.execute_fetchall(
        "SELECT target_chat_id FROM admin_targets WHERE user_chat_id = ?", (user_chat_id,)
    )
    return rows[0][0] if rows else None


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int) -> None:
    """Follow a chat to its new id."""
    await db.execute(
        "UPDATE admin_targets SET target_chat_id = ? WHERE target_chat_id = ?",
        (new_chat_id, old_chat_id),
    )
