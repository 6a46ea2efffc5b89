"""Articles: insertion with de-duplication and indexing, lookup and newest-first listing
(searching them is storage.article_search)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.models import Article, ArticleDraft
from storage.connection import Connection, Row, is_postgres
from storage.timestamps import from_db, optional_from_db, optional_to_db, to_db

_COLUMNS = "id, source, title, body, url, published_at, fetched_at, language, topics, image_url"
A_COLUMNS = ", ".join(f"a.{c.strip()}" for c in _COLUMNS.split(","))


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A draft ready to store, with the keys that de-duplicate it."""

    draft: ArticleDraft
    fingerprint: str
    fetched_at: datetime


def _params(item: NewArticle) -> tuple:
    d = item.draft
    fetched = to_db(item.fetched_at)
    published = optional_to_db(d.published_at)
    return (
        d.source, d.title, d.body, d.url, d.guid, item.fingerprint, published, fetched,
        published if published is not None else fetched,
        d.language, json.dumps(list(d.topics), ensure_ascii=False), d.image_url,
    )  # fmt: skip


def _pg_search(title: str, body: str) -> str:
    """The SQL making the search column from the terms of the title (weight A) and body (B)."""
    return (
        f"setweight(to_tsvector('simple', {title}), 'A')"
        f" || setweight(to_tsvector('simple', {body}), 'B')"
    )


async def insert_many(db: Connection, items: Sequence[NewArticle]) -> int:
    """Store the items not already known by url, guid or fingerprint; return how many were new."""
    if not items:
        return 0
    if is_postgres(db):
        return await _insert_many_indexed(db, items)
    # Rows are never deleted and ids are rowids, so the new rows are exactly those above the
    # current largest id; they are indexed by one statement (see 001_init.sql for why).
    rows = await db.execute_fetchall("SELECT coalesce(max(id), 0) FROM articles")
    cursor = await db.executemany(
        "INSERT OR IGNORE INTO articles (source, title, body, url, guid, fingerprint,"
        " published_at, fetched_at, sort_at, language, topics, image_url)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [_params(item) for item in items],
    )
    new = max(cursor.rowcount, 0)
    if new:
        await db.execute(
            "INSERT INTO articles_fts (rowid, title, body)"
            " SELECT id, akhbar_terms(title), akhbar_terms(body) FROM articles WHERE id > ?",
            (rows[0][0],),
        )
    return new


# One statement per batch: the rows travel as one array per column, in order (so ids follow
# the order given, as on SQLite), and each carries its search terms made in Python.
_PG_INSERT = (
    "INSERT INTO articles (source, title, body, url, guid, fingerprint, published_at,"
    " fetched_at, sort_at, language, topics, image_url, search)"
    " SELECT source, title, body, url, guid, fingerprint, published_at, fetched_at, sort_at,"
    f" language, topics, image_url, {_pg_search('title_terms', 'body_terms')}"
    " FROM unnest(CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]),"
    " CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS DOUBLE PRECISION[]),"
    " CAST(? AS DOUBLE PRECISION[]), CAST(? AS DOUBLE PRECISION[]), CAST(? AS TEXT[]),"
    " CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]))"
    " WITH ORDINALITY AS item (source, title, body, url, guid, fingerprint, published_at,"
    " fetched_at, sort_at, language, topics, image_url, title_terms, body_terms, ordinal)"
    " ORDER BY ordinal ON CONFLICT DO NOTHING RETURNING id"
)


async def _insert_many_indexed(db: Connection, items: Sequence[NewArticle]) -> int:
    """PostgreSQL: each row carries its own search terms, made by the same Python function."""
    terms = db.index_terms
    rows = [(*_params(i), terms(i.draft.title), terms(i.draft.body)) for i in items]
    columns = [list(column) for column in zip(*rows, strict=True)]
    return len(await db.execute_fetchall(_PG_INSERT, columns))


