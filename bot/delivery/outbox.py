"""The broadcast outbox: what callers queue, its settings, and the Outbox service that queues it.

Every message is a row (one per chat and digest, its parts kept together) committed before
anything is sent; `bot.outbox_worker` drains the rows and states the crash guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

from bot.clock import Clock
from bot.delivery.outcomes import (
    Delivered,
    FloodWait,
    Migrated,
    Rejected,
    Sender,
    SendOutcome,
    TransientFailure,
    Unreachable,
)
from bot.delivery.pacing import Limits
from bot.delivery.transitions import RetryPolicy
from bot.models import ImageEdit, OutgoingMessage, UnreachableReason
from storage import outbox as rows_db
from storage.connection import Connection

__all__ = [
    "PAID_BROADCAST_PER_SECOND",
    "ChatEvents",
    "Delivered",
    "FloodWait",
    "ImageEdit",
    "Migrated",
    "Outbox",
    "OutboxSettings",
    "OutboxStats",
    "OutgoingMessage",
    "Rejected",
    "SendOutcome",
    "Sender",
    "TransientFailure",
    "Unreachable",
]

PAID_BROADCAST_PER_SECOND = 1000.0
_ENQUEUE_CHUNK = 1000
_LEAST_CLAIM = 200
_CLAIM_AHEAD_SECONDS = 0.5
_BROADCAST_WINDOW_SECONDS = 600.0


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    """Limits and tuning of delivery (config section `[delivery]`)."""

    overall_per_second: float = 30.0
    per_chat_interval_seconds: float = 1.0
    per_group_per_minute: float = 20.0
    concurrency: int = 32
    max_attempts: int = 5
    backoff_base_seconds: float = 2.0
    backoff_cap_seconds: float = 300.0
    claim_batch: int = 0  # rows per claim; 0: `rows_per_claim` sizes it from the rate
    lease_seconds: float = 60.0
    flush_interval_seconds: float = 0.01
    idle_poll_seconds: float = 1.0

    @property
    def limits(self) -> Limits:
        """The pacing rules these settings ask for."""
        return Limits(
            overall_per_second=self.overall_per_second,
            per_chat_interval=self.per_chat_interval_seconds,
            per_group_per_minute=self.per_group_per_minute,
        )

    @property
    def rows_per_claim(self) -> int:
        """Rows a worker claims at a time (and holds at least, before it claims again): half
        a second of sends at the overall rate, at least 200. A claim waits for SQLite's write
        lock, which a large slot's composition holds for up to a few hundred ms at a time:
        the rows held must last longer than that wait."""
        if self.claim_batch:
            return self.claim_batch
        return max(_LEAST_CLAIM, math.ceil(self.overall_per_second * _CLAIM_AHEAD_SECONDS))

    @property
    def retry(self) -> RetryPolicy:
        """How transient failures are retried."""
        return RetryPolicy(self.max_attempts, self.backoff_base_seconds, self.backoff_cap_seconds)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait before attempt `attempts + 1` after a transient failure."""
        return self.retry.backoff(attempts)


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """Rows by state and the last broadcast's rate (messages per second), for `akhbar stats`."""

    queued: int
    sending: int
    sent: int
    failed: int
    last_rate: float | None


class ChatEvents(Protocol):
    """What the engine tells the rest of the bot about chats (subscriptions service)."""

    async def chat_unreachable(self, chat_id: int, reason: UnreachableReason) -> None: ...

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None: ...


class Outbox:
    """Queues messages and reports on the outbox; workers do the sending."""

    def __init__(self, db: Connection, *, clock: Clock, settings: OutboxSettings) -> None:
        self._db = db
        self._clock = clock
        self.settings = settings

    async def enqueue(self, messages: Iterable[OutgoingMessage]) -> int:
        """Add messages whose key is new; return how many. The caller commits."""
        added = 0
        at = self._clock()
        items = iter(messages)
        while chunk := list(islice(items, _ENQUEUE_CHUNK)):
            added += await rows_db.add(self._db, chunk, at=at)
        return added

    async def enqueue_shared(
        self,
        messages: Sequence[tuple[Sequence[str], Sequence[tuple[str, int, int | None]]]],
        *,
        kind: str,
    ) -> list[int]:
        """Add each message (its parts) for each of its (key, chat id, thread id) whose key is
        new; return the chat ids it was added for. The caller commits."""
        return await rows_db.add_shared(self._db, messages, kind=kind, at=self._clock())

    async def stats(self) -> OutboxStats:
        """Counts by state and the last broadcast's rate."""
        counts = await rows_db.counts(
            self._db, now=self._clock(), broadcast_window=_BROADCAST_WINDOW_SECONDS
        )
        return OutboxStats(
            counts.queued, counts.sending, counts.sent, counts.failed, counts.last_rate
        )
