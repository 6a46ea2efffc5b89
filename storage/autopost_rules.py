"""Auto-posting rules of chats: topics, filters, style, pace, quiet hours and pause state."""

from __future__ import annotations

import json
from datetime import datetime

from bot.models import AutopostRule, AutopostStyle, KeywordFilters, QuietHours
from storage import json_lists
from storage.connection import Connection, Row

_COLUMNS = (
    "id, chat_id, thread_id, topics, include_words, exclude_words, style, link_preview,"
    " hourly_cap, quiet_start, quiet_end, created_by, paused_reason"
)


def _to_rule(row: Row) -> AutopostRule:
    quiet = None
    if row["quiet_start"] is not None and row["quiet_end"] is not None:
        quiet = QuietHours(row["quiet_start"], row["quiet_end"])
    return AutopostRule(
        id=row["id"],
        chat_id=row["chat_id"],
        thread_id=row["thread_id"],
        topics=tuple(json.loads(row["topics"])),
        filters=KeywordFilters(
            tuple(json.loads(row["include_words"])), tuple(json.loads(row["exclude_words"]))
        ),
        style=AutopostStyle(row["style"]),
        link_preview=bool(row["link_preview"]),
        hourly_cap=row["hourly_cap"],
        quiet=quiet,
        created_by=row["created_by"],
        paused_reason=row["paused_reason"],
    )


async def add(db: Connection, rule: AutopostRule, *, at: datetime) -> int:
    """Store a new rule (its `id` is ignored); return the id it got."""
    quiet = rule.quiet
    rows = await db.execute_fetchall(
        "INSERT INTO autopost_rules (chat_id, thread_id, topics, include_words, exclude_words,"
        " style, link_preview, hourly_cap, quiet_start, quiet_end, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            rule.chat_id, rule.thread_id, json.dumps(rule.topics, ensure_ascii=False),
            json.dumps(rule.filters.include, ensure_ascii=False),
            json.dumps(rule.filters.exclude, ensure_ascii=False),
            rule.style.value, int(rule.link_preview), rule.hourly_cap,
            None if quiet is None else quiet.start, None if quiet is None else quiet.end,
            rule.created_by, int(at.timestamp()),
        ),
    )  # fmt: skip
    return rows[0][0]


async def get(db: Connection, rule_id: int) -> AutopostRule | None:
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM autopost_rules WHERE id = ?", (rule_id,)
    )
    return _to_rule(rows[0]) if rows else None


async def of_chat(db: Connection, *, chat_id: int) -> list[AutopostRule]:
    """The chat's rules in creation order (their 1-based position is their number)."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM autopost_rules WHERE chat_id = ? ORDER BY id", (chat_id,)
    )
    return [_to_rule(row) for row in rows]


async def running_for(db: Connection, *, topics: tuple[str, ...]) -> list[AutopostRule]:
    """Rules not paused that take every topic or one of these, in chat order."""
    rows = await db.execute_fetchall(
        f"SELECT {_COLUMNS} FROM autopost_rules r WHERE paused_reason IS NULL AND"
        f" (topics = '[]' OR EXISTS (SELECT 1 FROM {json_lists.values(db, 'r.topics')} t"
        f" WHERE t.value IN ({json_lists.texts(db)})))"
        " ORDER BY chat_id, id",
        (json.dumps(topics, ensure_ascii=False),),
    )
    return [_to_rule(row) for row in rows]


async def delete(db: Connection, rule_ids: list[int]) -> None:
    await db.execute(
        f"DELETE FROM autopost_rules WHERE id IN ({json_lists.ids(db)})",
        (json.dumps(rule_ids),),
    )


async def pause_chat(db: Connection, *, chat_id: int, reason: str) -> list[AutopostRule]:
    """Pause the chat's running rules; return those that were paused now."""
    rows = await db.execute_fetchall(
        "UPDATE autopost_rules SET paused_reason = ?"
        f" WHERE chat_id = ? AND paused_reason IS NULL RETURNING {_COLUMNS}",
        (reason, chat_id),
    )
    return [_to_rule(row) for row in rows]


async def resume_chat(db: Connection, *, chat_id: int) -> int:
    """Resume every paused rule of the chat; return how many."""
    cursor = await db.execute(
        "UPDATE autopost_rules SET paused_reason = NULL"
        " WHERE chat_id = ? AND paused_reason IS NOT NULL",
        (chat_id,),
    )
    return cursor.rowcount


async def move(db: Connection, *, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its rules and their history follow it."""
    await db.execute(
        "UPDATE autopost_rules SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
    )
    await db.execute(
        "UPDATE autopost_items SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS (SELECT 1"
        " FROM autopost_items n WHERE n.chat_id = ? AND n.article_id = autopost_items.article_id)",
        (new_chat_id, old_chat_id, new_chat_id),
    )