async def clear_index(db: Connection) -> None:
    """Empty the full-text index (it is contentless: its rows go only all at once)."""
    if is_postgres(db):
        await db.execute("UPDATE articles SET search = NULL WHERE search IS NOT NULL")
        return
    await db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")


async def index_batch(db: Connection, *, after_id: int, limit: int) -> tuple[int, int]:
    """Index the next `limit` articles by id after `after_id`; return how many and the last id."""
    rows = await db.execute_fetchall(
        "SELECT max(id), count(*) FROM"
        " (SELECT id FROM articles WHERE id > ? ORDER BY id LIMIT ?) AS batch",
        (after_id, limit),
    )
    last, found = rows[0][0], rows[0][1]
    if found and is_postgres(db):
        await _index_rows(db, after_id, last)
    elif found:
        await db.execute(
            "INSERT INTO articles_fts (rowid, title, body)"
            " SELECT id, akhbar_terms(title), akhbar_terms(body) FROM articles"
            " WHERE id > ? AND id <= ?",
            (after_id, last),
        )
    return found, last if found else after_id


async def _index_rows(db: Connection, after_id: int, last_id: int) -> None:
    rows = await db.execute_fetchall(
        "SELECT id, title, body FROM articles WHERE id > ? AND id <= ?", (after_id, last_id)
    )
    terms = db.index_terms
    await db.execute(
        f"UPDATE articles SET search = {_pg_search('item.title', 'item.body')}"
        " FROM unnest(CAST(? AS BIGINT[]), CAST(? AS TEXT[]), CAST(? AS TEXT[]))"
        " AS item (id, title, body) WHERE articles.id = item.id",
        (
            [r["id"] for r in rows],
            [terms(r["title"]) for r in rows],
            [terms(r["body"]) for r in rows],
        ),
    )


def to_article(row: Row) -> Article:
    """An Article from a row selected with ARTICLE_COLUMNS."""
    return Article(
        id=row["id"],
        source=row["source"],
        title=row["title"],
        body=row["body"],
        url=row["url"],
        published_at=optional_from_db(row["published_at"]),
        fetched_at=from_db(row["fetched_at"]),
        language=row["language"],
        topics=tuple(json.loads(row["topics"])),
        image_url=row["image_url"],
    )


async def get(db: Connection, article_id: int) -> Article | None:
    """The article with this id, or None."""
    rows = await db.execute_fetchall(f"SELECT {_COLUMNS} FROM articles WHERE id = ?", (article_id,))
    return to_article(rows[0]) if rows else None


async def newest(
    db: Connection, *, limit: int, offset: int = 0, topic: str | None = None
) -> list[Article]:
    """Articles newest first, optionally only those of one topic."""
    if topic is None:
        rows = await db.execute_fetchall(
            f"SELECT {_COLUMNS} FROM articles ORDER BY sort_at DESC, id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
    else:
        rows = await db.execute_fetchall(
            f"SELECT {A_COLUMNS} FROM article_topics t JOIN articles a ON a.id = t.article_id"
            " WHERE t.topic = ? ORDER BY t.sort_at DESC, t.article_id DESC LIMIT ? OFFSET ?",
            (topic, limit, offset),
        )
    return [to_article(row) for row in rows]


async def count(db: Connection, *, topic: str | None = None) -> int:
    """How many articles are stored, optionally only for one topic (kept by a trigger)."""
    if topic is None:
        rows = await db.execute_fetchall("SELECT articles FROM article_total")
    else:
        rows = await db.execute_fetchall(
            "SELECT articles FROM topic_counts WHERE topic = ?", (topic,)
        )
    return rows[0][0] if rows else 0


async def topics(db: Connection, *, limit: int = 50) -> list[tuple[str, int]]:
    """Known topics with their article counts, most used first."""
    rows = await db.execute_fetchall(
        "SELECT topic, articles FROM topic_counts ORDER BY articles DESC, topic LIMIT ?",
        (limit,),
    )
    return [(row[0], row[1]) for row in rows]
