"""Shared fixtures: the fake clock, the Bot API emulator, a test database, the real bot polling
the emulator, loopback feeds, and the outbox with the workers that drain it.

Each fixture is defined here once. A module that needs the emulator set up differently says so
with `pytestmark = pytest.mark.emulator(auto_create_chats=True, fake_clock=True)`
(`fake_clock` puts the emulator's time on the `clock` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import build_application, polling
from bot.clock import utc_now
from bot.config import (
    BotConfig,
    Config,
    DeliveryConfig,
    IngestionConfig,
    StorageConfig,
    TelegramConfig,
)
from bot.delivery.outbox import Outbox
from bot.ptb.delivery import DeliveryHandle
from bot.reading import search_text
from emulator import BotApiEmulator
from storage import database
from storage.connection import Connection
from tests.support import NOW, TOKEN
from tests.support.clock import FakeClock
from tests.support.delivery import FAST, RecordedEvents, worker_starter
from tests.support.feeds import FeedServer
from tests.support.postgres import PostgresServer, postgres_server

LOOPBACK = ("127.0.0.0/8",)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "emulator(**options): BotApiEmulator options, plus fake_clock=True"
    )
    config.addinivalue_line(
        "markers", "sqlite_only: checks what only the SQLite backend has; not run on PostgreSQL"
    )


@pytest.fixture
def clock() -> FakeClock:
    """The time services see: NOW until the test moves it."""
    return FakeClock(NOW)


@pytest.fixture
async def emulator(request: pytest.FixtureRequest, clock) -> AsyncIterator[BotApiEmulator]:
    marker = request.node.get_closest_marker("emulator")
    options = dict(marker.kwargs) if marker else {}
    if options.pop("fake_clock", False):
        options["clock"] = clock.timestamp
    async with BotApiEmulator(TOKEN, **options) as emu:
        yield emu


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | str]:
    """The PostgreSQL server of the run, or why there is none."""
    yield from postgres_server()


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_path(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Path | str]:
    """Where the test's database lives: a SQLite file, or a fresh PostgreSQL database's URL.

    Every test that uses a database runs on both backends; one marked `sqlite_only` (it
    checks something only the SQLite file has) runs on SQLite alone."""
    if request.param == "sqlite":
        yield tmp_path / "akhbar.sqlite3"
        return
    server = request.getfixturevalue("postgres")
    if isinstance(server, str):
        pytest.skip(server)
    name = await server.create_database()
    yield server.database_url(name)
    await server.drop_database(name)


@pytest.fixture
async def postgres_db_url(postgres) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database's URL; the test is skipped without PostgreSQL."""
    if isinstance(postgres, str):
        pytest.skip(postgres)
    name = await postgres.create_database()
    yield postgres.database_url(name)
    await postgres.drop_database(name)


@pytest.fixture
async def two_processes(postgres_db_url) -> AsyncIterator[tuple[Connection, Connection]]:
    """Two pools on one fresh PostgreSQL database, as two bot processes would open it."""
    first = await database.connect(postgres_db_url, index_terms=search_text.index_text)
    second = await database.connect(postgres_db_url, index_terms=search_text.index_text)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kept = [item for item in items if not _sqlite_only_on_postgres(item)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def _sqlite_only_on_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("db_path") if callspec else None
    return backend == "postgresql" and item.get_closest_marker("sqlite_only") is not None


@pytest.fixture
async def db(db_path):
    """A migrated database file, opened as the bot opens it."""
    connection = await database.connect(db_path, index_terms=search_text.index_text)
    yield connection
    await connection.close()


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def bot_config(db_path, emulator) -> Config:
    return Config(
        telegram=TelegramConfig(
            token=TOKEN, api_base_url=emulator.base_url, poll_timeout_seconds=1
        ),
        storage=StorageConfig(path=str(db_path)),
        bot=BotConfig(page_size=8),
        # Telegram's per-chat gaps (1 s, 3 s per group) would make every second digest to a
        # chat wait in real time; pacing has its own tests in test_outbox_e2e.
        delivery=DeliveryConfig(per_chat_interval_seconds=0.01, per_group_per_minute=600),
        # Feeds are served from 127.0.0.1, which the bot refuses unless allowed.
        ingestion=IngestionConfig(allowed_networks=LOOPBACK),
    )


@pytest.fixture
async def akhbar(bot_config):
    """The real bot, long polling the emulator over HTTP, with the sample news loaded."""
    app = build_application(bot_config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=bot_config.telegram.poll_timeout_seconds):
        yield app


def pytest_terminal_summary(terminalreporter) -> None:
    """Say in one line each when the browser or PostgreSQL tests were skipped, and why."""
    for phrase in ("browser tests skipped", "PostgreSQL tests skipped"):
        for report in terminalreporter.stats.get("skipped", []):
            if phrase in str(report.longrepr):
                longrepr = report.longrepr
                reason = longrepr[2] if isinstance(longrepr, tuple) else longrepr
                terminalreporter.write_line(str(reason).removeprefix("Skipped: "), yellow=True)
                break


# The outbox and its workers


@pytest.fixture
def outbox(db) -> Outbox:
    return Outbox(db, clock=utc_now, settings=FAST)


@pytest.fixture
def events() -> RecordedEvents:
    return RecordedEvents()


@pytest.fixture
async def start_worker(emulator, db_path, events):
    async with worker_starter(emulator, db_path, events, FAST) as start:
        yield start


@pytest.fixture
async def worker(start_worker) -> DeliveryHandle:
    return await start_worker()
