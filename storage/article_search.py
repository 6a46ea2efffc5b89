"""Full-text search over articles, the same on both engines.

A query is a set of already normalised and stemmed terms (bot.reading.search_text makes them
with the function that made the indexed terms). It is written as an FTS5 MATCH expression on
SQLite and as a tsquery under the 'simple' configuration on PostgreSQL, whose `search` column
holds the same terms, the title's weighted A. Terms are always quoted, so nothing typed can
act as syntax in either language, and they are passed as parameters, never spliced into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.models import Article
from storage.articles import A_COLUMNS, to_article
from storage.connection import Connection, is_postgres


@dataclass(frozen=True, slots=True)
class TermQuery:
    """Matches the articles that hold every term of at least one group."""

    groups: tuple[tuple[str, ...], ...]

    @classmethod
    def every(cls, terms: tuple[str, ...]) -> TermQuery:
        return cls((terms,))


def fts5(query: TermQuery, *, title_only: bool = False) -> str:
    """The FTS5 MATCH expression (terms as phrases, so FTS5 syntax typed is only words)."""
    groups = [" ".join(f'"{_escaped_fts5(term)}"' for term in group) for group in query.groups]
    expression = groups[0] if len(groups) == 1 else " OR ".join(f"({g})" for g in groups)
    return f"title : ({expression})" if title_only else expression


def tsquery(query: TermQuery, *, title_only: bool = False) -> str:
    """The text of a tsquery for to_tsquery('simple', …): quoted lexemes joined by & within a
    group and | between groups; `title_only` limits every lexeme to weight A (the title)."""
    weight = ":A" if title_only else ""
    groups = [
        " & ".join(f"'{_escaped_tsquery(term)}'{weight}" for term in group)
        for group in query.groups
    ]
    return groups[0] if len(groups) == 1 else " | ".join(f"({g})" for g in groups)


def _escaped_fts5(term: str) -> str:
    return term.replace('"', '""')


def _escaped_tsquery(term: str) -> str:
    return term.replace("\\", "\\\\").replace("'", "''")


async def search(
    db: Connection, query: TermQuery, *, limit: int, offset: int = 0, window: int
) -> tuple[list[Article], int]:
    """Order the `window` newest matches (by id): those whose title holds every term of a
    group first, then newest; return one page and the count of those matches.

    Ordering every match of a very common word would read the whole index, so only the newest
    `window` matches are ordered, which keeps the cost bounded.
    """
    if is_postgres(db):
        rows = await _search_postgres(db, query, limit=limit, offset=offset, window=window)
    else:
        rows = await _search_sqlite(db, query, limit=limit, offset=offset, window=window)
    total = rows[0]["total"] if rows else await _count_matches(db, query, window)
    return [to_article(row) for row in rows], total


async def _search_sqlite(db: Connection, query: TermQuery, *, limit, offset, window):
    # Only the page's rows are read in full; ordering needs just sort_at, which sits before the
    # long columns (see 001_init.sql).
    return await db.execute_fetchall(
        "WITH hits AS MATERIALIZED ("
        " SELECT rowid AS id FROM articles_fts"
        " WHERE articles_fts MATCH ? ORDER BY rowid DESC LIMIT ?),"
        " in_title AS MATERIALIZED (SELECT rowid AS id FROM articles_fts"
        " WHERE articles_fts MATCH ? AND rowid >= (SELECT min(id) FROM hits)),"
        " page AS (SELECT h.id, h.id NOT IN in_title AS score, a.sort_at"
        " FROM hits h JOIN articles a ON a.id = h.id"
        " ORDER BY score, a.sort_at DESC, h.id DESC LIMIT ? OFFSET ?)"
        f" SELECT {A_COLUMNS}, (SELECT count(*) FROM hits) AS total"
        " FROM page p JOIN articles a ON a.id = p.id ORDER BY p.score, p.sort_at DESC, p.id DESC",
        (fts5(query), window, fts5(query, title_only=True), limit, offset),
    )


async def _search_postgres(db: Connection, query: TermQuery, *, limit, offset, window):
    # The GIN index finds the matches; whether the title holds the terms is read from the
    # same tsvector, for the window's rows only.
    return await db.execute_fetchall(
        "WITH hits AS MATERIALIZED ("
        " SELECT id, sort_at, search @@ to_tsquery('simple', ?) AS in_title FROM articles"
        " WHERE search @@ to_tsquery('simple', ?) ORDER BY id DESC LIMIT ?),"
        " page AS (SELECT id, in_title, sort_at FROM hits"
        " ORDER BY in_title DESC, sort_at DESC, id DESC LIMIT ? OFFSET ?)"
        f" SELECT {A_COLUMNS}, (SELECT count(*) FROM hits) AS total FROM page p"
        " JOIN articles a ON a.id = p.id ORDER BY p.in_title DESC, p.sort_at DESC, p.id DESC",
        (tsquery(query, title_only=True), tsquery(query), window, limit, offset),
    )


async def _count_matches(db: Connection, query: TermQuery, window: int) -> int:
    if is_postgres(db):
        sql = (
            "SELECT count(*) FROM (SELECT id FROM articles"
            " WHERE search @@ to_tsquery('simple', ?) LIMIT ?) AS hits"
        )
        match = tsquery(query)
    else:
        sql = (
            "SELECT count(*) FROM"
            " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT ?)"
        )
        match = fts5(query)
    rows = await db.execute_fetchall(sql, (match, window))
    return rows[0][0]


async def closest_titles(
    db: Connection, query: TermQuery, *, limit: int, window: int, exclude: int
) -> list[Article]:
    """Up to `limit` articles among the `window` newest whose titles match `query`, the best
    title score first (sharing more words; on SQLite rarer ones weigh more), then newest."""
    if is_postgres(db):
        # ts_rank over the title's lexemes alone, divided by 1 + log(title length) as bm25
        # prefers the shorter of two titles sharing the same words.
        sql = (
            "WITH hits AS MATERIALIZED ("
            " SELECT id, sort_at, ts_rank(ts_filter(search, '{a}'), q.query, 1) AS score"
            " FROM articles, to_tsquery('simple', ?) AS q(query)"
            " WHERE search @@ q.query AND id <> ? ORDER BY id DESC LIMIT ?)"
            f" SELECT {A_COLUMNS} FROM hits h JOIN articles a ON a.id = h.id"
            " ORDER BY h.score DESC, h.sort_at DESC, h.id DESC LIMIT ?"
        )
        match = tsquery(query, title_only=True)
    else:
        sql = (
            "WITH hits AS MATERIALIZED ("
            " SELECT rowid AS id, bm25(articles_fts, 1.0, 0.0) AS score FROM articles_fts"
            " WHERE articles_fts MATCH ? AND rowid != ? ORDER BY rowid DESC LIMIT ?)"
            f" SELECT {A_COLUMNS} FROM hits h JOIN articles a ON a.id = h.id"
            " ORDER BY h.score, a.sort_at DESC, a.id DESC LIMIT ?"
        )
        match = fts5(query, title_only=True)
    rows = await db.execute_fetchall(sql, (match, exclude, window, limit))
    return [to_article(row) for row in rows]
