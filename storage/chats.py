"""Chats the bot talks to, and their chosen language."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.models import ChatSettings
from storage import json_lists
from storage.connection import Connection, Row
from storage.timestamps import to_db


async def remember(db: Connection, chat_id: int, *, type: str, title: str | None, at: datetime):
    """Record a chat the first time it is seen; later calls change nothing."""
    await db.execute(
        "INSERT INTO chats (chat_id, type, title, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (chat_id, type, title, to_db(at)),
    )


async def language(db: Connection, chat_id: int) -> str | None:
    """The language a chat chose, or None when it never chose one."""
    rows = await db.execute_fetchall("SELECT language FROM chats WHERE chat_id = ?", (chat_id,))
    return rows[0][0] if rows else None


async def set_language(db: Connection, chat_id: int, language: str) -> None:
    """Store the language a chat chose."""
    await db.execute("UPDATE chats SET language = ? WHERE chat_id = ?", (language, chat_id))


def _to_settings(row: Row) -> ChatSettings:
    return ChatSettings(
        chat_id=row["chat_id"],
        type=row["type"],
        title=row["title"],
        language=row["language"],
        timezone=row["timezone"],
        is_active=bool(row["is_active"]),
    )


async def get(db: Connection, chat_id: int) -> ChatSettings | None:
    """What the bot remembers of a chat, or None."""
    rows = await db.execute_fetchall(
        "SELECT chat_id, type, title, language, timezone, is_active FROM chats WHERE chat_id = ?",
        (chat_id,),
    )
    return _to_settings(rows[0]) if rows else None


async def many(db: Connection, chat_ids: Sequence[int]) -> dict[int, ChatSettings]:
    """What the bot remembers of these chats, by id (unknown ones are left out)."""
    rows = await db.execute_fetchall(
        "SELECT chat_id, type, title, language, timezone, is_active FROM chats"
        f" WHERE chat_id IN ({json_lists.ids(db)})",
        (json.dumps(list(chat_ids)),),
    )
    return {row["chat_id"]: _to_settings(row) for row in rows}


async def set_timezone(db: Connection, chat_id: int, timezone: str) -> None:
    """Store the time zone a chat chose."""
    await db.execute("UPDATE chats SET timezone = ? WHERE chat_id = ?", (timezone, chat_id))


async def set_active(db: Connection, chat_id: int, *, is_active: bool) -> None:
    """Mark a chat reachable or not (blocked, kicked, removed)."""
    await db.execute("UPDATE chats SET is_active = ? WHERE chat_id = ?", (int(is_active), chat_id))


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int, type: str) -> None:
    """A group became a supergroup: the chat keeps its settings under its new id."""
    await db.execute(
        "INSERT INTO chats (chat_id, type, title, language, created_at, is_active, timezone)"
        " SELECT CAST(? AS BIGINT), CAST(? AS TEXT), title, language, created_at, is_active,"
        " timezone FROM chats WHERE chat_id = ? ON CONFLICT DO NOTHING",
        (new_chat_id, type, old_chat_id),
    )
    await db.execute("UPDATE chats SET is_active = 0 WHERE chat_id = ?", (old_chat_id,))


async def digest_targets(db: Connection, *, after: int | None, batch: int) -> list[int]:
    """Active chats that are subscribed or have a running schedule, in id order, one batch."""
    rows = await db.execute_fetchall(
        "SELECT c.chat_id FROM chats c WHERE c.is_active = 1 AND c.chat_id > ? AND ("
        " EXISTS (SELECT 1 FROM subscriptions s WHERE s.chat_id = c.chat_id) OR"
        " EXISTS (SELECT 1 FROM schedules h WHERE h.chat_id = c.chat_id"
        "  AND h.paused_reason IS NULL)) ORDER BY c.chat_id LIMIT ?",
        (after if after is not None else -(2**63), batch),
    )
    return [row[0] for row in rows]
