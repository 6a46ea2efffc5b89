"""Several real `akhbar run` processes on one PostgreSQL database, as on several machines.

Each process writes its log to a file of its own (a pipe nobody reads would fill and stop it).
Which process leads is read where it is decided: the holder of the leader lock in pg_locks,
named by the pid in its connection's application_name.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from storage.postgres import LEADER_LOCK, LOCK_CLASS
from tests.support import TOKEN
from tests.support.ops import kill_with_its_sender
from tests.support.postgres import PostgresServer

POLL_TIMEOUT = 1  # seconds: a dead leader's last long poll ends this soon at the emulator


@asynccontextmanager
async def fresh_database(server: PostgresServer | str) -> AsyncIterator[str]:
    """The URL of a new, empty database (dropped afterwards); skip when there is no server."""
    if isinstance(server, str):
        pytest.skip(server)
    name = await server.create_database()
    try:
        yield server.database_url(name)
    finally:
        await server.drop_database(name)


def fleet_config(tmp_path: Path, url: str, extra: str = "") -> Path:
    """A config for processes sharing the database at `url`, without an HTTP server each."""
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "{url}"\n'
        f"[telegram]\npoll_timeout_seconds = {POLL_TIMEOUT}\n"
        "[http]\nenabled = false\n"
        f'[logging]\nlevel = "INFO"\n{extra}',
        encoding="utf-8",
    )
    return config


@dataclass
class Fleet:
    """The processes started with one config against one emulator."""

    config: Path
    url: str
    api_base_url: str
    processes: dict[int, asyncio.subprocess.Process] = field(default_factory=dict)
    logs: dict[int, Path] = field(default_factory=dict)

    async def start(self, count: int, *, config: Path | None = None) -> list[int]:
        """Start `count` processes at once (with `config` instead of the fleet's); return
        their pids."""
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": self.api_base_url,
        }
        started = []
        for _ in range(count):
            log = self.config.parent / f"akhbar-{len(self.logs) + 1}.log"
            with log.open("wb") as output:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "--config", str(config or self.config), "run",
                    env=env, stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL, stderr=output,
                )  # fmt: skip
            self.processes[process.pid] = process
            self.logs[process.pid] = log
            started.append(process.pid)
        return started

    def log(self, pid: int) -> str:
        return self.logs[pid].read_text(encoding="utf-8", errors="replace")

    def alive(self) -> list[int]:
        return [pid for pid, p in self.processes.items() if p.returncode is None]

    async def leader(self) -> int | None:
        """The pid of the process holding the leader lock now, if any."""
        connection = await asyncpg.connect(self.url)
        try:
            name = await connection.fetchval(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                " WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2"
                " AND l.granted",
                LOCK_CLASS, LEADER_LOCK,
            )  # fmt: skip
        finally:
            await connection.close()
        found = re.fullmatch(r"akhbar pid (\d+)", name or "")
        return int(found[1]) if found else None

    async def kill(self, pid: int) -> None:
        """SIGKILL: no clean-up of any kind, as when a machine is lost."""
        process = self.processes[pid]
        kill_with_its_sender(process)
        await process.wait()

    async def stop(self) -> dict[int, int]:
        """SIGTERM every live process; return each one's exit code."""
        for pid in self.alive():
            self.processes[pid].send_signal(signal.SIGTERM)
        codes = {}
        for pid, process in self.processes.items():
            try:
                codes[pid] = await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                codes[pid] = await process.wait()
        return codes
