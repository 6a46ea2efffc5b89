"""Starting delivery workers on a test database, and ChatEvents that remember what they heard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.clock import utc_now
from bot.delivery.outbox import OutboxSettings
from bot.ptb.delivery import DeliveryHandle, open_delivery
from emulator import BotApiEmulator
from tests.conftest import TOKEN

StartWorker = Callable[..., Awaitable[DeliveryHandle]]


class RecordedEvents:
    """ChatEvents that remember what the engine reported."""

    def __init__(self) -> None:
        self.unreachable: list[tuple[int, str]] = []
        self.migrated: list[tuple[int, int]] = []

    async def chat_unreachable(self, chat_id: int, reason: str) -> None:
        self.unreachable.append((chat_id, reason))

    async def chat_migrated(self, old_chat_id: int, new_chat_id: int) -> None:
        self.migrated.append((old_chat_id, new_chat_id))


@asynccontextmanager
async def worker_starter(
    emulator: BotApiEmulator, db_path: Path, events: RecordedEvents, settings: OutboxSettings
) -> AsyncIterator[StartWorker]:
    """A function that starts workers; those still running are stopped on exit (a test may
    abort one, as a crash would)."""
    handles: list[DeliveryHandle] = []

    async def start(settings: OutboxSettings = settings, worker_id: str | None = None):
        handle = await open_delivery(
            token=TOKEN,
            base_url=emulator.base_url,
            db_path=db_path,
            events=events,
            settings=settings,
            clock=utc_now,
            worker_id=worker_id,
        )
        handles.append(handle)
        return handle

    try:
        yield start
    finally:
        for handle in handles:
            if handle.worker.is_running:
                await handle.stop()
