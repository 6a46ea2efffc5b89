"""Forgetting delivery history older than `[storage] keep_history_days`.

A bot with 100,000 subscribers writes 100,000 outbox rows and about a million delivery records
(a row per chat and article) for every daily slot: kept forever, they would fill the disk.
They matter for a short while only: an outbox row's key stops a slot being queued twice
within its catch-up window (hours), and a delivery record stops an article reaching a chat
twice while a digest may still offer it, which is never once it was fetched more than 30 days
ago (`bot.subscriptions.selection.HORIZON`), whatever the schedule's position. The shortest
period an operator may keep (31 days) is longer, and long enough for /stats' 14-day chart.
The record of which messages showed an image lets hiding that image replace it there: an
image hidden later than that (reports come within days) stays in those older messages.

Every step is one small transaction (`storage.retention`), so digests are queued and sent
meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage import retention
from storage.connection import Connection
from storage.database import transaction
from storage.timestamps import to_db

log = logging.getLogger(__name__)

BATCH = 5000


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one pass deleted."""

    messages: int
    bodies: int
    deliveries: int
    photos: int = 0  # messages with an image no longer remembered

    def __bool__(self) -> bool:
        return any((self.messages, self.bodies, self.deliveries, self.photos))


async def prune_history(db: Connection, *, now: datetime, keep_days: float) -> Pruned:
    """Delete the finished outbox rows, unused message bodies, delivery records and records of
    messages with an image older than `keep_days`, a batch per transaction."""
    cutoff = to_db(now - timedelta(days=keep_days))
    messages = await _until_done(
        db, lambda: retention.delete_finished_messages(db, created_before=cutoff, limit=BATCH)
    )
    bodies = await _until_done(db, lambda: retention.delete_unused_bodies(db, limit=BATCH))
    deliveries = await _prune_deliveries(db, delivered_before=cutoff)
    photos = await _until_done(
        db, lambda: retention.delete_image_messages(db, sent_before=cutoff, limit=BATCH)
    )
    return Pruned(messages, bodies, deliveries, photos)


async def _until_done(db: Connection, step: Callable[[], Awaitable[int]]) -> int:
    total = 0
    while True:
        async with transaction(db):
            deleted = await step()
        total += deleted
        if deleted < BATCH:
            return total


async def _prune_deliveries(db: Connection, *, delivered_before: float) -> int:
    # The records are walked in their primary key's order, a batch per transaction: no index
    # on their age is needed, nor kept up by every digest.
    total, after = 0, retention.FIRST_KEY
    while True:
        up_to = await retention.record_after(db, key=after, rows=BATCH)
        async with transaction(db):
            total += await retention.delete_deliveries(
                db,
                after=after,
                up_to=retention.LAST_KEY if up_to is None else up_to,
                delivered_before=delivered_before,
            )
        if up_to is None:
            return total
        after = up_to
