"""Which articles each chat already received, so none reaches a chat twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from aiosqlite import Connection

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
