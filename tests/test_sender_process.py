"""`akhbar run` sends from a process of its own (`akhbar deliver`, [delivery] own_process): the
parent tells it of new rows, counts its answers in /metrics, starts it again when it crashes,
and it stops by itself when the parent is gone."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections import Counter
from pathlib import Path

from bot.ptb.sender_process import SenderProcess
from emulator import BotApiEmulator
from tests.support import TOKEN
from tests.support.ops import (
    akhbar_process,
    eventually,
    free_port,
    http,
    outbox_rows,
    queue_digests,
    sample,
    senders_of,
    subscribe_chats,
    successful_sends,
)

SUBSCRIBERS = range(30_001, 30_201)  # 200 private chats
RATE = 40  # messages/s: the broadcast takes about 5 s


def write_config(tmp_path: Path, port: int) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "akhbar.sqlite3"\n'
        f"[delivery]\noverall_per_second = {RATE}.0\npaid_broadcast = true\n"
        f"[http]\nport = {port}\n",
        encoding="utf-8",
    )
    return config


def is_alive(pid: int) -> bool:
    # A zombie (dead, not yet reaped by its parent) has sent its last message too.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


async def started_bot(config: Path, emulator: BotApiEmulator) -> asyncio.subprocess.Process:
    """`akhbar run` on `config`, once it polls the emulator."""
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
    bot = await akhbar_process("--config", str(config), "run", env=env)
    await emulator.wait_until_polling(timeout=60)
    return bot


async def every_chat_served(emulator: BotApiEmulator, chats: range) -> None:
    await eventually(lambda: set(successful_sends(emulator)) >= set(chats), 60, "every chat")


async def stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_the_sender_process_delivers_a_broadcast_counted_in_the_parents_metrics(tmp_path):
    port = free_port()
    config = write_config(tmp_path, port)
    await queue_digests(config, SUBSCRIBERS)

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        bot = await started_bot(config, emulator)
        try:
            assert len(senders_of(bot.pid)) == 1
            await every_chat_served(emulator, SUBSCRIBERS)

            async def delivered() -> float:
                _, text = await http("GET", f"http://127.0.0.1:{port}/metrics")
                return sample(text.decode(), "akhbar_outbox_requests_total", outcome="delivered")

            for _ in range(100):  # the child reports its answers twice a second
                if await delivered() == len(SUBSCRIBERS):
                    break
                await asyncio.sleep(0.1)
            assert await delivered() == len(SUBSCRIBERS)
            status, body = await http("GET", f"http://127.0.0.1:{port}/readyz")
            assert status == 200, body.decode()
        finally:
            await stop(bot)

    assert max(Counter(successful_sends(emulator)).values()) == 1


async def test_a_crashed_sender_is_started_again_and_the_broadcast_goes_on(tmp_path):
    config = write_config(tmp_path, free_port())
    await queue_digests(config, SUBSCRIBERS)

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        bot = await started_bot(config, emulator)
        try:
            await eventually(lambda: len(successful_sends(emulator)) >= 40, 60, "40 digests")
            (crashed,) = senders_of(bot.pid)
            os.kill(crashed, signal.SIGKILL)
            await every_chat_served(emulator, SUBSCRIBERS)
            (restarted,) = senders_of(bot.pid)
            assert restarted != crashed
        finally:
            stderr = await stop(bot)

    assert "the delivery process ended (exit -9); starting it again" in stderr
    assert outbox_rows(tmp_path / "akhbar.sqlite3")["claimed"] == 0
    # A crash may repeat only the sends that were in flight (Telegram's answer not recorded).
    copies = Counter(successful_sends(emulator))
    assert sum(copies.values()) - len(copies) <= RATE


async def test_the_sender_stops_by_itself_when_the_bot_is_killed(tmp_path):
    config = write_config(tmp_path, free_port())
    await subscribe_chats(config, SUBSCRIBERS)

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        bot = await started_bot(config, emulator)
        (sender,) = senders_of(bot.pid)
        bot.kill()
        await bot.wait()
        await eventually(lambda: not is_alive(sender), 30, "the sender to stop")


async def test_the_bot_counts_the_answers_its_sender_reports_and_ignores_any_other_output():
    report = '{"answers": [["delivered", 0.05, 0], ["flood_wait", 0.06, 3.0]]}'
    child = f"print('starting'); print({report!r}); print('x' * 2_000_000); print({report!r})"
    answers: list[tuple[str, float, float]] = []
    sender = SenderProcess(
        [sys.executable, "-c", child], observer=lambda *answer: answers.append(answer)
    )
    await sender.start()
    await eventually(lambda: not sender.is_running and len(answers) == 4, 30, "the reports")
    await sender.stop()
    assert answers == [("delivered", 0.05, 0.0), ("flood_wait", 0.06, 3.0)] * 2


async def test_a_sender_that_keeps_failing_is_started_again_until_the_bot_stops(caplog):
    caplog.set_level(logging.ERROR, logger="bot.delivery.process")
    sender = SenderProcess([sys.executable, "-c", "raise SystemExit(3)"], observer=None)
    await sender.start()

    def failures() -> int:
        return sum("ended (exit 3)" in record.getMessage() for record in caplog.records)

    # Started again after 1 s, then 2 s: the third wait is 4 s long.
    await eventually(lambda: failures() == 3, 30, "three failures")
    async with asyncio.timeout(2):  # stop() ends the wait instead of starting a fourth
        await sender.stop()
    assert failures() == 3 and not sender.is_running


async def test_akhbar_deliver_started_by_hand_sends_until_sigterm(tmp_path):
    config = write_config(tmp_path, free_port())
    chats = range(30_501, 30_521)
    await queue_digests(config, chats)

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
        # Its stdin ends at once (as under nohup or docker exec): no orders, no reason to stop.
        sender = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(config), "deliver",
            env={**os.environ, **env}, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        await every_chat_served(emulator, chats)
        await stop(sender)

    assert outbox_rows(tmp_path / "akhbar.sqlite3") == {"sent": len(chats), "claimed": 0}
