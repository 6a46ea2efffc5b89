"""Messages the bot sent with an image, so a hidden image can be replaced wherever it shows."""

from __future__ import annotations

from datetime import datetime

from bot.models import ImageMessage
from storage.connection import Connection, Row
from storage.timestamps import from_db, to_db


def _to_message(row: Row) -> ImageMessage:
    return ImageMessage(
        id=row["id"],
        chat_id=row["chat_id"],
        message_id=row["message_id"],
        image_id=row["image_id"],
        sent_at=from_db(row["sent_at"]),
        caption_html=row["caption_html"],
    )


async def record(
    db: Connection,
    *,
    chat_id: int,
    message_id: int,
    image_id: int,
    caption_html: str | None,
    at: datetime,
) -> None:
    """Remember that this message shows the image (a message edited to a new image moves)."""
    await db.execute(
        "INSERT INTO image_messages (chat_id, message_id, image_id, sent_at, caption_html)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE SET"
        " image_id = excluded.image_id, sent_at = excluded.sent_at,"
        " caption_html = excluded.caption_html",
        (chat_id, message_id, image_id, to_db(at), caption_html),
    )


async def of_image(
    db: Connection, image_id: int, *, after_id: int | None, limit: int
) -> list[ImageMessage]:
    """One batch of the image's messages in id order, those after `after_id`."""
    rows = await db.execute_fetchall(
        "SELECT id, chat_id, message_id, image_id, sent_at, caption_html FROM image_messages"
        " WHERE image_id = ? AND id > ? ORDER BY id LIMIT ?",
        (image_id, after_id or 0, limit),
    )
    return [_to_message(row) for row in rows]
