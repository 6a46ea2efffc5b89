"""Shared fixtures: the Bot API emulator, the real bot polling it, and loopback feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.app import build_application, polling
from bot.config import BotConfig, Config, StorageConfig, TelegramConfig
from emulator import BotApiEmulator
from tests.support.feeds import FeedServer

TOKEN = "123456:TEST-secret-token"
NOW = datetime(2025, 2, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(TOKEN) as emu:
        yield emu


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    server = FeedServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def bot_config(tmp_path, emulator) -> Config:
    return Config(
        telegram=TelegramConfig(
            token=TOKEN, api_base_url=emulator.base_url, poll_timeout_seconds=1
        ),
        storage=StorageConfig(path=str(tmp_path / "akhbar.sqlite3")),
        bot=BotConfig(page_size=8),
    )


@pytest.fixture
async def akhbar(bot_config):
    """The real bot, long polling the emulator over HTTP, with the sample news loaded."""
    app = build_application(bot_config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=bot_config.telegram.poll_timeout_seconds):
        yield app


def pytest_terminal_summary(terminalreporter) -> None:
    """Say in one line when the browser tests were skipped, and why."""
    for report in terminalreporter.stats.get("skipped", []):
        if "browser tests skipped" in str(report.longrepr):
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
            terminalreporter.write_line(str(reason).removeprefix("Skipped: "), yellow=True)
            return
