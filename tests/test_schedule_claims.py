"""Two bot processes sharing one PostgreSQL database claim each due schedule exactly once.

Each process has its own connection pool, as two processes would; the claims run at the same
moment on both. PostgreSQL only: several processes share one database only there.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.config import BotConfig, Config, StorageConfig
from bot.models import ScheduleRule
from bot.services import open_services
from storage import schedules
from storage.connection import Connection
from storage.database import transaction
from tests.support.clock import FakeClock
from tests.support.digest_world import draft, outbox_rows, store

NOW = datetime(2025, 3, 3, 8, 0, 30, tzinfo=UTC)
SLOT = NOW.replace(second=0)
NEXT = int((SLOT + timedelta(days=1)).timestamp())
BATCH = 40
WAIT = 10.0


async def due_schedules(db: Connection, count: int) -> set[int]:
    """Store `count` schedules of as many chats, all due at SLOT; return their ids."""
    rule = ScheduleRule(times=(SLOT.time(),))
    ids = set()
    async with transaction(db):
        for chat_id in range(1000, 1000 + count):
            schedule_id = await schedules.add(
                db, chat_id=chat_id, rule=rule, item_count=5, thread_id=None, topics=(),
                created_by=None, at=SLOT - timedelta(days=1), next_fire_at=SLOT,
            )  # fmt: skip
            ids.add(schedule_id)
    return ids


async def due(db: Connection, limit: int) -> list[tuple[int, int | None]]:
    """Each due schedule's (id, next fire time), as the digest service reads them."""
    groups = await schedules.due_groups(db, now=NOW, limit=limit)
    return [(m[0], g.schedule.next_fire_at) for g in groups for m in g.members]


def moves(due: list[tuple[int, int | None]]) -> list[tuple[int, int | None, int | None]]:
    return [(schedule_id, seen, NEXT) for schedule_id, seen in due]


async def claim_batch(db: Connection, between: Callable[[], Awaitable[None]] | None = None):
    """What the digest service does for one batch: read the due rows, claim them, commit."""
    async with transaction(db):
        read = await due(db, BATCH)
        if between is not None:
            await between()
        return [schedule_id for schedule_id, _ in read], await schedules.claim(db, moves(read))


async def claim_until_none_due(db: Connection) -> list[int]:
    claimed: list[int] = []
    while True:
        read, won = await claim_batch(db)
        if not read:
            return claimed
        claimed += won


async def test_two_processes_claiming_at_once_claim_each_due_schedule_once(two_processes):
    first, second = two_processes
    expected = await due_schedules(first, 5 * BATCH + 7)

    claims = await asyncio.wait_for(
        asyncio.gather(claim_until_none_due(first), claim_until_none_due(second)), WAIT
    )

    counted = Counter(claims[0] + claims[1])
    assert set(counted) == expected
    assert set(counted.values()) == {1}
    assert await due(first, 10) == []


async def test_rows_one_process_is_claiming_are_skipped_by_the_other(two_processes):
    first, second = two_processes
    expected = await due_schedules(first, 3 * BATCH)
    first_read = asyncio.Event()
    second_read: asyncio.Future[tuple[list[int], set[int]]] = asyncio.Future()

    async def second_reads_while_first_holds_its_rows() -> None:
        first_read.set()
        # The first transaction is open and holds its rows: the second does not wait for it.
        await asyncio.wait_for(asyncio.shield(second_read), WAIT)

    async def second_process() -> None:
        await first_read.wait()
        second_read.set_result(await claim_batch(second))

    held, _ = await asyncio.wait_for(
        asyncio.gather(
            claim_batch(first, second_reads_while_first_holds_its_rows), second_process()
        ),
        WAIT,
    )
    read, won = second_read.result()
    first_ids, first_won = held
    assert len(first_ids) == len(read) == BATCH
    assert not set(first_ids) & set(read)
    assert first_won == set(first_ids) and won == set(read)
    rest = await claim_until_none_due(first)
    assert Counter(first_ids + read + rest) == Counter(expected)


async def test_a_claim_waiting_on_another_process_claims_nothing_once_it_committed(two_processes):
    first, second = two_processes
    expected = await due_schedules(first, BATCH)
    seen = await due(first, BATCH)  # both processes read these rows

    async def second_claim() -> set[int]:
        async with transaction(second):
            return await schedules.claim(second, moves(seen))

    async with transaction(first):
        assert await schedules.claim(first, moves(seen)) == expected
        waiting = asyncio.create_task(second_claim())
        await until_a_statement_waits_on_a_lock(first)
    assert await asyncio.wait_for(waiting, WAIT) == set()
    assert [s.next_fire_at for s in await schedules.of_chat(first, chat_id=1000)] == [NEXT]


async def until_a_statement_waits_on_a_lock(db: Connection) -> None:
    """Return once another session of this database is blocked on a row lock."""
    async with asyncio.timeout(WAIT):
        while True:
            rows = await db.execute_fetchall(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
            if rows[0][0]:
                return
            await asyncio.sleep(0.01)


async def test_two_bots_running_one_slot_at_once_queue_each_subscriber_one_digest(postgres_db_url):
    storage = StorageConfig(path=postgres_db_url)
    config = Config(storage=storage, bot=BotConfig(load_sample_news=False))
    clock = FakeClock(SLOT - timedelta(hours=1))
    bots = [await open_services(config, clock=clock) for _ in range(2)]
    try:
        first = bots[0]
        await store(first, draft("خبر الصباح"))
        chats = range(2000, 2000 + 3 * BATCH)
        for chat_id in chats:
            await first.languages.texts_for(
                chat_id, chat_type="private", title=None, telegram_code="ar"
            )
            await first.subscriptions.subscribe(chat_id, (), language="ar")
        clock.set(NOW)

        async def run_every_batch(bot) -> int:
            bot.digests.batch_size = BATCH // 2
            queued = 0
            while True:
                claimed, added, _ = await bot.digests.run_due(NOW)
                queued += added
                if not claimed:
                    return queued

        counts = await asyncio.wait_for(
            asyncio.gather(*(run_every_batch(bot) for bot in bots)), WAIT * 3
        )
        rows = await outbox_rows(first)
    finally:
        for bot in bots:
            await bot.close()
    assert sum(counts) == len(chats)
    assert sorted(row.chat_id for row in rows) == list(chats)
    assert all("خبر الصباح" in row.text for row in rows)
