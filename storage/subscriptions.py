"""Private chats' subscriptions: topics, instant topics and keyword filters."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import lru_cache

from bot.models import KeywordFilters, Subscription
from storage import json_lists
from storage.connection import Connection, Row
from storage.timestamps import to_db

_COLUMNS = "chat_id, topics, instant_topics, include_words, exclude_words"


def _dump(values: tuple[str, ...]) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _to_subscription(row: Row) -> Subscription:
    return from_columns(
        row["chat_id"], row["topics"], row["instant_topics"], row["include_words"],
        row["exclude_words"],
    )  # fmt: skip


def from_columns(
    chat_id: int, topics: str, instant_topics: str, include_words: str, exclude_words: str
) -> Subscription:
    """A subscription from its stored columns (for queries that join them to other tables)."""
    return Subscription(
        chat_id=chat_id,
        topics=_words(topics),
        instant_topics=_words(instant_topics),
        filters=_filters(include_words, exclude_words),
    )


# Most subscribers share their lists (often empty): each distinct text is parsed once.
@lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


@lru_cache(maxsize=8192)
def _filters(include: str, exclude: str) -> KeywordFilters:
    return KeywordFilters(_words(include), _words(exclude))


async def get(db: Connection, chat_id: int) -> Subscription | None:
    """The chat's subscription, or None."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE chat_id = ?", (chat_id,)
    )
    return _to_subscription(rows[0]) if rows else None


async def many(db: Connection, chat_ids: Sequence[int]) -> dict[int, Subscription]:
    """These chats' subscriptions, by chat id (chats without one are left out)."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM subscriptions WHERE chat_id IN ({json_lists.ids(db)})",
        (json.dumps(list(chat_ids)),),
    )
    return {row["chat_id"]: _to_subscription(row) for row in rows}


async def create(db: Connection, chat_id: int, *, at: datetime) -> bool:
    """Subscribe a chat; return False when it already was."""
    cursor = await db.execute(
        "INSERT INTO subscriptions (chat_id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (chat_id, to_db(at)),
    )
    return cursor.rowcount > 0


async def save(db: Connection, subscription: Subscription) -> None:
    """Store a subscription's topics and filters."""
    s = subscription
    await db.execute(
        "UPDATE subscriptions SET topics = ?, instant_topics = ?, include_words = ?,"
        " exclude_words = ? WHERE chat_id = ?",
        (
            _dump(s.topics), _dump(s.instant_topics), _dump(s.filters.include),
            _dump(s.filters.exclude), s.chat_id,
        ),
    )  # fmt: skip


async def delete(db: Connection, chat_id: int) -> bool:
    """Unsubscribe a chat; return False when it was not subscribed."""
    cursor = await db.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
    return cursor.rowcount > 0


async def with_instant_topics_batches(
    db: Connection, *, topics: tuple[str, ...], batch: int = 500
) -> AsyncIterator[list[Subscription]]:
    """Active subscriptions pushing any of `topics` at once, one batch at a time (memory stays
    flat whatever the number of subscribers)."""
    after = None
    while True:
        rows = await db.execute_fetchall(
            f"SELECT {', '.join('s.' + c for c in _COLUMNS.split(', '))} FROM subscriptions s"
            " JOIN chats c ON c.chat_id = s.chat_id"
            " WHERE c.is_active = 1 AND s.chat_id > ? AND EXISTS (SELECT 1 FROM"
            f" {json_lists.values(db, 's.instant_topics')} j"
            f" WHERE j.value IN ({json_lists.texts(db)}))"
            " ORDER BY s.chat_id LIMIT ?",
            (after if after is not None else -(2**63), _dump(topics), batch),
        )
        if rows:
            yield [_to_subscription(row) for row in rows]
        if len(rows) < batch:
            return
        after = rows[-1]["chat_id"]


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int) -> None:
    """Carry a subscription over to a chat's new id (it replaces one the new id had)."""
    await db.execute(
        "DELETE FROM subscriptions WHERE chat_id = ?"
        " AND EXISTS (SELECT 1 FROM subscriptions WHERE chat_id = ?)",
        (new_chat_id, old_chat_id),
    )
    await db.execute(
        "UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
    )
