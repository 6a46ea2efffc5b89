"""Replies and broadcasts share the bot's one overall rate, in one process and across processes.

Telegram's overall limit (about 30 messages/s) is per bot: the emulator answers 429 past it,
as Telegram would, however the bot's sends are split between handlers, the outbox worker and
several processes.
"""

from __future__ import annotations

import asyncio
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
from storage import database
from tests.support import NOW
from tests.support.chat import ask
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


# Paid broadcasts raise the outbox's rate only: replies are sent without allow_paid_broadcast
# and keep the free rate, all processes together.
@pytest.mark.parametrize("paid_rate", [None, 100.0], ids=["free", "paid"])
async def test_two_bot_processes_on_one_database_reply_within_the_bots_overall_rate(
    emulator, bot_config, paid_rate
):
    enforce_telegrams_limits(emulator)
    quiet = bot_config.bot.model_copy(update={"load_sample_news": False})
    config = bot_config.model_copy(update={"bot": quiet})
    if paid_rate is not None:
        emulator.api.flood.overall_per_second = int(paid_rate) + BURST
        paid = {"overall_per_second": paid_rate, "paid_broadcast": True}
        config = config.model_copy(update={"delivery": config.delivery.model_copy(update=paid)})
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


async def shared_pause(location: str) -> None:
    """Wait until a 429 paused the schedule every process draws from (never paused before)."""
    db = await database.connect_send_budget(location)
    try:
        for _ in range(500):  # the bot writes it on its own connection: look every 10 ms
            if await db.execute_fetchall(
                "SELECT 1 FROM send_budget WHERE name = 'overall' AND paused_until > 0"
            ):
                return
            await asyncio.sleep(0.01)
    finally:
        await db.close()
    raise AssertionError("the 429 did not pause the shared schedule")


async def test_a_429_answered_to_a_reply_pauses_the_broadcast_too(emulator, akhbar):
    reader, subscriber, pause = READERS[0], SUBSCRIBERS[0], 2
    emulator.fail_next("sendMessage", retry_after=pause, chat_id=reader)
    await emulator.send_text(reader, "/latest 1")
    refusal = await emulator.wait_for(lambda call: call.status == 429)
    services = akhbar.bot_data.services
    await shared_pause(services.config.storage.location)
    await services.outbox.enqueue(
        [OutgoingMessage(key="news:paused", chat_id=subscriber, parts=("خبر",))]
    )
    await services.db.commit()
    akhbar.bot_data.delivery.wake()
    await emulator.next_message(subscriber, timeout=pause + 5)
    await emulator.next_message(reader, timeout=5)  # PTB sent the reply again after the pause

    [broadcast_at] = [at for at, chat in sends(emulator) if chat == subscriber]
    assert broadcast_at >= refusal.at + pause - 0.05


async def test_answers_to_button_presses_never_wait_for_a_send_slot(emulator, akhbar):
    page = await ask(emulator, "/latest 1", chat_id=READERS[0])
    # Fewer than the updates handled at once, so the press is not queued behind them: nearly
    # a second of replies at the bot's rate, each waiting for its slot.
    readers = READERS[1:26]
    for reader in readers:
        await emulator.send_text(reader, "/latest")
    await eventually(lambda: answered(emulator, readers), 10, "the replies started")
    query = await emulator.press_button(page.chat_id, page.message_id, page.buttons[0][1])
    await emulator.wait_for_callback_answer(query)

    # The answer was not queued behind the slots the replies waited for.
    assert len(answered(emulator, readers)) < len(readers)
