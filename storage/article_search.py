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
        rows, total = await _search_postgres(db, query, limit=limit, offset=offset, window=window)
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


async def _count_matches(db: Connection, query: TermQuery, window: int) -> int:
    rows = await db.execute_fetchall(
        "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT ?)",
        (fts5(query), window),
    )
    return rows[0][0]


# Costs per row in heap page visits, the unit of reading one match found through the GIN index
# (measured on bench.postgres's articles): the newest-first scan detoasts each row's tsvector
# to test it; the GIN index adds each of the word's matches to a bitmap before any is read.
_SCAN_ROW_COST = 3
_BITMAP_ENTRY_COST = 0.12
# How many times `window` matches the first slice of newest ids should hold by the statistics:
# a word may be rarer among the newest articles than among all of them.
_SLICE_MARGIN = 2


@dataclass(frozen=True, slots=True)
class _Statistics:
    """The articles' ids and, once analysed, their estimated count and the query's share."""

    oldest: int
    newest: int
    rows: float
    share: float | None


# The articles' ids and each query term's share of them, from the planner's statistics on the
# tsvector column (the lexemes frequent enough to be listed; any other is rarer than all of
# them: PostgreSQL puts it at half the least listed share, and so do we).
_STATISTICS = (
    "SELECT (SELECT min(id) FROM articles), (SELECT max(id) FROM articles), c.reltuples,"
    " s.attname IS NOT NULL,"
    " s.most_common_elem_freqs[array_length(s.most_common_elem_freqs, 1) - 2] / 2,"
    " f.lexeme, f.share FROM pg_class c"
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
# …through the GIN index and sorted, every match or those from a lowest id on (PostgreSQL
# then ANDs the GIN bitmap with one of the primary key's, and reads only that slice's rows):
# `id + 0` keeps the planner off the newest-first scan, and a tsquery and bound out of
# subqueries hide the word and the slice, so no estimate of either steers the plan back to
# reading every row; only the window's rows have their title tested.
_THROUGH_INDEX = (
    "ids AS MATERIALIZED (SELECT id FROM articles"
    " WHERE search @@ (SELECT to_tsquery('simple', ?)){slice} ORDER BY id + 0 DESC LIMIT ?),"
    " hits AS MATERIALIZED (SELECT a.id, a.sort_at, a.search @@ to_tsquery('simple', ?)"
    " AS in_title FROM ids JOIN articles a ON a.id = ids.id)"
)
_SLICE = " AND id >= (SELECT CAST(? AS BIGINT))"
# The count comes on a row of its own when the page is empty.
_PAGE = (
    " page AS (SELECT id, in_title, sort_at FROM hits"
    " ORDER BY in_title DESC, sort_at DESC, id DESC LIMIT ? OFFSET ?)"
    f" SELECT {A_COLUMNS}, n.total FROM (SELECT count(*) AS total FROM hits) AS n"
    " LEFT JOIN (page p JOIN articles a ON a.id = p.id) ON true"
    " ORDER BY p.in_title DESC, p.sort_at DESC, p.id DESC"
)


async def _search_postgres(db: Connection, query: TermQuery, *, limit, offset, window):
    # Newest first, the planner filters newest rows until the window is full: cheap for a
    # common word, but a rarer one reads many rows per match. Its matches are then cheaper
    # read through the GIN index, from the slice of newest ids that should hold the window.
    statistics = await _statistics(db, query)
    share = statistics.share
    if share is None or _scanning_is_cheaper(statistics.rows, share, window):
        return await _newest_first(db, query, limit=limit, offset=offset, window=window)
    span = _SLICE_MARGIN * window / share if share > 0 else None
    return await _through_index(
        db, query, statistics, span=span, limit=limit, offset=offset, window=window
    )


async def _statistics(db: Connection, query: TermQuery) -> _Statistics:
    terms = sorted({term for group in query.groups for term in group})
    rows = await db.execute_fetchall(_STATISTICS, (terms,))
    oldest, newest, table_rows, analyzed, unlisted = rows[0][:5]
    if not analyzed or table_rows <= 0 or newest is None:
        return _Statistics(oldest or 0, newest or 0, 0, None)
    shares = {row[5]: row[6] for row in rows if row[5] is not None}
    group_shares = [
        min(shares.get(term, unlisted or 0.0) for term in group) for group in query.groups
    ]
    return _Statistics(oldest, newest, table_rows, min(sum(group_shares), 1.0))


def _scanning_is_cheaper(rows: float, share: float, window: int) -> bool:
    """Whether scanning newest rows until `window` match costs less than reading the matches
    through the GIN index, from a slice of newest ids holding about twice the window."""
    matches = share * rows
    scanned = rows if matches <= window else window / share
    indexed = _BITMAP_ENTRY_COST * matches + min(matches, _SLICE_MARGIN * window)
    return _SCAN_ROW_COST * scanned <= indexed


async def _newest_first(db: Connection, query: TermQuery, *, limit, offset, window):
    match, in_title = tsquery(query), tsquery(query, title_only=True)
    return await _page(db, _NEWEST_FIRST, (in_title, match, window), limit, offset)


async def _through_index(
    db: Connection, query: TermQuery, statistics: _Statistics, *, span, limit, offset, window
):
    """Read the window's matches through the GIN index from the `span` newest ids (None: all),
    widening the slice while it holds fewer than `window` matches and older ids remain."""
    match, in_title = tsquery(query), tsquery(query, title_only=True)
    while span is not None and statistics.newest - span > statistics.oldest:
        lowest = statistics.newest - int(span)
        hits = _THROUGH_INDEX.format(slice=_SLICE)
        rows, found = await _page(db, hits, (match, lowest, window, in_title), limit, offset)
        if found >= window:  # no older match can be among the window's
            return rows, found
        # As many more ids as the slice's own density says hold the window, twice over.
        span = span * _SLICE_MARGIN * window / max(found, 1)
    hits = _THROUGH_INDEX.format(slice="")
    return await _page(db, hits, (match, window, in_title), limit, offset)


async def _page(db: Connection, hits: str, parameters: tuple, limit: int, offset: int):
    rows = await db.execute_fetchall(f"WITH {hits},{_PAGE}", (*parameters, limit, offset))
    return [row for row in rows if row["id"] is not None], rows[0]["total"]


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
