"""Reports against images: the state that decides a new report, storing it, the review queue."""

from __future__ import annotations

from datetime import datetime

from bot.models import ReportState, ReviewItem
from storage.connection import Connection
from storage.images import columns, to_image
from storage.timestamps import optional_from_db, to_db

# Weight of the current epoch's reports, without those of ignored reporters; `i` is the image.
_CURRENT_WEIGHT = (
    "(SELECT coalesce(sum(r.weight), 0) FROM reports r WHERE r.image_id = i.id"
    " AND r.epoch = i.report_epoch"
    " AND r.reporter_id NOT IN (SELECT user_id FROM ignored_reporters))"
)


async def state(
    db: Connection,
    *,
    image_id: int,
    reporter_id: int,
    chat_id: int | None,
    since: datetime,
    rate_limit: int,
) -> ReportState | None:
    """Everything a report by `reporter_id` depends on, in one read; None for an unknown image.

    `reports_last_hour` counts reports made after `since`, stopping at `rate_limit`.
    """
    rows = await db.execute_fetchall(
        f"SELECT {columns('i')},"
        " EXISTS (SELECT 1 FROM ignored_reporters WHERE user_id = ?) AS is_ignored,"
        " EXISTS (SELECT 1 FROM reports WHERE image_id = i.id AND epoch = i.report_epoch"
        "  AND reporter_id = ?) AS has_reported,"
        " (SELECT count(*) FROM (SELECT 1 FROM reports WHERE reporter_id = ?"
        "  AND created_at > ? LIMIT ?) AS latest) AS recent,"
        f" {_CURRENT_WEIGHT} AS current_weight,"
        " (SELECT threshold FROM chat_thresholds WHERE chat_id = ?) AS chat_threshold"
        " FROM images i WHERE i.id = ?",
        (reporter_id, reporter_id, reporter_id, to_db(since), rate_limit, chat_id, image_id),
    )
    if not rows:
        return None
    row = rows[0]
    return ReportState(
        image=to_image(row),
        is_ignored=bool(row["is_ignored"]),
        has_reported=bool(row["has_reported"]),
        reports_last_hour=row["recent"],
        current_weight=row["current_weight"],
        chat_threshold=row["chat_threshold"],
    )


async def add(
    db: Connection,
    *,
    image_id: int,
    epoch: int,
    reporter_id: int,
    chat_id: int | None,
    weight: int,
    at: datetime,
) -> bool:
    """Store a report; False when this person already reported the image in this epoch."""
    cursor = await db.execute(
        "INSERT INTO reports (image_id, epoch, reporter_id, chat_id, weight, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (image_id, epoch, reporter_id) DO NOTHING",
        (image_id, epoch, reporter_id, chat_id, weight, to_db(at)),
    )
    return cursor.rowcount == 1


# An image belongs to a chat when it was reported there or the bot showed it there.
_IN_CHAT = (
    " AND (EXISTS (SELECT 1 FROM reports rc WHERE rc.image_id = i.id AND rc.chat_id = ?)"
    " OR EXISTS (SELECT 1 FROM image_messages mc WHERE mc.image_id = i.id AND mc.chat_id = ?))"
)


async def review_queue(db: Connection, *, limit: int, chat_id: int | None) -> list[ReviewItem]:
    """Hidden images and images reported in their current epoch, latest activity first; with
    `chat_id`, only those reported or shown in that chat.

    Groups every current-epoch report: fine for an admin command, not for a hot path.
    """
    scope = "" if chat_id is None else _IN_CHAT
    scope_values = () if chat_id is None else (chat_id, chat_id)
    rows = await db.execute_fetchall(
        "WITH counted AS (SELECT r.image_id, sum(r.weight) AS weight, count(*) AS reporters,"
        "  max(r.created_at) AS last_at FROM reports r"
        "  JOIN images im ON im.id = r.image_id AND im.report_epoch = r.epoch"
        "  WHERE r.reporter_id NOT IN (SELECT user_id FROM ignored_reporters)"
        "  GROUP BY r.image_id)"
        f" SELECT {columns('i')}, coalesce(c.weight, 0) AS weight,"
        " coalesce(c.reporters, 0) AS reporters, c.last_at"
        " FROM images i LEFT JOIN counted c ON c.image_id = i.id"
        " WHERE (i.status = 'hidden' OR c.image_id IS NOT NULL)" + scope + ""
        " ORDER BY CASE WHEN coalesce(c.last_at, 0) > coalesce(i.hidden_at, 0)"
        "  THEN c.last_at ELSE coalesce(i.hidden_at, 0) END DESC, i.id DESC"
        " LIMIT ?",
        (*scope_values, limit),
    )
    return [
        ReviewItem(
            image=to_image(row),
            weight=row["weight"],
            reporters=row["reporters"],
            last_report_at=optional_from_db(row["last_at"]),
        )
        for row in rows
    ]


async def is_in_chat(db: Connection, image_id: int, chat_id: int) -> bool:
    """Whether the image was reported in the chat or the bot showed it there."""
    rows = await db.execute_fetchall(
        "SELECT 1 FROM images i WHERE i.id = ?" + _IN_CHAT, (image_id, chat_id, chat_id)
    )
    return bool(rows)


async def reported_only_in(db: Connection, image_id: int, chat_id: int) -> bool:
    """Whether every report of the image's current epoch was made in this chat (and some was)."""
    rows = await db.execute_fetchall(
        "SELECT count(*) AS total,"
        " count(*) FILTER (WHERE r.chat_id IS NOT DISTINCT FROM CAST(? AS BIGINT)) AS here"
        " FROM reports r"
        " JOIN images i ON i.id = r.image_id AND i.report_epoch = r.epoch WHERE i.id = ?",
        (chat_id, image_id),
    )
    return rows[0]["total"] > 0 and rows[0]["total"] == rows[0]["here"]
