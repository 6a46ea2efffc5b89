"""The moderation audit log: who did what to which image, person or chat, and when."""

from __future__ import annotations

import json
from datetime import datetime

from bot.models import AuditAction, AuditEntry
from storage.connection import Connection, Row
from storage.timestamps import from_db, to_db


def _to_entry(row: Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        at=from_db(row["at"]),
        actor_id=row["actor_id"],
        action=AuditAction(row["action"]),
        image_id=row["image_id"],
        subject_id=row["subject_id"],
        details=row["details"],
    )


async def write(
    db: Connection,
    *,
    at: datetime,
    actor_id: int | None,
    action: AuditAction,
    image_id: int | None = None,
    subject_id: int | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Append one entry; `actor_id` None means the bot acted on its own."""
    await db.execute(
        "INSERT INTO audit_log (at, actor_id, action, image_id, subject_id, details)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (to_db(at), actor_id, action.value, image_id, subject_id, json.dumps(details or {})),
    )


async def latest(db: Connection, *, limit: int, before_id: int | None = None) -> list[AuditEntry]:
    """Entries newest first, those older than `before_id` when given (for paging)."""
    rows = await db.execute_fetchall(
        "SELECT id, at, actor_id, action, image_id, subject_id, details FROM audit_log"
        " WHERE id < ? ORDER BY id DESC LIMIT ?",
        (before_id if before_id is not None else 2**63 - 1, limit),
    )
    return [_to_entry(row) for row in rows]
