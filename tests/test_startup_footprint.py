"""A bot on SQLite does not load what it does not use: the PostgreSQL driver, Pillow (until an
image is reported) and lxml (until a feed is read) stay on disk, not in its memory (issue 8).

Read from the running process's memory map (/proc/PID/maps), where each compiled library
shows up once imported: what an operator's `akhbar run` holds, not what a test imported.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from emulator import BotApiEmulator
from tests.support import TOKEN
from tests.support.ops import akhbar_process, free_port

CHAT = 7
# Library folders whose compiled modules must not be mapped into a SQLite bot.
NOT_LOADED = {"asyncpg": "/asyncpg/", "Pillow": "/PIL/", "lxml": "/lxml/"}
# One it does use, so an empty or unreadable map cannot pass for a lean one.
LOADED = "/aiohttp/"


def _mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")


async def test_a_sqlite_bot_serving_commands_loads_neither_postgresql_nor_pillow_nor_lxml(
    tmp_path,
):
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "akhbar.sqlite3"\n[bot]\nload_sample_news = false\n'
        f"[http]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    async with BotApiEmulator(TOKEN) as emulator:
        env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": emulator.base_url}
        process = await akhbar_process("--config", str(config), "run", env=env)
        try:
            for command in ("/start", "/latest", "/search المغرب"):
                await emulator.send_text(CHAT, command)
                await emulator.next_message(CHAT, timeout=60)
            mapped = _mapped_files(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert LOADED in mapped
    assert [name for name, folder in NOT_LOADED.items() if folder in mapped] == []
