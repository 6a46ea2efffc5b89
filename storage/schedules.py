"""Digest schedules of chats: their rule, topics, count, pause state and the last slot served."""

from __future__ import annotations

import json
from datetime import datetime, time
from functools import lru_cache

from bot.models import DAY_NAMES, ChatSettings, DueGroup, DueMember, Schedule, ScheduleRule
from storage import json_lists, subscriptions
from storage.connection import Connection, Row, is_postgres
from storage.timestamps import optional_from_db, optional_to_db, to_db

_COLUMNS = (
    "id, chat_id, thread_id, times, days, cron, topics, item_count, created_by, paused_reason,"
    " last_slot, last_article_id, next_fire_at"
)


def _rule(row: Row) -> ScheduleRule:
    return _parsed_rule(row["times"], row["days"], row["cron"])


# Rows repeat a few rules and topic lists (every subscriber's default 08:00): parse each once.
@lru_cache(maxsize=4096)
def _parsed_rule(times: str | None, days: str | None, cron: str | None) -> ScheduleRule:
    if cron:
        return ScheduleRule(cron=cron)
    return ScheduleRule(
        times=tuple(time.fromisoformat(t) for t in times.split(",")),
        days=tuple(DAY_NAMES.index(d) for d in days.split(",")) if days else (),
    )


@lru_cache(maxsize=4096)
def _topics(text: str) -> tuple[str, ...]:
    return tuple(json.loads(text))


def _to_schedule(row: Row) -> Schedule:
    slot = row["last_slot"]
    return Schedule(
        id=row["id"],
        chat_id=row["chat_id"],
        rule=_rule(row),
        item_count=row["item_count"],
        thread_id=row["thread_id"],
        topics=_topics(row["topics"]),
        created_by=row["created_by"],
        paused_reason=row["paused_reason"],
        last_slot=optional_from_db(slot),
        last_article_id=row["last_article_id"],
        next_fire_at=row["next_fire_at"],
    )


def _rule_columns(rule: ScheduleRule) -> tuple[str | None, str | None, str | None]:
    if rule.cron:
        return None, None, rule.cron
    times = ",".join(t.strftime("%H:%M") for t in rule.times)
    return times, ",".join(rule.day_names) or None, None


# The larger of last_slot and a moment given twice (a NULL last_slot: the moment).
_AT_LEAST = "CASE WHEN last_slot >= ? THEN last_slot ELSE CAST(? AS DOUBLE PRECISION) END"


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
    next_fire_at: datetime | None,
) -> int:
    """Store a new schedule; return its id. Slots before `at` count as served: a schedule
    made at 08:10 never sends the 08:00 digest, even after a restart."""
    rows = await db.execute_fetchall(
        "INSERT INTO schedules (chat_id, thread_id, times, days, cron, topics, item_count,"
        " created_by, created_at, last_slot, next_fire_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            chat_id, thread_id, *_rule_columns(rule), json.dumps(list(topics), ensure_ascii=False),
            item_count, created_by, to_db(at), to_db(at), optional_to_db(next_fire_at),
        ),
    )  # fmt: skip
    return rows[0][0]


async def set_rule(
    db: Connection,
    schedule_id: int,
    rule: ScheduleRule,
    *,
    at: datetime,
    next_fire_at: datetime | None,
) -> None:
    """Change when a schedule fires, from `at` on: slots before it count as served."""
    await db.execute(
        "UPDATE schedules SET times = ?, days = ?, cron = ?, next_fire_at = ?,"
        f" last_slot = {_AT_LEAST} WHERE id = ?",
        (*_rule_columns(rule), optional_to_db(next_fire_at), to_db(at), to_db(at), schedule_id),
    )


async def set_next_fire(db: Connection, moves: dict[int, datetime | None], *, at: datetime) -> None:
    """Move schedules to new next fire times (their chat changed time zone at `at`); slots
    before `at` count as served."""
    await db.executemany(
        f"UPDATE schedules SET next_fire_at = ?, last_slot = {_AT_LEAST} WHERE id = ?",
        [(optional_to_db(moment), to_db(at), to_db(at), sid) for sid, moment in moves.items()],
    )


