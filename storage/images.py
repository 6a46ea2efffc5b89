"""Images known to moderation: their keys, hashes, article links and visible/hidden state."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from bot.models import ImageRecord, ImageStatus
from storage.connection import Connection, Row, is_postgres
from storage.timestamps import optional_from_db, to_db

# (kind, value): kind is 'telegram' (a file_unique_id), 'url' or 'sha256'.
ImageKey = tuple[str, str]

_NAMES = (
    "id",
    "status",
    "report_epoch",
    "phash",
    "source_url",
    "preview_file_id",
    "copy_of",
    "hidden_at",
    "restored_at",
    "cooldown_until",
)
COLUMNS = ", ".join(_NAMES)


_SIGN_BIT = 1 << 63
_WORD = 1 << 64


def to_signed64(value: int) -> int:
    """An unsigned 64-bit hash as SQLite's signed INTEGER."""
    return value - _WORD if value & _SIGN_BIT else value


def from_signed64(value: int) -> int:
    """A stored signed INTEGER back to the unsigned 64-bit hash."""
    return value % _WORD


def _json_elements(db: Connection) -> str:
    """A FROM item with one row per element of a JSON array parameter, in column `value`."""
    # The one spot where the engines share no spelling: SQLite's json_each, PostgreSQL's jsonb.
    if is_postgres(db):
        return "jsonb_array_elements(CAST(? AS jsonb)) AS elements (value)"
    return "json_each(?) AS elements"


def columns(alias: str) -> str:
    """The columns `to_image` reads, qualified by a table alias, for queries joining images."""
    return ", ".join(f"{alias}.{name}" for name in _NAMES)


def to_image(row: Row) -> ImageRecord:
    """Build an ImageRecord from a row holding the columns of `COLUMNS`."""
    phash = row["phash"]
    return ImageRecord(
        id=row["id"],
        status=ImageStatus(row["status"]),
        report_epoch=row["report_epoch"],
        phash=None if phash is None else from_signed64(phash),
        source_url=row["source_url"],
        preview_file_id=row["preview_file_id"],
        copy_of=row["copy_of"],
        hidden_at=optional_from_db(row["hidden_at"]),
        restored_at=optional_from_db(row["restored_at"]),
        cooldown_until=optional_from_db(row["cooldown_until"]),
    )


async def get(db: Connection, image_id: int) -> ImageRecord | None:
    """The image with this id, or None."""
    rows = await db.execute_fetchall(f"SELECT {COLUMNS} FROM images WHERE id = ?", (image_id,))
    return to_image(rows[0]) if rows else None


async def by_keys(db: Connection, *, keys: Sequence[ImageKey]) -> list[ImageRecord]:
    """Images owning any of these (kind, value) keys, hidden ones first, then oldest first."""
    rows = await db.execute_fetchall(
        f"SELECT {COLUMNS} FROM images WHERE id IN (SELECT image_id FROM image_keys"
        " WHERE (kind, value) IN (SELECT elements.value ->> 0, elements.value ->> 1"
        f" FROM {_json_elements(db)}))"
        " ORDER BY status = 'hidden' DESC, id",
        (json.dumps([list(key) for key in keys]),),
    )
    return [to_image(row) for row in rows]


async def create(
    db: Connection,
    *,
    phash: int | None,
    sha256: str | None,
    source_url: str | None,
    preview_file_id: str | None,
    at: datetime,
) -> int:
    """Store a new visible image; return its id."""
    rows = await db.execute_fetchall(
        "INSERT INTO images (phash, sha256, source_url, preview_file_id, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (
            None if phash is None else to_signed64(phash),
            sha256,
            source_url,
            preview_file_id,
            to_db(at),
        ),
    )
    return rows[0][0]


async def add_keys(db: Connection, image_id: int, *, keys: Iterable[ImageKey]) -> None:
    """Map keys to the image; keys already mapped (to it or another image) stay as they are."""
    await db.executemany(
        "INSERT INTO image_keys (kind, value, image_id) VALUES (?, ?, ?)"
        " ON CONFLICT (kind, value) DO NOTHING",
        [(kind, value, image_id) for kind, value in keys],
    )


async def fill_in(
    db: Connection,
    image_id: int,
    *,
    phash: int | None,
    sha256: str | None = None,
    preview_file_id: str | None = None,
) -> None:
    """Record what was not known of the image yet; known values stay."""
    await db.execute(
        "UPDATE images SET phash = coalesce(phash, ?), sha256 = coalesce(sha256, ?),"
        " preview_file_id = coalesce(?, preview_file_id) WHERE id = ?",
        (None if phash is None else to_signed64(phash), sha256, preview_file_id, image_id),
    )


