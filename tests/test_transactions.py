"""Transactions on the connection the services share: one coroutine's failure never takes
another's write with it, and another's commit never publishes half of it."""

from __future__ import annotations

import asyncio

import pytest

from bot.reading import search_text
from storage import bot_settings, database
from storage.connection import is_postgres
from storage.database import transaction


class Failed(Exception):
    pass


async def test_failed_transaction_is_rolled_back_while_another_commits_meanwhile(tmp_path):
    path = tmp_path / "akhbar.sqlite3"
    db = await database.connect(path, index_terms=search_text.index_text)
    other_is_writing = asyncio.Event()

    async def write_then_fail() -> None:
        async with transaction(db):
            await bot_settings.put(db, "failed", "half-done")
            # The other coroutine now runs up to its own transaction while this one is open.
            await other_is_writing.wait()
            await asyncio.sleep(0)
            raise Failed()

    async def write_and_commit() -> None:
        other_is_writing.set()
        async with transaction(db):
            await bot_settings.put(db, "kept", "done")

    try:
        async with asyncio.timeout(5):
            results = await asyncio.gather(
                write_then_fail(), write_and_commit(), return_exceptions=True
            )
    finally:
        await db.close()

    assert isinstance(results[0], Failed)
    assert results[1] is None
    reader = await database.connect(path, index_terms=search_text.index_text)
    try:
        assert await bot_settings.get(reader, "failed") is None
        assert await bot_settings.get(reader, "kept") == "done"
    finally:
        await reader.close()


@pytest.mark.parametrize("error", [Failed, asyncio.CancelledError])
async def test_transaction_rolls_back_and_reraises(tmp_path, error):
    db = await database.connect(tmp_path / "akhbar.sqlite3", index_terms=search_text.index_text)
    try:
        with pytest.raises(error):
            async with transaction(db):
                await bot_settings.put(db, "failed", "half-done")
                raise error()
        assert await bot_settings.get(db, "failed") is None
        async with transaction(db):  # the lock was released
            await bot_settings.put(db, "kept", "done")
        assert await bot_settings.get(db, "kept") == "done"
    finally:
        await db.close()


async def test_a_task_started_inside_a_transaction_does_not_borrow_its_connection(db):
    """On PostgreSQL a transaction holds one pooled connection; a task the block starts runs
    its statements elsewhere (it sees only committed rows), never on that connection."""
    async with transaction(db):
        await bot_settings.put(db, "inside", "uncommitted")
        seen_by_child = await asyncio.create_task(bot_settings.get(db, "inside"))
        assert await bot_settings.get(db, "inside") == "uncommitted"
    if is_postgres(db):
        assert seen_by_child is None
    assert await bot_settings.get(db, "inside") == "uncommitted"
