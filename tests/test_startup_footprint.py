"""A bot on SQLite does not load what it does not use: the PostgreSQL driver, Pillow (until an
image is reported) and lxml (until a feed is read) stay on disk, not in its memory (issue 8);
nor do the modules of rare commands and tools it never runs (httpx's command-line client, the
copy to PostgreSQL, OPML).

Read from the running process: its memory map (/proc/PID/maps), where each compiled library
shows up once imported, and Python's own list of the modules it imported (PYTHONPROFILEIMPORTTIME
writes one line per module to stderr): what an operator's `akhbar run` holds, not what a test
imported.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from emulator import BotApiEmulator
from tests.support import TOKEN
from tests.support.ops import free_port

CHAT = 7
# Library folders whose compiled modules must not be mapped into a SQLite bot.
NOT_LOADED = {"asyncpg": "/asyncpg/", "Pillow": "/PIL/", "lxml": "/lxml/"}
# One it does use, so an empty or unreadable map cannot pass for a lean one.
LOADED = "/aiohttp/"
# Pure-Python modules a serving bot must not import (none of them maps a file of its own).
# click, rich and pygments are installed with the test tools; httpx imports them for its CLI.
NOT_IMPORTED = (
    "click", "rich", "pygments",  # httpx's command-line client
    "bot.ops.db_copy", "storage.copying",  # akhbar db copy
    "bot.ingestion.opml", "defusedxml", "xml.etree.ElementTree",  # akhbar sources import/export
)  # fmt: skip
# One it does import, so an empty list cannot pass for a lean bot.
IMPORTED = "bot.ptb.serving"


def _mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")


def _imported_modules(stderr: str) -> set[str]:
    """The module names of PYTHONPROFILEIMPORTTIME's lines ("import time: 12 | 34 | a.b")."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


async def test_a_sqlite_bot_serving_commands_loads_neither_postgresql_nor_pillow_nor_lxml(
    tmp_path,
):
    config = tmp_path / "config.toml"
    config.write_text(
        '[storage]\npath = "akhbar.sqlite3"\n[bot]\nload_sample_news = false\n'
        f"[http]\nport = {free_port()}\n",
        encoding="utf-8",
    )
    errors = tmp_path / "stderr.txt"
    async with BotApiEmulator(TOKEN) as emulator:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "PYTHONPROFILEIMPORTTIME": "1",
        }
        # stderr to a file: the import lines would fill a pipe nobody reads until the end.
        with errors.open("wb") as stderr:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "--config", str(config), "run",
                env=env, stdout=asyncio.subprocess.DEVNULL, stderr=stderr,
            )  # fmt: skip
        try:
            for command in ("/start", "/latest", "/search المغرب"):
                await emulator.send_text(CHAT, command)
                await emulator.next_message(CHAT, timeout=60)
            mapped = _mapped_files(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
    output = errors.read_text(encoding="utf-8", errors="replace")
    assert process.returncode == 0, output[-2000:]
    assert LOADED in mapped
    assert [name for name, folder in NOT_LOADED.items() if folder in mapped] == []
    imported = _imported_modules(output)
    assert IMPORTED in imported
    assert [name for name in NOT_IMPORTED if name in imported] == []
