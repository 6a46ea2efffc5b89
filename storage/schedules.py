"""Digest schedules of chats: their rule, topics, count, pause state and the last slot served."""

from __future__ import annotations

import json
from datetime import datetime, time

from aiosqlite import Connection, Row

from bot.models import DAY_NAMES, Schedule, ScheduleRule
from storage.timestamps import optional_from_db, to_db

_COLUMNS = (
    "id, chat_id, thread_id, times, days, cron, topics, item_count, created_by, paused_reason,"
    " last_slot, last_article_id"
)


def _rule(row: Row) -> ScheduleRule:
    if row["cron"]:
        return ScheduleRule(cron=row["cron"])
    times = tuple(time.fromisoformat(t) for t in row["times"].split(","))
    days = tuple(DAY_NAMES.index(d) for d in row["days"].split(",")) if row["days"] else ()
    return ScheduleRule(times=times, days=days)


def _to_schedule(row: Row) -> Schedule:
    slot = row["last_slot"]
    return Schedule(
        id=row["id"],
        chat_id=row["chat_id"],
        rule=_rule(row),
        item_count=row["item_count"],
        thread_id=row["thread_id"],
        topics=tuple(json.loads(row["topics"])),
        created_by=row["created_by"],
        paused_reason=row["paused_reason"],
        last_slot=optional_from_db(slot),
        last_article_id=row["last_article_id"],
    )


def _rule_columns(rule: ScheduleRule) -> tuple[str | None, str | None, str | None]:
    if rule.cron:
        return None, None, rule.cron
    times = ",".join(t.strftime("%H:%M") for t in rule.times)
    return times, ",".join(rule.day_names) or None, None


async def add(
    db: Connection,
    *,
    chat_id: int,
    rule: ScheduleRule,
    item_count: int,
    thread_id: int | None,
    topics: tuple[str, ...],
    created_by: int | None,
    at: datetime,
) -> int:
    """Store a new schedule; return its id. Slots before `at` count as served: a schedule
    made at 08:10 never sends the 08:00 digest, even after a restart."""
    cursor = await db.execute(
        "INSERT INTO schedules (chat_id, thread_id, times, days, cron, topics, item_count,"
        " created_by, created_at, last_slot) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            chat_id, thread_id, *_rule_columns(rule), json.dumps(list(topics), ensure_ascii=False),
            item_count, created_by, to_db(at), to_db(at),
        ),
    )  # fmt: skip
    return cursor.lastrowid


async def set_rule(db: Connection, schedule_id: int, rule: ScheduleRule) -> None:
    """Change when a schedule fires."""
    await db.execute(
        "UPDATE schedules SET times = ?, days = ?, cron = ? WHERE id = ?",
        (*_rule_columns(rule), schedule_id),
    )


async def get(db: Connection, schedule_id: int) -> Schedule | None:
    """The schedule with this id, or None."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM schedules WHERE id = ?", (schedule_id,)
    )
    return _to_schedule(rows[0]) if rows else None


async def of_chat(db: Connection, *, chat_id: int) -> list[Schedule]:
    """A chat's schedules in creation order (their position is the number users see)."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM schedules WHERE chat_id = ? ORDER BY id", (chat_id,)
    )
    return [_to_schedule(row) for row in rows]


async def all_schedules(db: Connection) -> list[Schedule]:
    """Every schedule (to register their jobs at start-up)."""
    rows = await db.execute_fetchall(f"SELECT {_COLUMNS} FROM schedules ORDER BY id")
    return [_to_schedule(row) for row in rows]


async def delete(db: Connection, schedule_id: int) -> None:
    await db.execute("DELETE FROM schedules WHERE id = ?", (schedule_id,))


async def delete_of_chat(db: Connection, *, chat_id: int) -> list[int]:
    """Remove a chat's schedules; return their ids."""
    rows = await db.execute_fetchall(
        "DELETE FROM schedules WHERE chat_id = ? RETURNING id", (chat_id,)
    )
    return [row[0] for row in rows]


async def pause_chat(db: Connection, *, chat_id: int, reason: str) -> list[Schedule]:
    """Pause a chat's running schedules; return the ones that were running."""
    rows = await db.execute_fetchall(
        f"UPDATE schedules SET paused_reason = ? WHERE chat_id = ? AND paused_reason IS NULL"
        f" RETURNING {_COLUMNS}",
        (reason, chat_id),
    )
    return [_to_schedule(row) for row in rows]


async def resume_chat(db: Connection, *, chat_id: int) -> int:
    """Resume a chat's paused schedules; return how many."""
    cursor = await db.execute(
        "UPDATE schedules SET paused_reason = NULL WHERE chat_id = ? AND paused_reason IS NOT NULL",
        (chat_id,),
    )
    return cursor.rowcount


async def record_run(
    db: Connection, schedule_id: int, *, slot: datetime, last_article_id: int | None
) -> bool:
    """Mark `slot` served; False when it (or a later one) already was, so nothing runs twice."""
    cursor = await db.execute(
        "UPDATE schedules SET last_slot = ?, last_article_id = coalesce(?, last_article_id)"
        " WHERE id = ? AND (last_slot IS NULL OR last_slot < ?)",
        (to_db(slot), last_article_id, schedule_id, to_db(slot)),
    )
    return cursor.rowcount > 0


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int) -> None:
    """Carry a chat's schedules over to its new id."""
    await db.execute(
        "UPDATE schedules SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
    )
