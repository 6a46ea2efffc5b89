"""Due schedules come grouped by what their digest depends on, earliest first, on either engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import ScheduleRule
from storage import chats, schedules, subscriptions
from storage.database import transaction

SLOT = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
EIGHT = ScheduleRule(times=(SLOT.time(),))


async def schedule(db, chat_id: int, *, due: datetime, items: int = 5, title: str = "") -> int:
    if title:
        await chats.remember(db, chat_id, type="private", title=title, at=SLOT)
        await subscriptions.create(db, chat_id, at=SLOT)
    return await schedules.add(
        db, chat_id=chat_id, rule=EIGHT, item_count=items, thread_id=None, topics=(),
        created_by=chat_id, at=SLOT - timedelta(days=1), next_fire_at=due,
    )  # fmt: skip


async def test_alike_schedules_share_a_group_and_groups_come_earliest_first(db):
    async with transaction(db):
        alike = [await schedule(db, chat, due=SLOT, title=f"قارئ {chat}") for chat in (3, 4)]
        other_count = await schedule(db, 5, due=SLOT, items=10, title="قارئ 5")
        unknown_chat = await schedule(db, 2, due=SLOT - timedelta(minutes=1))
        alike.append(await schedule(db, 6, due=SLOT, title="قارئ 6"))
        await schedule(db, 7, due=SLOT + timedelta(minutes=1), title="قارئ 7")  # not due yet

    groups = await schedules.due_groups(db, now=SLOT, limit=10)

    assert [[m[0] for m in g.members] for g in groups] == [[unknown_chat], alike, [other_count]]
    assert groups[0].chat is None and groups[0].subscription is None
    assert [(m[1], m[4]) for m in groups[1].members] == [
        (3, "قارئ 3"),
        (4, "قارئ 4"),
        (6, "قارئ 6"),
    ]
    assert groups[1].chat.title == "قارئ 3" and groups[1].subscription.chat_id == 3
    assert groups[2].schedule.item_count == 10


async def test_the_limit_counts_schedules_not_groups(db):
    async with transaction(db):
        ids = [await schedule(db, chat, due=SLOT, title=f"قارئ {chat}") for chat in range(1, 6)]

    [group] = await schedules.due_groups(db, now=SLOT, limit=3)

    assert [m[0] for m in group.members] == ids[:3]
