"""Queries over articles for digests and instant pushes (kept apart from storage/articles.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.models import Article
from storage import articles, json_lists
from storage.connection import Connection
from storage.timestamps import to_db


def _of_topics(db: Connection) -> str:
    """The condition that article `a` has one of the topics of a JSON list given twice (an
    empty list: any article)."""
    return (
        f"(CAST(? AS TEXT) = '[]' OR EXISTS (SELECT 1 FROM {json_lists.values(db, 'a.topics')} t"
        f" WHERE t.value IN ({json_lists.texts(db)})))"
    )


async def undelivered(
    db: Connection,
    *,
    chat_id: int,
    after_id: int | None,
    fetched_since: datetime,
    not_before: datetime,
    topics: Sequence[str],
    limit: int,
) -> list[Article]:
    """Articles newer than `after_id` (or, with none, fetched since `fetched_since`), and never
    fetched before `not_before`, that the chat never received, of any of `topics` (all when
    empty), newest first."""
    rows = await db.execute_fetchall(
        f"SELECT {articles.A_COLUMNS} FROM articles a"
        " WHERE (CASE WHEN CAST(? AS BIGINT) IS NULL THEN a.fetched_at >= ? ELSE a.id > ? END)"
        " AND a.fetched_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.chat_id = ? AND d.article_id = a.id)"
        f" AND {_of_topics(db)}"
        " ORDER BY a.sort_at DESC, a.id DESC LIMIT ?",
        (
            after_id, to_db(fetched_since), after_id, to_db(not_before), chat_id,
            json.dumps(list(topics), ensure_ascii=False),
            json.dumps(list(topics), ensure_ascii=False), limit,
        ),
    )  # fmt: skip
    return [articles.to_article(row) for row in rows]


async def candidates(
    db: Connection,
    *,
    after_id: int | None,
    fetched_since: datetime,
    not_before: datetime,
    topics: Sequence[str],
    limit: int,
) -> list[Article]:
    """What `undelivered` gives a chat that received none of them: one read shared by every
    chat of a batch with the same topics and position (each chat's deliveries are taken out
    afterwards)."""
    rows = await db.execute_fetchall(
        f"SELECT {articles.A_COLUMNS} FROM articles a"
        " WHERE (CASE WHEN CAST(? AS BIGINT) IS NULL THEN a.fetched_at >= ? ELSE a.id > ? END)"
        " AND a.fetched_at >= ?"
        f" AND {_of_topics(db)}"
        " ORDER BY a.sort_at DESC, a.id DESC LIMIT ?",
        (
            after_id, to_db(fetched_since), after_id, to_db(not_before),
            json.dumps(list(topics), ensure_ascii=False),
            json.dumps(list(topics), ensure_ascii=False), limit,
        ),
    )  # fmt: skip
    return [articles.to_article(row) for row in rows]


async def queued_keys(db: Connection, keys: Sequence[str]) -> set[str]:
    """Which of these outbox keys are already queued (or were sent)."""
    rows = await db.execute_fetchall(
        f"SELECT key FROM outbox WHERE key IN ({json_lists.texts(db)})",
        (json.dumps(list(keys), ensure_ascii=False),),
    )
    return {row[0] for row in rows}


async def by_ids(db: Connection, article_ids: Sequence[int]) -> list[Article]:
    """These articles, oldest first (missing ids are skipped)."""
    if not article_ids:
        return []
    rows = await db.execute_fetchall(
        f"SELECT {articles.A_COLUMNS} FROM articles a"
        f" WHERE a.id IN ({json_lists.ids(db)}) ORDER BY a.id",
        (json.dumps(list(article_ids)),),
    )
    return [articles.to_article(row) for row in rows]


async def ids_after(db: Connection, *, after_id: int, limit: int) -> list[int]:
    """Ids of articles stored after `after_id`, oldest first."""
    rows = await db.execute_fetchall(
        "SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
    )
    return [row[0] for row in rows]


async def newest_id(db: Connection) -> int:
    """The id of the last stored article (0 when there is none)."""
    rows = await db.execute_fetchall("SELECT coalesce(max(id), 0) FROM articles")
    return rows[0][0]
