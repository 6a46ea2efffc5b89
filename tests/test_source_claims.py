"""Two processes sharing one PostgreSQL database claim each due source exactly once.

Each process has its own connection pool, as two processes would; the claims run at the same
moment on both. PostgreSQL only: several processes share one database only there.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.models import Source
from storage import sources
from storage.connection import Connection
from storage.database import transaction

NOW = datetime(2025, 3, 3, 8, 0, 30, tzinfo=UTC)
LEASE = NOW + timedelta(minutes=5)
BATCH = 8
WAIT = 10.0


async def due_sources(db: Connection, count: int) -> set[str]:
    """Store `count` sources, each on a host of its own, all due before NOW."""
    names = {f"feed-{n:03d}" for n in range(count)}
    async with transaction(db):
        for name in names:
            source = Source(name=name, url=f"https://{name}.example.org/rss")
            assert await sources.add(db, source, at=NOW - timedelta(minutes=1))
    return names


async def claim_batch(db: Connection, between: Callable[[], Awaitable[None]] | None = None):
    """What the poller does for one claim: claim due sources in a transaction, commit."""
    async with transaction(db):
        claimed = await sources.claim_due(db, now=NOW, until=LEASE, limit=BATCH)
        if between is not None:
            await between()
    return [source.name for source in claimed]


async def claim_until_none_due(db: Connection) -> list[str]:
    claimed: list[str] = []
    while batch := await claim_batch(db):
        claimed += batch
    return claimed


async def test_two_processes_claiming_at_once_claim_each_due_source_once(two_processes):
    first, second = two_processes
    expected = await due_sources(first, 5 * BATCH + 3)

    claims = await asyncio.wait_for(
        asyncio.gather(claim_until_none_due(first), claim_until_none_due(second)), WAIT
    )

    counted = Counter(claims[0] + claims[1])
    assert set(counted) == expected
    assert set(counted.values()) == {1}
    assert await sources.claim_due(first, now=NOW, until=LEASE, limit=BATCH) == []


async def test_sources_one_process_is_claiming_are_skipped_by_the_other(two_processes):
    first, second = two_processes
    expected = await due_sources(first, 3 * BATCH)
    first_claimed = asyncio.Event()
    second_claimed: asyncio.Future[list[str]] = asyncio.Future()

    async def second_claims_while_first_holds_its_rows() -> None:
        first_claimed.set()
        # The first transaction is open and holds its rows: the second does not wait for it.
        await asyncio.wait_for(asyncio.shield(second_claimed), WAIT)

    async def second_process() -> None:
        await first_claimed.wait()
        second_claimed.set_result(await claim_batch(second))

    held, _ = await asyncio.wait_for(
        asyncio.gather(claim_batch(first, second_claims_while_first_holds_its_rows),
                       second_process()),
        WAIT,
    )  # fmt: skip
    other = second_claimed.result()
    assert len(held) == len(other) == BATCH
    assert not set(held) & set(other)
    rest = await claim_until_none_due(first)
    assert Counter(held + other + rest) == Counter(expected)
