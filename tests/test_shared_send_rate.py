"""Replies and broadcasts share the bot's one overall rate, in one process and across processes.

Telegram's overall limit (about 30 messages/s) is per bot: the emulator answers 429 past it,
as Telegram would, however the bot's sends are split between handlers, the outbox worker and
several processes.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from telegram import Update

from bot.app import build_application, polling
from bot.models import OutgoingMessage
from bot.ptb.context import AkhbarApp
from emulator import BotApiEmulator
from emulator.faults import FloodLimiter
from tests.support import NOW
from tests.support.ops import eventually

pytestmark = pytest.mark.emulator(auto_create_chats=True)

RATE = 30  # the bot's overall rate ([delivery] overall_per_second), Telegram's free limit
# Arrivals bunch a little on a loaded machine: the emulator allows this much over the rate.
BURST = 2
SUBSCRIBERS = range(50_001, 50_061)  # a broadcast of 60 messages: two seconds alone
READERS = range(60_001, 60_046)  # 45 users send /latest meanwhile


def enforce_telegrams_limits(emulator: BotApiEmulator) -> None:
    emulator.api.flood = FloodLimiter(overall_per_second=RATE + BURST)
    emulator.enforce_flood_limits = True


def sends(emulator: BotApiEmulator) -> list[tuple[float, int]]:
    """Accepted sendMessage calls: arrival time and chat."""
    return [
        (call.at, int(call.params["chat_id"]))
        for call in emulator.requests
        if call.method == "sendMessage" and call.is_ok
    ]


def attempts(emulator: BotApiEmulator, chats: range | None = None) -> list[float]:
    """When sendMessage calls arrived, whatever the answer (to `chats` only, if given)."""
    return [
        call.at
        for call in emulator.requests
        if call.method == "sendMessage" and (chats is None or int(call.params["chat_id"]) in chats)
    ]


def refused(emulator: BotApiEmulator) -> list[str]:
    return [call.method for call in emulator.requests if call.status == 429]


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect_right(times, t + 1.0) - i for i, t in enumerate(times))


def answered(emulator: BotApiEmulator, chats: range) -> set[int]:
    return {chat for _, chat in sends(emulator)} & set(chats)


async def test_replies_during_a_broadcast_keep_the_bots_overall_rate_together(emulator, bot_config):
    enforce_telegrams_limits(emulator)
    app = build_application(bot_config, clock=lambda: NOW, poll_sources=False)
    async with polling(app, poll_timeout=1):
        services = app.bot_data.services
        await services.outbox.enqueue(
            OutgoingMessage(key=f"news:{chat}", chat_id=chat, parts=("خبر عاجل",))
            for chat in SUBSCRIBERS
        )
        await services.db.commit()
        app.bot_data.delivery.wake()
        await eventually(lambda: answered(emulator, SUBSCRIBERS), 10, "the broadcast started")
        for reader in READERS:
            await emulator.send_text(reader, "/latest")
        await eventually(
            lambda: (
                len(answered(emulator, SUBSCRIBERS)) == len(SUBSCRIBERS)
                and len(answered(emulator, READERS)) == len(READERS)
            ),
            30,
            "every broadcast message and every reply",
        )

    accepted = sends(emulator)
    broadcast_ends = max(at for at, chat in accepted if chat in SUBSCRIBERS)
    during = [at for at, chat in accepted if chat in READERS and at < broadcast_ends]
    assert len(during) >= 10, "the replies did not overlap the broadcast"
    assert most_in_one_second(attempts(emulator)) <= RATE + BURST
    assert refused(emulator) == []


@asynccontextmanager
async def webhook_served(app: AkhbarApp) -> AsyncIterator[AkhbarApp]:
    """The bot started as in webhook mode: updates arrive on its queue, nothing polls."""
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        await app.start()
        try:
            yield app
        finally:
            await app.stop()
    finally:
        if app.post_shutdown:
            await app.post_shutdown(app)
        await app.shutdown()


async def test_two_bot_processes_on_one_database_reply_within_the_bots_overall_rate(
    emulator, bot_config
):
    enforce_telegrams_limits(emulator)
    quiet = bot_config.bot.model_copy(update={"load_sample_news": False})
    config = bot_config.model_copy(update={"bot": quiet})
    async with AsyncExitStack() as stack:
        # Two Applications on one database stand for two webhook processes behind one
        # balancer: each has its own worker, limiter and connections, as a process would.
        apps = [
            await stack.enter_async_context(
                webhook_served(build_application(config, clock=lambda: NOW, poll_sources=False))
            )
            for _ in range(2)
        ]
        readers = range(70_001, 70_091)  # 90 replies: three seconds at the bot's rate
        for number, reader in enumerate(readers):
            message = await emulator.send_text(reader, "/start")
            app = apps[number % 2]
            await app.update_queue.put(
                Update.de_json({"update_id": number + 1, "message": message}, app.bot)
            )
        await eventually(
            lambda: len(answered(emulator, readers)) == len(readers), 30, "every reply"
        )

    assert most_in_one_second(attempts(emulator, readers)) <= RATE + BURST
    assert refused(emulator) == []
