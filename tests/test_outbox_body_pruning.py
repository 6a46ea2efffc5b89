"""History pruning on PostgreSQL never deletes a message body that a transaction queuing new
rows has just found to reuse (the rows' foreign key would then fail, and the digests with it)."""

from __future__ import annotations

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


async def test_a_body_reused_as_history_is_pruned_stays_with_its_new_row(two_processes):
    queuing, pruning = two_processes
    # A body no row uses any more: its one message was sent long ago and pruned.
    async with transaction(queuing):
        await outbox.add_shared(
            queuing, [(PARTS, [("digest:1:1:0", 1, None)])], kind="digest", at=NOW
        )
    async with transaction(queuing):
        await queuing.execute_fetchall("UPDATE outbox SET status = 'sent'")
        later = (NOW + timedelta(days=40)).timestamp()
        assert await retention.delete_finished_messages(queuing, created_before=later, limit=10)

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
