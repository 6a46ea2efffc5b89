"""The broadcast outbox: queued messages, worker claims with leases, progress and counts.

Claiming is one `UPDATE … WHERE id IN (SELECT … LIMIT ?) RETURNING …` statement, so several
worker processes can share the table (on PostgreSQL the inner SELECT takes its rows `FOR UPDATE
SKIP LOCKED`, so concurrent claims pass each other instead of waiting). A row is claimable only
as the oldest queued row of its chat and once the chat's gap since its last finished row has
passed: at most one worker sends to a chat at a time, in order, spaced across processes too.
Times are Unix seconds as `storage.timestamps` stores them: the engine schedules in those
seconds, so claims, leases and progress take them as they are.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.models import OutgoingMessage
from storage import json_lists
from storage.connection import Connection, Row, is_postgres
from storage.timestamps import to_db


@dataclass(frozen=True, slots=True)
class ClaimedRow:
    """A row a worker now holds: what to send and how far it got."""

    id: int
    chat_id: int
    thread_id: int | None
    kind: str
    parts: tuple[str, ...]
    next_part: int
    attempts: int
    started_at: float | None
    step: str = "send"
    edit_message_id: int | None = None
    edit_caption: str | None = None
    photo_url: str | None = None
    image_id: int | None = None
    report_button: str | None = None
    link_preview: bool = False


@dataclass(frozen=True, slots=True)
class RowProgress:
    """The state a worker records for a row it holds; `status` 'sent'/'failed' releases it."""

    id: int
    chat_id: int
    next_part: int
    status: str
    attempts: int
    not_before: float
    last_error: str | None
    started_at: float | None
    finished_at: float | None
    step: str = "send"
    chat_free_at: float | None = None  # real time the chat's next row may start (finished rows)


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    """Rows by state, plus the rate of the most recent broadcast (messages per second)."""

    queued: int
    sending: int
    sent: int
    failed: int
    last_rate: float | None


_COLUMNS = (
    "key, chat_id, thread_id, kind, parts, body_id, part_count, created_at,"
    " step, edit_message_id, edit_caption, photo_url, image_id, report_button, link_preview"
)
# Lookups of a batch's bodies: a body pruned meanwhile is stored again (`_store_bodies`).
_STORE_ATTEMPTS = 3
# The PostgreSQL type of each of _insert_values' columns, for one array per column.
_ARRAY_TYPES = ("text", "bigint", "bigint", "text", "text", "bigint", "integer",
                "double precision", "text", "bigint", "text", "text", "bigint", "text",
                "integer")  # fmt: skip


async def add(db: Connection, messages: Iterable[OutgoingMessage], *, at: datetime) -> int:
    """Insert messages whose key is new; return how many rows were added. Alike messages
    (the same parts) share one stored body."""
    messages = list(messages)
    if not messages:
        return 0
    encoded: dict[tuple[str, ...], str] = {}
    for m in messages:
        if (parts := tuple(m.parts)) not in encoded:
            encoded[parts] = _encode(parts)
    body_ids = await _store_bodies(db, set(encoded.values()))
    created = to_db(at)
    rows = [_insert_values(m, body_ids[encoded[tuple(m.parts)]], created) for m in messages]
    if is_postgres(db):
        return await _add_postgres(db, rows)
    cursor = await db.executemany(
        f"INSERT INTO outbox ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (key) DO NOTHING",
        rows,
    )
    return max(cursor.rowcount, 0)


async def _add_postgres(db: Connection, rows: list[tuple[object, ...]]) -> int:
    # One statement for the batch, each column an array (one round trip instead of one per
    # row); unnest yields the rows in order, so ids follow the messages' order as on SQLite.
    arrays = ", ".join(f"CAST(? AS {kind}[])" for kind in _ARRAY_TYPES)
    cursor = await db.execute(
        f"INSERT INTO outbox ({_COLUMNS}) SELECT * FROM unnest({arrays})"
        " ON CONFLICT (key) DO NOTHING",
        [list(column) for column in zip(*rows, strict=True)],
    )
    return max(cursor.rowcount, 0)


async def add_shared(
    db: Connection,
    messages: Sequence[tuple[Sequence[str], Sequence[tuple[str, int, int | None]]]],
    *,
    kind: str,
    at: datetime,
) -> list[int]:
    """Queue each message (its parts) to each of its (key, chat id, thread id) whose key is
    new, in one statement; return the chat ids it was queued for."""
    encoded: dict[tuple[str, ...], str] = {}
    for parts, _ in messages:
        if (key := tuple(parts)) not in encoded:
            encoded[key] = _encode(parts)
    body_ids = await _store_bodies(db, set(encoded.values()))
    rows = [
        (key, chat_id, thread_id, body_ids[encoded[tuple(parts)]], len(parts))
        for parts, recipients in messages
        for key, chat_id, thread_id in recipients
    ]
    if not rows:
        return []
    added = await db.execute_fetchall(
        "INSERT INTO outbox (key, chat_id, thread_id, kind, parts, body_id, part_count,"
        " created_at, step, link_preview) SELECT r.value ->> 0, CAST(r.value ->> 1 AS BIGINT),"
        " CAST(r.value ->> 2 AS BIGINT), CAST(? AS TEXT), '', CAST(r.value ->> 3 AS BIGINT),"
        " CAST(r.value ->> 4 AS INTEGER), CAST(? AS DOUBLE PRECISION), 'send', 0"
        f" FROM {json_lists.items(db)} r WHERE true ON CONFLICT (key) DO NOTHING"
        " RETURNING chat_id",
        (kind, to_db(at), json.dumps(rows)),
    )
    return [row[0] for row in added]


def _encode(parts: Sequence[str]) -> str:
    # Unescaped UTF-8: Arabic takes a third of the bytes that \uXXXX escapes take.
    return json.dumps(list(parts), ensure_ascii=False)


def _digest(encoded: str) -> str:
    return hashlib.sha256(encoded.encode()).hexdigest()


async def _store_bodies(db: Connection, encoded: set[str]) -> dict[str, int]:
    """The body id of each encoded parts list, stored if new: two statements per batch.

    On PostgreSQL the bodies found stay locked (FOR KEY SHARE) until the caller's transaction
    ends. History pruning (`storage.retention.delete_unused_bodies`) skips locked bodies.
    Without the lock it could delete one it found unused between this lookup and the insert of
    the rows that use it, and that insert would then fail on its foreign key. A body deleted
    before the lookup is stored again. On SQLite every write transaction runs alone.
    """
    by_digest = {_digest(parts): parts for parts in encoded}
    lock = " FOR KEY SHARE" if is_postgres(db) else ""
    ids: dict[str, int] = {}
    for _ in range(_STORE_ATTEMPTS):
        missing = {digest: parts for digest, parts in by_digest.items() if parts not in ids}
        if not missing:
            break
        await db.execute(
            "INSERT INTO outbox_bodies (digest, parts) SELECT b.value ->> 0, b.value ->> 1"
            f" FROM {json_lists.items(db)} b WHERE true ON CONFLICT (digest) DO NOTHING",
            (json.dumps(list(missing.items()), ensure_ascii=False),),
        )
        rows = await db.execute_fetchall(
            f"SELECT id, digest FROM outbox_bodies WHERE digest IN ({json_lists.texts(db)})" + lock,
            (json.dumps(list(missing)),),
        )
        ids.update((by_digest[digest], body_id) for body_id, digest in rows)
    if len(ids) < len(by_digest):
        raise RuntimeError("message bodies deleted as they were stored, again and again")
    return ids


def _insert_values(m: OutgoingMessage, body_id: int, at: float) -> tuple[object, ...]:
    edit, photo = m.edit, m.photo
    return (
        m.key, m.chat_id, m.thread_id, m.kind, "", body_id, len(m.parts), at,
        "send" if edit is None else "edit",
        None if edit is None else edit.message_id,
        None if edit is None else edit.caption,
        None if photo is None else photo.url,
        None if photo is None else photo.image_id,
        None if photo is None else photo.report_button,
        int(m.link_preview),
    )  # fmt: skip


_CLAIM = (
    "UPDATE outbox SET claimed_by = ?, lease_until = ? WHERE id IN ("
    " SELECT id FROM outbox o WHERE status = 'queued' AND not_before <= ?"
    " AND (lease_until IS NULL OR lease_until < ?)"
    # A row whose lease ran out while its worker still sends it (a stalled loop, a moved test
    # clock) is never taken again by that same worker: it would go out twice.
    " AND (claimed_by IS NULL OR claimed_by <> ?)"
    # The chat's earlier rows come first, whoever holds them…
    " AND NOT EXISTS (SELECT 1 FROM outbox e"
    "  WHERE e.chat_id = o.chat_id AND e.status = 'queued' AND e.id < o.id)"
    # …and the gap after its last finished row must have passed.
    " AND NOT EXISTS (SELECT 1 FROM outbox f WHERE f.chat_id = o.chat_id AND f.chat_free_at > ?)"
    " ORDER BY id LIMIT ?{lock})"
    " RETURNING id, chat_id, thread_id, kind, parts, next_part, attempts, started_at,"
    " step, edit_message_id, edit_caption, photo_url, image_id, report_button, link_preview,"
    " body_id"
)


async def claim(
    db: Connection,
    *,
    worker: str,
    now: float,
    lease_until: float,
    limit: int,
    real_now: float | None = None,
) -> list[ClaimedRow]:
    """Lease up to `limit` due rows nobody holds (or whose lease expired) to `worker`: each
    the oldest queued row of its chat, and only once its chat is free at `real_now` (chat
    gaps are real time even when `now` comes from a test's clock; default `now`)."""
    lock = " FOR UPDATE OF o SKIP LOCKED" if is_postgres(db) else ""
    free_at = now if real_now is None else real_now
    rows = await db.execute_fetchall(
        _CLAIM.format(lock=lock), (worker, lease_until, now, now, worker, free_at, limit)
    )
    bodies = await _bodies(db, {r[15] for r in rows if r[15] is not None})
    claimed = [_claimed(r, bodies) for r in rows]
    claimed.sort(key=lambda row: row.id)  # RETURNING order is unspecified
    return claimed


async def next_claimable_in(
    db: Connection, *, now: float, real_now: float | None = None
) -> float | None:
    """Seconds until the next row nobody holds becomes claimable (its chat's gap or its own
    `not_before`), for a worker with nothing to claim now; None when no such row waits."""
    real = now if real_now is None else real_now
    rows = await db.execute_fetchall(
        "SELECT min(CASE WHEN free_in > due_in THEN free_in ELSE due_in END) FROM ("
        " SELECT o.not_before - ? AS due_in, coalesce((SELECT max(f.chat_free_at) FROM outbox f"
        "  WHERE f.chat_id = o.chat_id AND f.chat_free_at IS NOT NULL), 0) - ? AS free_in"
        " FROM outbox o WHERE o.status = 'queued' AND (o.lease_until IS NULL OR o.lease_until < ?)"
        " AND NOT EXISTS (SELECT 1 FROM outbox e"
        "  WHERE e.chat_id = o.chat_id AND e.status = 'queued' AND e.id < o.id)) AS waiting",
        (now, real, now),
    )
    return rows[0][0]


async def _bodies(db: Connection, ids: set[int]) -> dict[int, tuple[str, ...]]:
    """The parts of these bodies, each decoded once however many claimed rows share it."""
    if not ids:
        return {}
    rows = await db.execute_fetchall(
        f"SELECT id, parts FROM outbox_bodies WHERE id IN ({json_lists.ids(db)})",
        (json.dumps(sorted(ids)),),
    )
    return {body_id: tuple(json.loads(parts)) for body_id, parts in rows}


def _claimed(r: Row, bodies: dict[int, tuple[str, ...]]) -> ClaimedRow:
    parts = bodies[r[15]] if r[15] is not None else tuple(json.loads(r[4]))
    return ClaimedRow(
        r[0], r[1], r[2], r[3], parts, r[5], r[6], r[7], r[8], r[9], r[10],
        r[11], r[12], r[13], bool(r[14]),
    )  # fmt: skip


async def record(db: Connection, progress: Sequence[RowProgress], *, worker: str) -> None:
    """Store progress of rows `worker` still holds; finished rows drop their claim."""
    await db.executemany(
        "UPDATE outbox SET chat_id = ?, next_part = ?, status = ?, attempts = ?,"
        " not_before = ?, last_error = ?, started_at = ?, finished_at = ?, step = ?,"
        " chat_free_at = ?,"
        " claimed_by = CASE WHEN ? THEN claimed_by END,"
        " lease_until = CASE WHEN ? THEN lease_until END"
        " WHERE id = ? AND claimed_by = ?",
        [
            (
                p.chat_id,
                p.next_part,
                p.status,
                p.attempts,
                p.not_before,
                p.last_error,
                p.started_at,
                p.finished_at,
                p.step,
                p.chat_free_at,
                p.status == "queued",
                p.status == "queued",
                p.id,
                worker,
            )
            for p in progress
        ],
    )


async def renew(db: Connection, *, worker: str, lease_until: float) -> None:
    """Extend the lease of every row `worker` holds."""
    await db.execute(
        "UPDATE outbox SET lease_until = ? WHERE claimed_by = ?", (lease_until, worker)
    )


async def release(db: Connection, *, worker: str) -> None:
    """Give back every row `worker` holds, for any worker to claim at once."""
    await db.execute(
        "UPDATE outbox SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?", (worker,)
    )


async def counts(db: Connection, *, now: datetime, broadcast_window: float) -> OutboxCounts:
    """Rows by state; the last broadcast is what was queued within `broadcast_window` seconds
    before the newest row, and its rate is messages sent over first-to-last send time."""
    at = to_db(now)
    rows = await db.execute_fetchall(
        "SELECT"
        " count(*) FILTER (WHERE status = 'queued' AND coalesce(lease_until, 0) < ?),"
        " count(*) FILTER (WHERE status = 'queued' AND lease_until >= ?),"
        " count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'failed')"
        " FROM outbox",
        (at, at),
    )
    queued, sending, sent, failed = rows[0]
    return OutboxCounts(queued, sending, sent, failed, await _last_rate(db, broadcast_window))


async def _last_rate(db: Connection, window: float) -> float | None:
    rows = await db.execute_fetchall(
        "SELECT sum(part_count), min(started_at), max(finished_at) FROM outbox"
        " WHERE status = 'sent' AND created_at >= (SELECT max(created_at) FROM outbox) - ?",
        (window,),
    )
    messages, first, last = rows[0]
    if not messages or first is None or last is None or last <= first:
        return None
    return messages / (last - first)


async def get(db: Connection, key: str) -> RowProgress | None:
    """The stored state of one row by key (for operators and tests)."""
    rows = await db.execute_fetchall(
        "SELECT id, chat_id, next_part, status, attempts, not_before, last_error, started_at,"
        " finished_at, step FROM outbox WHERE key = ?",
        (key,),
    )
    return RowProgress(*rows[0]) if rows else None
