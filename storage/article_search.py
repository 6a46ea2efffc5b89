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


# A row the newest-first scan reads costs about three times what the GIN path pays per match:
# the scan detoasts each row's tsvector to test it (measured on bench.postgres's articles).
_SCAN_ROW_COST = 3

# Each query's share of the articles, from the planner's statistics on the tsvector column
# (the lexemes frequent enough to be listed; any other is rarer than all of them).
_LEXEME_SHARES = (
    "SELECT c.reltuples, s.attname IS NOT NULL, f.lexeme, f.share FROM pg_class c"
    " LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'articles'"
    " AND s.attname = 'search' LEFT JOIN LATERAL (SELECT * FROM"
    " unnest(CAST(CAST(s.most_common_elems AS TEXT) AS TEXT[]), s.most_common_elem_freqs)"
    " AS u(lexeme, share) WHERE u.lexeme = ANY(CAST(? AS TEXT[]))) AS f ON true"
    " WHERE c.oid = to_regclass('articles')"
)

# The window's matches, and whether their title holds the terms, read one of two ways…
_NEWEST_FIRST = (
    "hits AS MATERIALIZED ("
    " SELECT id, sort_at, search @@ to_tsquery('simple', ?) AS in_title FROM articles"
    " WHERE search @@ to_tsquery('simple', ?) ORDER BY id DESC LIMIT ?)"
)
# …through the GIN index and sorted: `id + 0` keeps the planner off the newest-first scan, and
# a tsquery out of a subquery hides the word, so no estimate of its frequency steers the plan
# back to reading every row; only the window's rows have their title tested.
_THROUGH_INDEX = (
    "ids AS MATERIALIZED (SELECT id FROM articles"
    " WHERE search @@ (SELECT to_tsquery('simple', ?)) ORDER BY id + 0 DESC LIMIT ?),"
    " hits AS MATERIALIZED (SELECT a.id, a.sort_at, a.search @@ to_tsquery('simple', ?)"
    " AS in_title FROM ids JOIN articles a ON a.id = ids.id)"
)
_PAGE = (
    " page AS (SELECT id, in_title, sort_at FROM hits"
    " ORDER BY in_title DESC, sort_at DESC, id DESC LIMIT ? OFFSET ?)"
    f" SELECT {A_COLUMNS}, (SELECT count(*) FROM hits) AS total FROM page p"
    " JOIN articles a ON a.id = p.id ORDER BY p.in_title DESC, p.sort_at DESC, p.id DESC"
)


async def _search_postgres(
    db: Connection, query: TermQuery, *, limit, offset, window, through_index: bool | None = None
):
    # Newest first, the planner filters newest rows until the window is full: cheap for a
    # common word, but a rare one reads most of the table. Its matches are then fewer than
    # those rows, and cheaper read through the GIN index and sorted.
    if through_index is None:
        through_index = await _is_rare(db, query, window)
    match, in_title = tsquery(query), tsquery(query, title_only=True)
    if through_index:
        hits, parameters = _THROUGH_INDEX, (match, window, in_title)
    else:
        hits, parameters = _NEWEST_FIRST, (in_title, match, window)
    return await db.execute_fetchall(f"WITH {hits},{_PAGE}", (*parameters, limit, offset))


async def _is_rare(db: Connection, query: TermQuery, window: int) -> bool:
    """Whether reading every match through the GIN index costs less than scanning newest
    rows until `window` match, by the planner's statistics (none yet: scan newest first)."""
    terms = sorted({term for group in query.groups for term in group})
    rows = await db.execute_fetchall(_LEXEME_SHARES, (terms,))
    table_rows, analyzed = rows[0][0], rows[0][1]
    if not analyzed or table_rows <= 0:
        return False
    shares = {row[2]: row[3] for row in rows if row[2] is not None}
    group_shares = [min(shares.get(term, 0.0) for term in group) for group in query.groups]
    share = min(sum(group_shares), 1.0)
    matches = share * table_rows
    scanned = table_rows if matches <= window else window / share
    return matches < _SCAN_ROW_COST * scanned


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
