"""Which articles each chat already received, so none reaches a chat twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from aiosqlite import Connection


async def record(
    db: Connection, *, chat_id: int, article_ids: Iterable[int], kind: str, at: datetime
) -> None:
    """Remember that `chat_id` received these articles (already known ones are kept)."""
    epoch = int(at.timestamp())
    await db.executemany(
        "INSERT OR IGNORE INTO deliveries (chat_id, article_id, kind, delivered_at)"
        " VALUES (?, ?, ?, ?)",
        [(chat_id, article_id, kind, epoch) for article_id in article_ids],
    )


async def record_many(
    db: Connection, pairs: Iterable[tuple[int, int]], *, kind: str, at: datetime
) -> None:
    """Remember that each (chat, article) was received: one statement for a whole batch."""
    epoch = int(at.timestamp())
    await db.executemany(
        "INSERT OR IGNORE INTO deliveries (chat_id, article_id, kind, delivered_at)"
        " VALUES (?, ?, ?, ?)",
        [(chat_id, article_id, kind, epoch) for chat_id, article_id in pairs],
    )


async def delivered_to(
    db: Connection, *, chat_ids: Sequence[int], article_ids: Sequence[int]
) -> dict[int, set[int]]:
    """Which of these articles each of these chats already received (chats with none are
    left out): one read for a batch of chats."""
    if not chat_ids or not article_ids:
        return {}
    rows = await db.execute_fetchall(
        "SELECT d.chat_id, d.article_id FROM json_each(?) c"
        " JOIN deliveries d ON d.chat_id = c.value AND d.article_id BETWEEN ? AND ?",
        (json.dumps(list(chat_ids)), min(article_ids), max(article_ids)),
    )
    wanted = set(article_ids)
    found: dict[int, set[int]] = {}
    for chat_id, article_id in rows:
        if article_id in wanted:
            found.setdefault(chat_id, set()).add(article_id)
    return found


async def delivered_among(db: Connection, *, chat_id: int, article_ids: Sequence[int]) -> set[int]:
    """Which of these articles the chat already received."""
    rows = await db.execute_fetchall(
        "SELECT article_id FROM deliveries WHERE chat_id = ?"
        " AND article_id IN (SELECT value FROM json_each(?))",
        (chat_id, json.dumps(list(article_ids))),
    )
    return {row[0] for row in rows}


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int) -> None:
    """Carry a chat's delivery history over to its new id."""
    await db.execute(
        "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ?",
        (new_chat_id, old_chat_id),
    )
    await db.execute("DELETE FROM deliveries WHERE chat_id = ?", (old_chat_id,))
