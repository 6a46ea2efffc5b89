"""Small named values the bot keeps between runs (its username, the instant-push watermark)."""

from __future__ import annotations

from storage.connection import Connection


async def get(db: Connection, name: str) -> str | None:
    """The stored value, or None."""
    rows = await db.execute_fetchall("SELECT value FROM bot_settings WHERE name = ?", (name,))
    return rows[0][0] if rows else None


async def put(db: Connection, name: str, value: str) -> None:
    """Store or replace a value."""
    await db.execute(
        "INSERT INTO bot_settings (name, value) VALUES (?, ?)"
        " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (name, value),
    )
