"""Forgetting old history: finished outbox rows, message bodies no row uses, the record of
which articles each chat received, and of which messages showed an image, once older than the
operator keeps them.

Each call deletes one small batch, so no statement holds the database's write lock for long
while digests are queued and sent. Nothing still queued or being sent is touched.
"""

from __future__ import annotations

import json

from storage import json_lists
from storage.connection import Connection, is_postgres


async def delete_finished_messages(db: Connection, *, created_before: float, limit: int) -> int:
    """Delete up to `limit` sent or failed outbox rows queued before `created_before` (Unix
    seconds), oldest first; return how many. The caller commits."""
    rows = await db.execute_fetchall(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ?"
        " AND status <> 'queued' ORDER BY created_at LIMIT ?) RETURNING id",
        (created_before, limit),
    )
    return len(rows)


async def delete_unused_bodies(db: Connection, *, limit: int) -> int:
    """Delete up to `limit` message bodies no outbox row points at; return how many. The
    caller commits.

    Bodies are written with their rows in one transaction, so one without rows is garbage,
    unless a transaction queuing rows has just found it to reuse. On PostgreSQL that one holds
    it locked (`storage.outbox`) and it is skipped, and the bodies chosen are locked, then
    looked at again in a newer snapshot: one reused by a transaction that committed while
    they were chosen has rows by then, and stays.
    """
    skip_locked = " FOR UPDATE SKIP LOCKED" if is_postgres(db) else ""
    chosen = await db.execute_fetchall(
        "SELECT b.id FROM outbox_bodies b WHERE NOT EXISTS"
        f" (SELECT 1 FROM outbox o WHERE o.body_id = b.id) ORDER BY b.id LIMIT ?{skip_locked}",
        (limit,),
    )
    if not chosen:
        return 0
    rows = await db.execute_fetchall(
        f"DELETE FROM outbox_bodies WHERE id IN ({json_lists.ids(db)})"
        " AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.body_id = outbox_bodies.id)"
        " RETURNING id",
        (json.dumps([row[0] for row in chosen]),),
    )
    return len(rows)


async def delete_image_messages(db: Connection, *, sent_before: float, limit: int) -> int:
    """Forget up to `limit` messages with an image sent before `sent_before` (Unix seconds),
    oldest first; return how many. The caller commits."""
    rows = await db.execute_fetchall(
        "DELETE FROM image_messages WHERE id IN (SELECT id FROM image_messages"
        " WHERE sent_at < ? ORDER BY id LIMIT ?) RETURNING id",
        (sent_before, limit),
    )
    return len(rows)


# A delivery record's primary key, (chat id, article id): the order batches walk them in.
RecordKey = tuple[int, int]
# Below and above every key (a BIGINT's bounds; groups and channels have negative ids).
FIRST_KEY: RecordKey = (-(2**63), -(2**63))
LAST_KEY: RecordKey = (2**63 - 1, 2**63 - 1)


async def record_after(db: Connection, *, key: RecordKey, rows: int) -> RecordKey | None:
    """The key `rows` delivery records after `key`, in primary-key order; None when fewer
    remain. The records between such keys are batches of `rows`, read from the key's index."""
    found = await db.execute_fetchall(
        "SELECT chat_id, article_id FROM deliveries WHERE (chat_id, article_id) > (?, ?)"
        " ORDER BY chat_id, article_id LIMIT 1 OFFSET ?",
        (*key, rows),
    )
    return (found[0][0], found[0][1]) if found else None


async def delete_deliveries(
    db: Connection, *, after: RecordKey, up_to: RecordKey, delivered_before: float
) -> int:
    """Delete the delivery records after `after` up to `up_to` (primary-key order) that are
    older than `delivered_before` (Unix seconds); return how many. The caller commits."""
    rows = await db.execute_fetchall(
        "DELETE FROM deliveries WHERE (chat_id, article_id) > (?, ?)"
        " AND (chat_id, article_id) <= (?, ?) AND delivered_at < ? RETURNING chat_id",
        (*after, *up_to, delivered_before),
    )
    return len(rows)
