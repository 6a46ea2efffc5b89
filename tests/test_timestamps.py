"""One representation of time in storage, and databases written before it still work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.models import ScheduleRule
from storage import schedules
from storage.timestamps import from_db, to_db

SLOT = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def test_a_moment_is_stored_to_the_microsecond_and_read_back_in_utc():
    moment = datetime(2025, 3, 3, 8, 0, 0, 250_000, tzinfo=UTC)
    assert isinstance(to_db(moment), float)
    assert from_db(to_db(moment)) == moment
    assert from_db(to_db(moment)).tzinfo is UTC


def test_a_moment_without_a_time_zone_is_refused():
    with pytest.raises(ValueError, match="naive"):
        to_db(datetime(2025, 3, 3, 8, 0))


async def test_a_slot_stored_in_whole_seconds_by_an_earlier_version_is_not_served_twice(db):
    schedule_id = await schedules.add(
        db, chat_id=7, rule=ScheduleRule(times=(SLOT.time(),)), item_count=5, thread_id=None,
        topics=(), created_by=7, at=SLOT - timedelta(days=1), next_fire_at=SLOT,
    )  # fmt: skip
    old_row = int(SLOT.timestamp())  # what versions storing integer seconds wrote
    await db.execute(
        "UPDATE schedules SET last_slot = ?, next_fire_at = ? WHERE id = ?",
        (old_row, old_row, schedule_id),
    )

    assert (await schedules.get(db, schedule_id)).last_slot == SLOT
    assert await schedules.next_due(db) == SLOT
    [group] = await schedules.due_groups(db, now=SLOT, limit=10)
    assert [m[0] for m in group.members] == [schedule_id]
    assert await schedules.due_groups(db, now=SLOT - timedelta(microseconds=1), limit=10) == []
    assert not await schedules.record_run(db, schedule_id, slot=SLOT, last_article_id=None)
    later = SLOT + timedelta(days=1)
    assert await schedules.record_run(db, schedule_id, slot=later, last_article_id=None)
    assert (await schedules.get(db, schedule_id)).last_slot == later
