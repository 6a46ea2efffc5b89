"""The outbox in tests: quick settings, queueing and draining, workers on a test database, and
ChatEvents that remember what they heard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.clock import Clock, utc_now
from bot.delivery.outbox import Outbox, OutboxSettings
from bot.delivery.outcomes import SendObserver
from bot.models import OutgoingMessage
from bot.ptb.delivery import DeliveryHandle, open_delivery
from emulator import BotApiEmulator
from tests.support import TOKEN

# Telegram's limits scaled down so a test waits milliseconds, not seconds. A test of pacing
# itself asks for the gap it measures (see PACED); retries and give-ups are table-tested in
# test_outbox_transitions, so their end-to-end tests only need them quick.
FAST = OutboxSettings(
    overall_per_second=1000,
    per_chat_interval_seconds=0.01,
    per_group_per_minute=6000,
    concurrency=8,
    max_attempts=3,
    backoff_base_seconds=0.01,
    backoff_cap_seconds=0.05,
    claim_batch=50,
    lease_seconds=30,
    flush_interval_seconds=0.005,
    idle_poll_seconds=0.2,
)

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

    async def start(
        settings: OutboxSettings = settings,
        worker_id: str | None = None,
        clock: Clock = utc_now,
        observer: SendObserver | None = None,
    ):
        handle = await open_delivery(
            token=TOKEN,
            base_url=emulator.base_url,
            db_path=db_path,
            events=events,
            settings=settings,
            clock=clock,
            worker_id=worker_id,
            observer=observer,
        )
        handles.append(handle)
        return handle

    try:
        yield start
    finally:
        for handle in handles:
            if handle.worker.is_running:
                await handle.stop()


def digest(chat_id: int, *parts: str, key: str | None = None, **fields) -> OutgoingMessage:
    """A message of `parts` (one short part by default) keyed as the chat's digest."""
    return OutgoingMessage(
        key=key or f"digest:{chat_id}", chat_id=chat_id, parts=parts or ("خبر",), **fields
    )


async def queue(outbox: Outbox, db, *messages: OutgoingMessage) -> int:
    """Enqueue and commit; return how many rows were new."""
    added = await outbox.enqueue(messages)
    await db.commit()
    return added


async def deliver(outbox: Outbox, db, worker: DeliveryHandle, *messages: OutgoingMessage) -> None:
    """Queue messages and wait until the worker has nothing left to do."""
    await queue(outbox, db, *messages)
    worker.wake()
    await worker.drain(timeout=5)


# Many sends on a busy 2-core machine (PostgreSQL beside the test) can take several seconds;
# the wait ends as soon as they are in, so only a failing test waits this long.
SENDS_TIMEOUT = 30.0


async def sent_at_least(emulator: BotApiEmulator, count: int) -> None:
    """Wait until the emulator has accepted `count` messages in all (checked on every call)."""
    await emulator.wait_for(lambda _call: emulator.sent_count() >= count, timeout=SENDS_TIMEOUT)


def texts(emulator: BotApiEmulator, chat_id: int) -> list[str]:
    return [message.text for message in emulator.sent(chat_id)]


def statuses(emulator: BotApiEmulator, method: str, chat_id: int) -> list[int]:
    """HTTP statuses of the emulator's answers to `method` calls for one chat, in order."""
    return [
        call.status
        for call in emulator.requests
        if call.method == method and str(call.params.get("chat_id")) == str(chat_id)
    ]
