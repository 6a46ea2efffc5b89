"""Which articles each chat already received, so none reaches a chat twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from storage.connection import Connection
from storage.timestamps import to_db


async def record(
    db: Connection, *, chat_id: int, article_ids: Iterable[int], kind: str, at: datetime
) -> None:
    """Remember that `chat_id` received these articles (already known ones are kept)."""
    moment = to_db(at)
    await db.executemany(
        "INSERT OR IGNORE INTO deliveries (chat_id, article_id, kind, delivered_at)"
        " VALUES (?, ?, ?, ?)",
        [(chat_id, article_id, kind, moment) for article_id in article_ids],
    )


async def record_many(
    db: Connection, pairs: Iterable[tuple[int, int]], *, kind: str, at: datetime
) -> None:
    """Remember that each (chat, article) was received: one statement for a whole batch."""
    moment = to_db(at)
    await db.executemany(
        "INSERT OR IGNORE INTO deliveries (chat_id, article_id, kind, delivered_at)"
        " VALUES (?, ?, ?, ?)",
        [(chat_id, article_id, kind, moment) for chat_id, article_id in pairs],
    )


async def record_shared(
    db: Connection, *, chat_ids: Sequence[int], article_ids: Sequence[int], kind: str, at: datetime
) -> None:
    """Remember that every one of these chats received every one of these articles (chats
    that got one identical digest): one statement, the pairs made inside SQLite."""
    await db.execute(
        "INSERT OR IGNORE INTO deliveries (chat_id, article_id, kind, delivered_at)"
        " SELECT c.value, a.value, ?, ? FROM json_each(?) c, json_each(?) a",
        (kind, int(at.timestamp()), json.dumps(list(chat_ids)), json.dumps(list(article_ids))),
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


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int) -> None:
    """Carry a chat's delivery history over to its new id."""
    await db.execute(
        "UPDATE OR IGNORE deliveries SET chat_id = ? WHERE chat_id = ?",
        (new_chat_id, old_chat_id),
    )
    await db.execute("DELETE FROM deliveries WHERE chat_id = ?", (old_chat_id,))
