"""`akhbar run` sends from a process of its own (`akhbar deliver`, [delivery] own_process): the
parent tells it of new rows, counts its answers in /metrics, starts it again when it crashes,
and it stops by itself when the parent is gone."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from pathlib import Path

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
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
        bot = await akhbar_process("--config", str(config), "run", env=env)
        try:
            await emulator.wait_until_polling(timeout=60)
            assert len(senders_of(bot.pid)) == 1
            await eventually(
                lambda: set(successful_sends(emulator)) >= set(SUBSCRIBERS), 60, "every chat"
            )

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
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
        bot = await akhbar_process("--config", str(config), "run", env=env)
        try:
            await emulator.wait_until_polling(timeout=60)
            await eventually(lambda: len(successful_sends(emulator)) >= 40, 60, "40 digests")
            (crashed,) = senders_of(bot.pid)
            os.kill(crashed, signal.SIGKILL)
            await eventually(
                lambda: set(successful_sends(emulator)) >= set(SUBSCRIBERS), 60, "every chat"
            )
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
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
        bot = await akhbar_process("--config", str(config), "run", env=env)
        await emulator.wait_until_polling(timeout=60)
        (sender,) = senders_of(bot.pid)
        bot.kill()
        await bot.wait()
        await eventually(lambda: not is_alive(sender), 30, "the sender to stop")