# Due schedules grouped by everything their digest depends on (rule, topics, count, last slot
# and position, next fire time, the chat's settings, the subscription), each group with its
# members (schedule, chat, thread, creator, chat title) as one JSON array. The grouping runs in
# the database: a slot of 100,000 alike subscribers comes back as one row, not 100,000 rows
# of Python values built while the outbox worker needs the interpreter.
_SHAPE = (
    "times, days, cron, topics, item_count, paused_reason, last_slot, last_article_id,"
    " next_fire_at, known, chat_type, language, timezone, is_active, subscribed, sub_topics,"
    " instant_topics, include_words, exclude_words"
)
_DUE = (
    "SELECT s.id, s.chat_id, s.thread_id, s.created_by, c.title,"
    " s.times, s.days, s.cron, s.topics, s.item_count, s.paused_reason, s.last_slot,"
    " s.last_article_id, s.next_fire_at,"
    " c.chat_id IS NOT NULL AS known, c.type AS chat_type, c.language, c.timezone,"
    " c.is_active, u.chat_id IS NOT NULL AS subscribed, u.topics AS sub_topics,"
    " u.instant_topics, u.include_words, u.exclude_words"
    " FROM schedules s LEFT JOIN chats c ON c.chat_id = s.chat_id"
    " LEFT JOIN subscriptions u ON u.chat_id = s.chat_id"
    " WHERE s.next_fire_at <= ? ORDER BY s.next_fire_at, s.id LIMIT ?"
)
_MEMBERS = {
    "sqlite": "json_group_array(json_array(id, chat_id, thread_id, created_by, title))",
    "postgresql": "json_agg(json_build_array(id, chat_id, thread_id, created_by, title))",
}


async def due_groups(
    db: Connection, *, now: datetime, limit: int, max_groups: int | None = None
) -> list[DueGroup]:
    """Up to `limit` schedules whose next fire time is at or before `now`, earliest first,
    with each one's chat and subscription, grouped into schedules whose digest is composed
    alike (at most `max_groups` groups, the earliest): a slot of many subscribers builds one
    set of objects per group.

    On PostgreSQL the rows stay locked until the caller's transaction ends, and rows another
    transaction holds are skipped: processes claiming at the same moment share the due
    schedules out instead of queueing behind one another's composition."""
    engine = "postgresql" if is_postgres(db) else "sqlite"
    lock = " FOR UPDATE OF s SKIP LOCKED" if engine == "postgresql" else ""
    rows = await db.execute_fetchall(
        f"SELECT {_SHAPE}, {_MEMBERS[engine]}, min(id) AS first FROM ({_DUE}{lock}) due"
        f" GROUP BY {_SHAPE} ORDER BY next_fire_at, first LIMIT ?",
        (to_db(now), limit, max_groups or limit),
    )
    return [_due_group(tuple(row)[:-2], _members(row[-2])) for row in rows]


def _members(encoded: str) -> list[DueMember]:
    # Earliest first: a group shares its next fire time, so that is schedule id order.
    return sorted(map(tuple, json.loads(encoded)))


def _due_group(shape: tuple[object, ...], members: list[DueMember]) -> DueGroup:
    (times, days, cron, topics, item_count, paused_reason, last_slot, last_article_id,
     next_fire_at, known, chat_type, language, timezone, is_active, subscribed, sub_topics,
     instant_topics, include_words, exclude_words) = shape  # fmt: skip
    schedule_id, chat_id, thread_id, created_by, title = members[0]
    schedule = Schedule(
        id=schedule_id, chat_id=chat_id, rule=_parsed_rule(times, days, cron),
        item_count=item_count, thread_id=thread_id, topics=_topics(topics),
        created_by=created_by, paused_reason=paused_reason,
        last_slot=optional_from_db(last_slot), last_article_id=last_article_id,
        next_fire_at=next_fire_at,
    )  # fmt: skip
    chat = (
        ChatSettings(chat_id, chat_type, title, language, timezone, bool(is_active))
        if known
        else None
    )
    subscription = (
        subscriptions.from_columns(
            chat_id, sub_topics, instant_topics, include_words, exclude_words
        )
        if subscribed
        else None
    )
    return DueGroup(schedule, chat, subscription, tuple(members))


async def next_due(db: Connection) -> datetime | None:
    """The earliest next fire time of any schedule, or None when none will fire."""
    rows = await db.execute_fetchall("SELECT min(next_fire_at) FROM schedules")
    return optional_from_db(rows[0][0])


