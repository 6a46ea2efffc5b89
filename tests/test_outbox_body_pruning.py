"""History pruning on PostgreSQL never deletes a message body that a transaction queuing new
rows has just found to reuse (the rows' foreign key would then fail, and the digests with it)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from storage import outbox, retention
from storage.database import transaction

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PARTS = ["<b>08:00</b> digest"]


class PruningAfterBodyLookup:
    """The queuing process's connection, with history pruned by another process right after
    it looked up the bodies it reuses, before it inserts the rows that use them."""

    def __init__(self, db, pruning) -> None:
        self._db, self._pruning = db, pruning
        self.pruned: list[int] = []

    def __getattr__(self, name):
        return getattr(self._db, name)

    async def execute_fetchall(self, sql, parameters=()):
        rows = await self._db.execute_fetchall(sql, parameters)
        if "FROM outbox_bodies WHERE digest IN" in sql:
            async with transaction(self._pruning):
                self.pruned.append(await retention.delete_unused_bodies(self._pruning, limit=10))
        return rows


async def queue_digest(db, *, chat_id: int) -> list[int]:
    async with transaction(db):
        return await outbox.add_shared(
            db, [(PARTS, [(f"digest:{chat_id}:1:0", chat_id, None)])], kind="digest", at=NOW
        )


async def leave_a_body_unused(db) -> None:
    """A body no row uses any more: its one message was sent long ago and pruned."""
    await queue_digest(db, chat_id=1)
    async with transaction(db):
        await db.execute_fetchall("UPDATE outbox SET status = 'sent'")
        later = (NOW + timedelta(days=40)).timestamp()
        assert await retention.delete_finished_messages(db, created_before=later, limit=10)


async def test_a_body_reused_as_history_is_pruned_stays_with_its_new_row(two_processes):
    queuing, pruning = two_processes
    await leave_a_body_unused(queuing)

    racing = PruningAfterBodyLookup(queuing, pruning)
    async with transaction(queuing):
        queued = await outbox.add_shared(
            racing, [(PARTS, [("digest:2:1:0", 2, None)])], kind="digest", at=NOW
        )

    assert queued == [2]
    assert racing.pruned == [0]  # the body was in use by then: kept
    [(parts,)] = await queuing.execute_fetchall(
        "SELECT b.parts FROM outbox o JOIN outbox_bodies b ON b.id = o.body_id WHERE o.chat_id = 2"
    )
    assert json.loads(parts) == PARTS


class QueuingWhilePruning:
    """History pruning's connection, with another process queuing a digest that reuses a body
    right after pruning chose (and locked) the bodies it deletes: the queuing transaction
    waits for that lock until pruning has committed."""

    def __init__(self, db, queuing) -> None:
        self._db, self._queuing = db, queuing
        self.queuing: asyncio.Task[list[int]] | None = None

    def __getattr__(self, name):
        return getattr(self._db, name)

    async def execute_fetchall(self, sql, parameters=()):
        rows = await self._db.execute_fetchall(sql, parameters)
        if sql.startswith("SELECT b.id FROM outbox_bodies") and self.queuing is None:
            self.queuing = asyncio.create_task(queue_digest(self._queuing, chat_id=2))
            await waiting_for_a_lock(self._db)
        return rows


async def waiting_for_a_lock(db) -> None:
    for _ in range(500):  # the other process's statement: look every 20 ms
        if await db.execute_fetchall(
            "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the queuing transaction never waited for pruning's lock")


async def test_a_body_deleted_while_a_digest_waits_to_reuse_it_is_stored_again(two_processes):
    queuing, pruning = two_processes
    await leave_a_body_unused(queuing)

    racing = QueuingWhilePruning(pruning, queuing)
    async with transaction(pruning):
        pruned = await retention.delete_unused_bodies(racing, limit=10)
    assert racing.queuing is not None
    queued = await racing.queuing

    assert (pruned, queued) == (1, [2])  # the old body went; the digest got a new one
    [(parts,)] = await queuing.execute_fetchall(
        "SELECT b.parts FROM outbox o JOIN outbox_bodies b ON b.id = o.body_id WHERE o.chat_id = 2"
    )
    assert json.loads(parts) == PARTS
