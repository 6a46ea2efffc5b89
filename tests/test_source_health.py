"""Source health rules (pure) and seeding from config.toml."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import SourceConfig
from bot.errors import (
    FeedNotFound,
    FeedParseError,
    FetchError,
    FetchTimeout,
    PrivateAddress,
    SourceGone,
    SourceHttpError,
)
from bot.ingestion import health
from bot.ingestion.fetching import retry_after_seconds
from bot.services import open_services
from storage.connection import is_postgres
from storage.database import transaction

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("failures", "retry_after", "expected"),
    [
        (1, None, timedelta(minutes=30)),
        (2, None, timedelta(minutes=60)),
        (4, None, timedelta(minutes=240)),
        (10, None, timedelta(hours=6)),  # capped
        (1, 5400.0, timedelta(minutes=90)),  # Retry-After longer than the backoff wins
        (3, 60.0, timedelta(minutes=120)),  # shorter: the backoff wins
        (1, 10**9, timedelta(hours=6)),  # a hostile Retry-After is capped too
    ],
)
def test_backoff_doubles_per_failure_up_to_the_cap_and_honours_retry_after(
    failures, retry_after, expected
):
    due = health.next_poll_after_failure(
        T0, interval=timedelta(minutes=30), failures=failures, retry_after=retry_after,
        max_backoff=6 * HOUR, jitter=0.0, draw=0.5,
    )  # fmt: skip
    assert due - T0 == expected


def test_jitter_only_ever_brings_a_poll_forward():
    interval = timedelta(minutes=30)
    earliest = health.next_poll_after_success(T0, interval=interval, jitter=0.1, draw=0.999)
    latest = health.next_poll_after_success(T0, interval=interval, jitter=0.1, draw=0.0)
    assert latest == T0 + interval and T0 + timedelta(minutes=27) <= earliest < latest


def test_operators_are_alerted_once_per_failing_spell():
    after = 6 * HOUR
    assert not health.should_alert(T0, T0 + 5 * HOUR, after=after, alerted=False)
    assert health.should_alert(T0, T0 + 6 * HOUR, after=after, alerted=False)
    assert not health.should_alert(T0, T0 + 9 * HOUR, after=after, alerted=True)
    assert not health.should_alert(None, T0, after=after, alerted=False)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (FetchTimeout("x"), "timeout"),
        (SourceGone("x"), "gone"),
        (FeedNotFound("x"), "not-found"),
        (PrivateAddress("x"), "private-address"),
        (SourceHttpError("x", status=429), "rate-limited"),
        (SourceHttpError("x", status=502), "server-error"),
        (SourceHttpError("x", status=403), "http-error"),
        (FeedParseError("x"), "not-a-feed"),
        (FetchError("x"), "network"),
    ],
)
def test_every_error_has_a_kind_with_words_in_the_catalogs(error, kind):
    assert health.error_kind(error) == kind
    assert kind in health.ERROR_KINDS


def test_retry_after_reads_seconds_and_http_dates():
    now = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now) == 120
    assert retry_after_seconds("Sun, 01 Mar 2026 09:00:00 GMT", now) == 3600
    assert retry_after_seconds("soon", now) is None


async def test_config_seeds_sources_once_so_a_removed_source_stays_removed(bot_config):
    config = bot_config.model_copy(
        update={"sources": (SourceConfig(name="hespress", url="https://www.hespress.com/feed"),)}
    )
    services = await open_services(config, clock=lambda: T0)
    try:
        [seeded] = await services.sources.all()
        await services.sources.remove("hespress")
    finally:
        await services.close()
    services = await open_services(config, clock=lambda: T0)
    try:
        assert await services.sources.all() == []
    finally:
        await services.close()
    assert seeded.url == "https://www.hespress.com/feed" and seeded.next_poll_at == T0


def test_every_error_kind_has_words_in_every_language():
    from bot.i18n.catalogs import LANGUAGES, Catalogs

    catalogs = Catalogs("ar")
    for language in LANGUAGES:
        t = catalogs.texts(language)
        assert all(t.has(f"source-error-{kind}") for kind in health.ERROR_KINDS), language


async def test_due_sources_are_found_through_the_next_poll_index(bot_config):
    services = await open_services(bot_config, clock=lambda: T0)
    try:
        found_through_index = [
            await uses_index(services.db, sql, "sources_due")
            for sql in (
                "SELECT min(next_poll_at) FROM sources"
                " WHERE paused_reason IS NULL AND url IS NOT NULL",
                "SELECT name FROM sources WHERE paused_reason IS NULL AND url IS NOT NULL"
                " AND next_poll_at <= 0 ORDER BY next_poll_at LIMIT 16",
            )
        ]
    finally:
        await services.close()
    assert found_through_index == [True, True]


async def uses_index(db, sql: str, index: str) -> bool:
    """Whether the engine would run `sql` through `index`. PostgreSQL is told to avoid
    reading the whole table, which it prefers on a table this small, so its plan shows
    whether the index fits the query at all."""
    if not is_postgres(db):
        rows = await db.execute_fetchall("EXPLAIN QUERY PLAN " + sql)
        return f"USING INDEX {index}" in rows[0][3]
    async with transaction(db):
        await db.execute("SET LOCAL enable_seqscan = off")
        rows = await db.execute_fetchall("EXPLAIN " + sql)
    plan = "\n".join(row[0] for row in rows)
    return f"Scan using {index} " in plan or f"Index Scan on {index} " in plan
