"""The loop behind digest slots and source polls: batches, waking, surviving failures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.due_loop import DueLoop
from bot.models import DueBatch

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class Rows:
    """Rows with due times; `run_due` claims up to `batch` of those due at `now`."""

    def __init__(self, due_times: list[datetime], batch: int) -> None:
        self.due = sorted(due_times)
        self.batch = batch
        self.ran: list[datetime] = []
        self.changed = asyncio.Event()

    async def next_due(self) -> datetime | None:
        return self.due[0] if self.due else None

    async def run_due(self, now: datetime) -> DueBatch:
        claimed = [d for d in self.due if d <= now][: self.batch]
        for d in claimed:
            self.due.remove(d)
        self.ran.extend(claimed)
        if claimed:
            self.changed.set()
        return DueBatch(len(claimed), more=len(claimed) == self.batch)


def loop_for(rows: Rows, now: list[datetime], **kwargs: float) -> DueLoop:
    return DueLoop(
        "test",
        clock=lambda: now[0],
        next_due=rows.next_due,
        run_due=rows.run_due,
        **kwargs,
    )


async def test_run_pending_runs_every_due_row_in_batches_and_leaves_the_rest() -> None:
    rows = Rows([T0] * 25 + [T0 + timedelta(hours=1)], batch=10)
    loop = loop_for(rows, [T0])
    assert await loop.run_pending() == 25
    assert rows.due == [T0 + timedelta(hours=1)]


async def test_running_loop_runs_rows_that_fall_due_when_woken() -> None:
    now = [T0]
    rows = Rows([T0 + timedelta(minutes=5)], batch=10)
    loop = loop_for(rows, now, max_sleep_seconds=3600)
    loop.start()
    try:
        await asyncio.sleep(0)
        assert rows.ran == []
        now[0] = T0 + timedelta(minutes=5)  # the clock moved (sandbox, tests): say so
        loop.wake()
        await asyncio.wait_for(rows.changed.wait(), timeout=5)
        assert rows.ran == [T0 + timedelta(minutes=5)]
    finally:
        await loop.stop()
    assert not loop.is_running


async def test_a_failing_run_is_logged_and_the_loop_goes_on(caplog) -> None:
    now = [T0]
    rows = Rows([T0], batch=10)
    calls = 0
    original = rows.run_due

    async def flaky(at: datetime) -> DueBatch:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database locked")
        return await original(at)

    loop = DueLoop(
        "flaky",
        clock=lambda: now[0],
        next_due=rows.next_due,
        run_due=flaky,
        error_pause_seconds=3600,
    )
    loop.start()
    try:
        for _ in range(100):  # the failed run is logged before the loop waits
            if "database locked" in caplog.text:
                break
            await asyncio.sleep(0)
        loop.wake()
        await asyncio.wait_for(rows.changed.wait(), timeout=5)
    finally:
        await loop.stop()
    assert rows.ran == [T0]
    assert "flaky: run failed" in caplog.text
