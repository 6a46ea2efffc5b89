"""Bulk composition gives every chat exactly the digest the per-chat composition gives, and
so does the slot that serves them all (alike chats composed once, as a group).

Random subscribers (topics, keyword filters, languages, time zones, counts), random histories
(articles already received, the position of the last digest) and two candidate windows (a
tiny one makes chats run past the shared window and read their own) are composed both ways,
on SQLite and on PostgreSQL (each example on a fresh database).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import BotConfig, Config, DigestConfig, StorageConfig
from bot.services import open_services
from bot.subscriptions import composition, digests
from bot.subscriptions.composition import BulkComposer, DigestRequest
from storage import chats, deliveries, subscriptions
from tests.support.clock import FakeClock
from tests.support.digest_world import draft, outbox_rows, store

NOW = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
WORDS = ("ملك", "رياضة", "اقتصاد", "طقس")
TOPICS = ("maroc", "sport", "eco")
ARTICLES = 40

subscriber = st.fixed_dictionaries(
    {
        "topics": st.lists(st.sampled_from(TOPICS), unique=True, max_size=2),
        "schedule_topics": st.lists(st.sampled_from(TOPICS), unique=True, max_size=1),
        "include": st.lists(st.sampled_from(WORDS), unique=True, max_size=1),
        "exclude": st.lists(st.sampled_from(WORDS), unique=True, max_size=1),
        "received": st.sets(st.integers(1, ARTICLES), max_size=12),
        "after": st.one_of(st.none(), st.sampled_from([5, 20, 35])),
        "language": st.sampled_from(["ar", "fr", "en"]),
        "timezone": st.sampled_from([None, "Europe/Paris"]),
        "count": st.integers(1, 12),
    }
)
# Repeats of a few kinds of subscriber: the chats that share one composition.
populations = st.lists(subscriber, min_size=1, max_size=5).flatmap(
    lambda kinds: st.lists(st.sampled_from(kinds), min_size=1, max_size=14)
)


def article_drafts():
    return [
        draft(
            f"{WORDS[n % len(WORDS)]} خبر رقم {n}",
            source=("hespress", "le360", "alyaoum24")[n % 3],
            topics=(TOPICS[n % 3],) if n % 4 else (TOPICS[n % 3], TOPICS[(n + 1) % 3]),
            minutes=n * 7 % 90,
        )
        for n in range(ARTICLES)
    ]


async def _subscriber(services, chat_id: int, spec: dict) -> DigestRequest:
    db = services.db
    await services.languages.texts_for(
        chat_id, chat_type="private", title=None, telegram_code=spec["language"]
    )
    await services.subscriptions.subscribe(chat_id, spec["topics"], language=spec["language"])
    words = [f"+{w}" for w in spec["include"]] + [f"-{w}" for w in spec["exclude"]]
    if words:
        await services.subscriptions.update_filters(chat_id, words)
    if spec["timezone"]:
        await services.subscriptions.set_timezone(chat_id, spec["timezone"])
    await deliveries.record(db, chat_id=chat_id, article_ids=spec["received"], kind="x", at=NOW)
    await db.execute(
        "UPDATE schedules SET last_article_id = ?, item_count = ?, topics = ? WHERE chat_id = ?",
        (spec["after"], spec["count"], json.dumps(spec["schedule_topics"]), chat_id),
    )
    await db.commit()
    [schedule] = await services.schedules.of_chat(chat_id)
    chat = await chats.get(db, chat_id)
    return DigestRequest(chat, schedule, await subscriptions.get(db, chat_id))


Fresh = Callable[[], AbstractAsyncContextManager[str]]


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest) -> Fresh:
    """Makes an empty database for one example: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":

        @asynccontextmanager
        async def sqlite_file() -> AsyncIterator[str]:
            with tempfile.TemporaryDirectory() as folder:
                yield str(Path(folder) / "akhbar.sqlite3")

        return sqlite_file
    server = request.getfixturevalue("postgres")
    if isinstance(server, str):
        pytest.skip(server)

    @asynccontextmanager
    async def postgres_database() -> AsyncIterator[str]:
        name = await server.create_database()
        try:
            yield server.database_url(name)
        finally:
            await server.drop_database(name)

    return postgres_database


async def _compare(population: list[dict], window: int, empty: str, fresh: Fresh) -> None:
    async with fresh() as location:
        config = Config(
            storage=StorageConfig(path=location),
            bot=BotConfig(load_sample_news=False),
            digests=DigestConfig(max_per_source=2, empty=empty),
        )
        services = await open_services(config, clock=FakeClock(NOW))
        try:
            await services.digests.remember_bot_username("akhbar_bot")
            await store(services, *article_drafts())
            requests = [
                await _subscriber(services, 1000 + n, spec) for n, spec in enumerate(population)
            ]
            composer = BulkComposer(
                services.db,
                catalogs=services.catalogs,
                settings=config.digests,
                default_tz=config.bot.tz,
            )
            with (
                mock.patch.object(composition, "CANDIDATE_WINDOW", window),
                mock.patch.object(digests, "CANDIDATE_WINDOW", window),
            ):
                bulk = await composer.compose(requests, now=NOW, bot_username="akhbar_bot")
                alone = [
                    await services.digests.preview(r.chat.chat_id, r.schedule) for r in requests
                ]
                assert bulk == alone
                await _every_schedule_due_now(services, requests)
                while (await services.digests.run_due(NOW))[0]:
                    pass
            queued = {row.chat_id: row.parts for row in await outbox_rows(services)}
            assert queued == {d.chat_id: d.parts for d in alone if d is not None}
        finally:
            await services.close()


async def _every_schedule_due_now(services, requests: list[DigestRequest]) -> None:
    """Move each chat's schedule to NOW in its own time zone, as /digest HH:MM would."""
    for request in requests:
        local = NOW.astimezone(services.digests.zone(request.chat)).strftime("%H:%M")
        await services.db.execute(
            "UPDATE schedules SET times = ?, next_fire_at = ?, last_slot = ? WHERE chat_id = ?",
            (local, NOW.timestamp(), NOW.timestamp() - 86400, request.chat.chat_id),
        )
    await services.db.commit()


# The fixture only hands out a factory: every example gets a database of its own.
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    population=populations,
    window=st.sampled_from([4, 500]),
    empty=st.sampled_from(["skip", "note"]),
)
def test_bulk_composition_equals_the_per_chat_composition(
    fresh_database, population, window, empty
):
    asyncio.run(_compare(population, window, empty, fresh_database))