async def claim(db: Connection, moves: list[tuple[int, int | None, int | None]]) -> set[int]:
    """Move each (id, seen next fire time, new one) that still has the time it was seen with;
    return the ids moved. Whoever moves a row first owns its slot: a second process (or a
    second loop) reading the same rows claims none of them (on PostgreSQL it waits for the
    first one's transaction, then finds the time changed)."""
    by_times: dict[tuple[int | None, int | None], list[int]] = {}
    for schedule_id, seen, new in moves:
        by_times.setdefault((seen, new), []).append(schedule_id)
    claimed: set[int] = set()
    for (seen, new), ids in by_times.items():
        claimed |= await _move(db, ids, seen=seen, new=new, served=None)
    return claimed


async def claim_and_serve(
    db: Connection, runs: list[tuple[int, int | None, int | None, int]], *, last_article_id: int
) -> set[int]:
    """`claim` each (id, seen next fire time, new one, slot epoch) and mark its slot served
    in the same statement; return the ids claimed and served. A row whose slot (or a later
    one) was served already is left as it is: it stays due, and the next batch, finding
    its slot served, claims it alone."""
    by_times: dict[tuple[int | None, int | None, int], list[int]] = {}
    for schedule_id, seen, new, slot in runs:
        by_times.setdefault((seen, new, slot), []).append(schedule_id)
    served: set[int] = set()
    for (seen, new, slot), ids in by_times.items():
        served |= await _move(db, ids, seen=seen, new=new, served=(slot, last_article_id))
    return served


async def _move(
    db: Connection,
    ids: list[int],
    *,
    seen: int | None,
    new: int | None,
    served: tuple[int, int] | None,
) -> set[int]:
    # Rows alike in their times move in one statement: a slot of many subscribers claims a
    # batch in one or a few statements, and the values are bound once, not per row.
    serve = (
        ", last_slot = CAST(? AS DOUBLE PRECISION),"
        " last_article_id = coalesce(CAST(? AS BIGINT), last_article_id)"
    )
    rows = await db.execute_fetchall(
        "UPDATE schedules SET next_fire_at = CAST(? AS DOUBLE PRECISION)"
        + (serve if served else "")
        + f" WHERE id IN ({json_lists.ids(db)})"
        " AND next_fire_at IS NOT DISTINCT FROM CAST(? AS DOUBLE PRECISION)"
        + (" AND (last_slot IS NULL OR last_slot < CAST(? AS DOUBLE PRECISION))" if served else "")
        + " RETURNING id",
        (new, *(served or ()), json.dumps(ids), seen, *(served[:1] if served else ())),
    )
    return {row[0] for row in rows}


async def record_runs(db: Connection, runs: list[tuple[int, int, int | None]]) -> set[int]:
    """Mark each (id, slot epoch, last article id) served; return the ids whose slot was not
    served before (the others wrote nothing), so no slot runs twice."""
    rows = await db.execute_fetchall(
        "UPDATE schedules SET last_slot = CAST(r.value ->> 1 AS DOUBLE PRECISION),"
        " last_article_id = coalesce(CAST(r.value ->> 2 AS BIGINT), last_article_id)"
        f" FROM {json_lists.items(db)} r WHERE schedules.id = CAST(r.value ->> 0 AS BIGINT)"
        " AND (last_slot IS NULL OR last_slot < CAST(r.value ->> 1 AS DOUBLE PRECISION))"
        " RETURNING schedules.id",
        (json.dumps(runs),),
    )
    return {row[0] for row in rows}


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


async def first_running(db: Connection, chat_ids: list[int]) -> dict[int, Schedule]:
    """Each of these chats' first schedule that is not paused, by chat id."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM schedules WHERE id IN (SELECT min(id) FROM schedules"
        f" WHERE paused_reason IS NULL AND chat_id IN ({json_lists.ids(db)})"
        " GROUP BY chat_id)",
        (json.dumps(chat_ids),),
    )
    return {row["chat_id"]: _to_schedule(row) for row in rows}


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


async def channels_created_by(db: Connection, *, user_id: int) -> list[tuple[int, str | None]]:
    """The channels (id, title) this person made schedules for, by title."""
    rows = await db.execute_fetchall(
        "SELECT DISTINCT c.chat_id, c.title FROM schedules s JOIN chats c ON c.chat_id = s.chat_id"
        " WHERE s.created_by = ? AND c.type = 'channel' ORDER BY c.title, c.chat_id",
        (user_id,),
    )
    return [(row[0], row[1]) for row in rows]