async def hidden_hashes(db: Connection) -> list[tuple[int, int]]:
    """(id, perceptual hash) of every hidden image that has one.

    A full read of the hidden set, compared in Python by the caller: hidden images are few
    (each took several reports), neither engine indexes Hamming distance, and one `hamming`
    gives SQLite and PostgreSQL the same matches. The hashes are stored signed (BIGINT).
    """
    rows = await db.execute_fetchall(
        "SELECT id, phash FROM images WHERE status = 'hidden' AND phash IS NOT NULL"
    )
    return [(row[0], from_signed64(row[1])) for row in rows]


async def hide_as_copy(db: Connection, image_id: int, *, copy_of: int, at: datetime) -> bool:
    """Hide a visible image because it matches a hidden one; False if it was not visible."""
    cursor = await db.execute(
        "UPDATE images SET status = 'hidden', hidden_at = ?, copy_of = ?"
        " WHERE id = ? AND status = 'visible'",
        (to_db(at), copy_of, image_id),
    )
    return cursor.rowcount == 1


async def hide_if_reported(
    db: Connection, image_id: int, *, epoch: int, threshold: int, at: datetime
) -> bool:
    """Hide the image if its current-epoch weight reached `threshold` outside any cool-down.

    One statement, so the check and the change cannot be split by another writer: of any
    number of concurrent callers, exactly one sees True.
    """
    cursor = await db.execute(
        "UPDATE images SET status = 'hidden', hidden_at = ?, copy_of = NULL"
        " WHERE id = ? AND status = 'visible' AND report_epoch = ?"
        " AND (cooldown_until IS NULL OR cooldown_until <= ?)"
        " AND (SELECT coalesce(sum(r.weight), 0) FROM reports r WHERE r.image_id = images.id"
        "  AND r.epoch = images.report_epoch"
        "  AND r.reporter_id NOT IN (SELECT user_id FROM ignored_reporters)) >= ?",
        (to_db(at), image_id, epoch, to_db(at), threshold),
    )
    return cursor.rowcount == 1


async def restore(db: Connection, image_id: int, *, at: datetime, cooldown_until: datetime) -> bool:
    """Make a hidden image visible in a new report epoch; False if it was not hidden."""
    cursor = await db.execute(
        "UPDATE images SET status = 'visible', report_epoch = report_epoch + 1, copy_of = NULL,"
        " restored_at = ?, cooldown_until = ? WHERE id = ? AND status = 'hidden'",
        (to_db(at), to_db(cooldown_until), image_id),
    )
    return cursor.rowcount == 1


async def hidden_copies(db: Connection, image_id: int) -> list[int]:
    """Ids of images hidden because they matched this one."""
    rows = await db.execute_fetchall(
        "SELECT id FROM images WHERE copy_of = ? AND status = 'hidden' ORDER BY id", (image_id,)
    )
    return [row[0] for row in rows]


async def link_article(db: Connection, *, article_id: int, image_id: int) -> None:
    """Record that the article shows this image (replacing an earlier one)."""
    await db.execute(
        "INSERT INTO article_images (article_id, image_id) VALUES (?, ?)"
        " ON CONFLICT (article_id) DO UPDATE SET image_id = excluded.image_id",
        (article_id, image_id),
    )


async def of_article(db: Connection, article_id: int, *, url: str) -> ImageRecord | None:
    """The image linked to the article, if it is still the one at this URL."""
    rows = await db.execute_fetchall(
        f"SELECT {columns('i')} FROM article_images a JOIN images i ON i.id = a.image_id"
        " JOIN image_keys k ON k.image_id = i.id AND k.kind = 'url' AND k.value = ?"
        " WHERE a.article_id = ?",
        (url, article_id),
    )
    return to_image(rows[0]) if rows else None


async def hidden_articles(db: Connection, *, article_ids: Iterable[int]) -> set[int]:
    """Those of the articles whose image is hidden."""
    rows = await db.execute_fetchall(
        "SELECT a.article_id FROM article_images a JOIN images i ON i.id = a.image_id"
        " WHERE i.status = 'hidden' AND a.article_id IN"
        f" (SELECT CAST(elements.value AS BIGINT) FROM {_json_elements(db)})",
        (json.dumps(list(article_ids)),),
    )
    return {row[0] for row in rows}
