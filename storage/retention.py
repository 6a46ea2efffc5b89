"""Forgetting old history: finished outbox rows, the message bodies only they used, and the
record of which articles each chat received, once older than the operator keeps them.

Each call deletes one small batch, so no statement holds the database's write lock for long
while digests are queued and sent. Nothing still queued or being sent is touched.
"""

from __future__ import annotations

from storage.connection import Connection


async def delete_finished_messages(db: Connection, *, created_before: float, limit: int) -> int:
    """Delete up to `limit` sent or failed outbox rows queued before `created_before` (Unix
    seconds), oldest first; return how many. The caller commits."""
    rows = await db.execute_fetchall(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ?"
        " AND status <> 'queued' ORDER BY created_at LIMIT ?) RETURNING id",
        (created_before, limit),
    )
    return len(rows)


# Bounds of a BIGINT: ranges of ids and chat ids (groups and channels are negative) are
# written as plain comparisons, which SQLite answers from the primary key.
FIRST_ID = -(2**63)
LAST_ID = 2**63 - 1


async def first_body_in_use(db: Connection) -> int:
    """The lowest body id an outbox row still points at (LAST_ID when none does). Bodies are
    numbered in order of first use, so every body below it is unused."""
    rows = await db.execute_fetchall("SELECT min(body_id) FROM outbox")
    return LAST_ID if rows[0][0] is None else rows[0][0]


async def delete_bodies_below(db: Connection, *, below: int, limit: int) -> int:
    """Delete up to `limit` message bodies numbered below `below`; return how many. A body a
    new row took up meanwhile is protected by its foreign key: the statement then fails and
    deletes nothing. The caller commits."""
    rows = await db.execute_fetchall(
        "DELETE FROM outbox_bodies WHERE id IN (SELECT id FROM outbox_bodies WHERE id < ?"
        " ORDER BY id LIMIT ?) RETURNING id",
        (below, limit),
    )
    return len(rows)


async def chat_after(db: Connection, *, chat_id: int, rows: int) -> int | None:
    """The chat `rows` delivery records after the records of chats up to `chat_id`, in the
    records' own order; None when no more remain. Ranges of chats between such points split
    the records into batches of about `rows`."""
    found = await db.execute_fetchall(
        "SELECT chat_id FROM deliveries WHERE chat_id > ? ORDER BY chat_id LIMIT 1 OFFSET ?",
        (chat_id, rows),
    )
    return found[0][0] if found else None


async def delete_deliveries(
    db: Connection, *, after_chat: int, up_to_chat: int, delivered_before: float
) -> int:
    """Delete the delivery records older than `delivered_before` (Unix seconds) of the chats
    after `after_chat` up to `up_to_chat`; return how many. The caller commits."""
    rows = await db.execute_fetchall(
        "DELETE FROM deliveries WHERE chat_id > ? AND chat_id <= ? AND delivered_at < ?"
        " RETURNING chat_id",
        (after_chat, up_to_chat, delivered_before),
    )
    return len(rows)
