"""Resident memory of the real bot (`python -m bot run`) serving /latest and /search."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.queries import query_words
from emulator import BotApiEmulator

__all__ = ["MemoryResult", "measure_bot_memory"]

TOKEN = "123456:BENCH-token"
CHAT = 7
REPLY_TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class MemoryResult:
    """The bot process's resident set after start-up and after serving commands, in MB."""

    after_start_mb: float
    after_queries_mb: float
    peak_mb: float
    commands: int


def _status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def _write_config(folder: Path, database: Path) -> Path:
    config = folder / "bench-bot.toml"
    config.write_text(
        f'[telegram]\npoll_timeout_seconds = 1\n[storage]\npath = "{database.resolve()}"\n'
        "[bot]\nload_sample_news = false\n",
        encoding="utf-8",
    )
    return config


async def _ask(emulator: BotApiEmulator, text: str) -> None:
    await emulator.send_text(CHAT, text)
    await emulator.next_message(CHAT, timeout=REPLY_TIMEOUT)


async def measure_bot_memory(database: Path, folder: Path) -> MemoryResult:
    """Run the bot against the emulator on `database`; read its VmRSS from /proc."""
    words = query_words()
    commands = ["/latest", "/latest 8", *(f"/search {w}" for w in words.values()), "/latest"]
    async with BotApiEmulator(TOKEN) as emulator:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "--config", str(_write_config(folder, database)), "run",
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await _ask(emulator, "/start")
            after_start = _status_mb(process.pid, "VmRSS")
            for command in commands:
                await _ask(emulator, command)
            after = _status_mb(process.pid, "VmRSS")
            peak = _status_mb(process.pid, "VmHWM")
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.communicate(), timeout=60)
    return MemoryResult(after_start, after, peak, len(commands) + 1)
