"""Which articles each chat already received, so none reaches a chat twice."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from storage import json_lists
from storage.connection import Connection
from storage.timestamps import to_db

_INSERT = (
    "INSERT INTO deliveries (chat_id, article_id, kind, delivered_at)"
    " SELECT CAST(p.value ->> 0 AS BIGINT), CAST(p.value ->> 1 AS BIGINT), CAST(? AS TEXT),"
    " CAST(? AS DOUBLE PRECISION) FROM {pairs} p WHERE true ON CONFLICT DO NOTHING"
)


async def record(
    db: Connection, *, chat_id: int, article_ids: Iterable[int], kind: str, at: datetime
) -> None:
    """Remember that `chat_id` received these articles (already known ones are kept)."""
    await record_many(db, ((chat_id, article_id) for article_id in article_ids), kind=kind, at=at)


async def record_many(
    db: Connection, pairs: Iterable[tuple[int, int]], *, kind: str, at: datetime
) -> None:
    """Remember that each (chat, article) was received: one statement for a whole batch."""
    await db.execute(
        _INSERT.format(pairs=json_lists.items(db)), (kind, to_db(at), json.dumps(list(pairs)))
    )


async def record_shared(
    db: Connection, *, chat_ids: Sequence[int], article_ids: Sequence[int], kind: str, at: datetime
) -> None:
    """Remember that every one of these chats received every one of these articles (chats
    that got one identical digest): one statement, the pairs made inside the database."""
    await db.execute(
        "INSERT INTO deliveries (chat_id, article_id, kind, delivered_at)"
        " SELECT CAST(c.value AS BIGINT), CAST(a.value AS BIGINT), CAST(? AS TEXT),"
        f" CAST(? AS DOUBLE PRECISION) FROM {json_lists.values(db)} c,"
        f" {json_lists.values(db)} a WHERE true ON CONFLICT DO NOTHING",
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
        f"SELECT d.chat_id, d.article_id FROM {json_lists.values(db)} c"
        " JOIN deliveries d ON d.chat_id = CAST(c.value AS BIGINT)"
        " AND d.article_id BETWEEN ? AND ?",
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
        "UPDATE deliveries SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS (SELECT 1"
        " FROM deliveries n WHERE n.chat_id = ? AND n.article_id = deliveries.article_id)",
        (new_chat_id, old_chat_id, new_chat_id),
    )
    await db.execute("DELETE FROM deliveries WHERE chat_id = ?", (old_chat_id,))
