"""SIGTERM in the middle of a broadcast: a real `akhbar run` stops within seconds, loses nothing
and, unlike a crash, sends nothing twice."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

from emulator import BotApiEmulator
from tests.conftest import TOKEN
from tests.support.ops import (
    akhbar_process,
    eventually,
    free_port,
    outbox_rows,
    queue_digests,
    successful_sends,
)

SUBSCRIBERS = range(20_001, 20_301)  # 300 private chats
RATE = 40  # messages/s: the broadcast takes about 7 s


async def test_sigterm_mid_broadcast_exits_quickly_and_a_restart_sends_the_rest_once(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "akhbar.sqlite3"\n'
        f"[delivery]\noverall_per_second = {RATE}.0\npaid_broadcast = true\n"
        f"[http]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    await queue_digests(config, SUBSCRIBERS)
    database = tmp_path / "akhbar.sqlite3"

    async with BotApiEmulator(TOKEN, auto_create_chats=True) as emulator:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
        first = await akhbar_process("--config", str(config), "run", env=env)
        # Fully started (long polling), so the time measured below is the stop alone.
        await emulator.wait_until_polling(timeout=60)
        await eventually(lambda: len(successful_sends(emulator)) >= 50, 60, "50 digests")
        signalled = time.monotonic()
        first.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(first.communicate(), timeout=30)
        took = time.monotonic() - signalled
        assert first.returncode == 0, stderr.decode()
        assert took < 5, f"took {took:.1f} s to stop"
        sent_before = successful_sends(emulator)
        assert len(sent_before) < len(SUBSCRIBERS), "the broadcast ended before SIGTERM"
        rows = outbox_rows(database)
        # Every answered send is recorded and no row is left claimed by the stopped worker.
        assert rows.get("sent", 0) == len(sent_before) and rows["claimed"] == 0

        second = await akhbar_process("--config", str(config), "run", env=env)
        try:
            await eventually(
                lambda: set(successful_sends(emulator)) >= set(SUBSCRIBERS), 60, "every chat"
            )
            await eventually(lambda: outbox_rows(database).get("queued", 0) == 0, 30, "empty")
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.communicate(), timeout=30)

    copies = Counter(successful_sends(emulator))
    assert set(copies) == set(SUBSCRIBERS)
    assert max(copies.values()) == 1
