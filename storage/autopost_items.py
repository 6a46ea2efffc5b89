"""What auto-posting decided for each article a chat's rule matched (posted, held, folded,
duplicate), and the recent history the flood rules read."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from storage import json_lists
from storage.connection import Connection, is_postgres


@dataclass(frozen=True, slots=True)
class ItemDecision:
    """One row to store: the article's fate in that chat."""

    chat_id: int
    article_id: int
    rule_id: int
    url: str | None
    title_key: str
    state: str
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RecentItem:
    """A story the chat had (posted or held) within the look-back window."""

    article_id: int
    url: str | None
    title_key: str
    state: str
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class HeldGroup:
    """Held articles of one rule whose digest is due."""

    chat_id: int
    rule_id: int
    due_at: datetime
    article_ids: tuple[int, ...]


def _moment(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


async def record(db: Connection, items: Sequence[ItemDecision], *, at: datetime) -> None:
    """Store decisions; an article already decided for that chat keeps its first decision."""
    await db.executemany(
        "INSERT INTO autopost_items (chat_id, article_id, rule_id, url, title_key, state,"
        " decided_at, due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (
                i.chat_id, i.article_id, i.rule_id, i.url, i.title_key, i.state,
                int(at.timestamp()), None if i.due_at is None else int(i.due_at.timestamp()),
            )
            for i in items
        ],
    )  # fmt: skip


async def recent(db: Connection, *, chat_id: int, since: datetime) -> list[RecentItem]:
    """The chat's posted, held and folded stories decided since `since`, oldest first."""
    rows = await db.execute_fetchall(
        "SELECT article_id, url, title_key, state, decided_at FROM autopost_items"
        " WHERE chat_id = ? AND decided_at >= ? AND state != 'duplicate' ORDER BY decided_at",
        (chat_id, int(since.timestamp())),
    )
    return [RecentItem(r[0], r[1], r[2], r[3], _moment(r[4])) for r in rows]


async def decided_among(db: Connection, *, chat_id: int, article_ids: Sequence[int]) -> set[int]:
    """Those of the articles the chat already has a decision for."""
    rows = await db.execute_fetchall(
        "SELECT article_id FROM autopost_items WHERE chat_id = ?"
        f" AND article_id IN ({json_lists.ids(db)})",
        (chat_id, json.dumps(list(article_ids))),
    )
    return {row[0] for row in rows}


def _id_list(db: Connection) -> str:
    # A JSON list of the group's article ids, smallest first (SQLite keeps the subquery's order).
    if is_postgres(db):
        return "json_agg(article_id ORDER BY article_id)"
    return "json_group_array(article_id)"


async def held_due(db: Connection, *, now: datetime, limit: int) -> list[HeldGroup]:
    """Held articles whose digest time has come, grouped by rule and due time."""
    rows = await db.execute_fetchall(
        f"SELECT chat_id, rule_id, due_at, {_id_list(db)} FROM"
        " (SELECT chat_id, rule_id, due_at, article_id FROM autopost_items"
        "  WHERE state = 'held' AND due_at <= ? ORDER BY article_id) AS held"
        " GROUP BY chat_id, rule_id, due_at ORDER BY due_at LIMIT ?",
        (int(now.timestamp()), limit),
    )
    return [HeldGroup(r[0], r[1], _moment(r[2]), tuple(json.loads(r[3]))) for r in rows]


async def fold(db: Connection, group: HeldGroup) -> None:
    """Mark a group's held articles as sent in their digest."""
    await db.execute(
        "UPDATE autopost_items SET state = 'folded' WHERE chat_id = ? AND rule_id = ?"
        " AND due_at = ? AND state = 'held'",
        (group.chat_id, group.rule_id, int(group.due_at.timestamp())),
    )


async def drop_rule(db: Connection, *, rule_ids: Sequence[int]) -> None:
    """Held articles of removed rules are no longer due anywhere."""
    await db.execute(
        "UPDATE autopost_items SET state = 'duplicate' WHERE state = 'held'"
        f" AND rule_id IN ({json_lists.ids(db)})",
        (json.dumps(list(rule_ids)),),
    )


async def counts(db: Connection, *, chat_id: int) -> dict[str, int]:
    """Articles by state for a chat (for tests, stats and benchmarks)."""
    rows = await db.execute_fetchall(
        "SELECT state, count(*) FROM autopost_items WHERE chat_id = ? GROUP BY state", (chat_id,)
    )
    return {row[0]: row[1] for row in rows}


async def postpone(db: Connection, group: HeldGroup, *, due_at: datetime) -> None:
    """Move a group's digest later (its time fell in the chat's quiet hours)."""
    await db.execute(
        "UPDATE autopost_items SET due_at = ? WHERE chat_id = ? AND rule_id = ?"
        " AND due_at = ? AND state = 'held'",
        (int(due_at.timestamp()), group.chat_id, group.rule_id, int(group.due_at.timestamp())),
    )
