"""The send schedules' own connection (`storage.database.connect_send_budget`): every process
opening it on one database shares one schedule, and on SQLite a draw never waits for the
main file's write lock (held for most of a large digest slot's composition)."""

from __future__ import annotations

import asyncio

import aiosqlite
import pytest

from storage import database, send_budget

SPACING = 0.01


async def test_two_processes_draw_from_one_schedule(db, db_path):
    first = await database.connect_send_budget(db_path)
    second = await database.connect_send_budget(db_path)
    try:
        drawn = await send_budget.draw(first, slots=10, spacing=SPACING)
        await first.commit()
        then = await send_budget.draw(second, slots=1, spacing=SPACING)
        await second.commit()
    finally:
        await first.close()
        await second.close()
    assert drawn.first_in < 0.005  # an idle schedule starts now
    # The second process's slot comes after the first's ten (less the time between draws).
    assert 10 * SPACING - 0.05 <= then.first_in <= 10 * SPACING


@pytest.mark.sqlite_only
async def test_a_draw_does_not_wait_for_the_databases_write_lock(db, db_path):
    writer = await aiosqlite.connect(db_path)  # another process writing a large slot
    store = await database.connect_send_budget(db_path)
    try:
        await writer.execute("BEGIN IMMEDIATE")
        # The main file's busy timeout is 5 s: a draw there would wait that long, then fail.
        async with asyncio.timeout(1):
            grant = await send_budget.draw(store, slots=5, spacing=SPACING)
            await store.commit()
        assert grant.slots == 5
    finally:
        await writer.rollback()
        await writer.close()
        await store.close()


@pytest.mark.sqlite_only
async def test_processes_starting_together_all_open_a_new_side_file(tmp_path):
    # The first start after an upgrade (or after the file was deleted): every process makes
    # the side file at once, and every one must start.
    for start in range(30):
        location = tmp_path / f"start{start}.sqlite3"
        opened = await asyncio.gather(
            *(database.connect_send_budget(location) for _ in range(8)), return_exceptions=True
        )
        for connection in opened:
            if not isinstance(connection, BaseException):
                await connection.close()
        assert [repr(c) for c in opened if isinstance(c, BaseException)] == []
