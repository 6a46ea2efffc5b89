"""Chats the bot talks to, and their chosen language."""

from __future__ import annotations

from datetime import datetime

from aiosqlite import Connection


async def remember(db: Connection, chat_id: int, *, type: str, title: str | None, at: datetime):
    """Record a chat the first time it is seen; later calls change nothing."""
    await db.execute(
        "INSERT OR IGNORE INTO chats (chat_id, type, title, created_at) VALUES (?, ?, ?, ?)",
        (chat_id, type, title, int(at.timestamp())),
    )


async def language(db: Connection, chat_id: int) -> str | None:
    """The language a chat chose, or None when it never chose one."""
    rows = await db.execute_fetchall("SELECT language FROM chats WHERE chat_id = ?", (chat_id,))
    return rows[0][0] if rows else None


async def set_language(db: Connection, chat_id: int, language: str) -> None:
    """Store the language a chat chose."""
    await db.execute("UPDATE chats SET language = ? WHERE chat_id = ?", (language, chat_id))


async def count(db: Connection) -> int:
    """How many chats the bot knows."""
    rows = await db.execute_fetchall("SELECT count(*) FROM chats")
    return rows[0][0]
