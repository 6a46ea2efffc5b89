"""Helpers for the operations tests: free loopback ports, HTTP calls, Prometheus samples."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.config import load_config
from bot.services import open_services
from storage import chats


def free_port() -> int:
    """A loopback port nobody listens on right now (for a server whose URL must be known first)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def http(
    method: str, url: str, *, json: Any = None, data: bytes | None = None, headers=None
) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=json, data=data, headers=headers) as response,
    ):
        return response.status, await response.read()


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text `text` (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return 0.0


def message_update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    """A private-chat text message as Telegram would POST it to a webhook."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Amina", "language_code": "ar"}
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_740_000_000,
        "chat": {"id": chat_id, "type": "private", "first_name": "Amina"},
        "from": user,
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split()[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return {"update_id": update_id, "message": message}


async def akhbar_process(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`akhbar ARGS…` as a real process (python -m bot), output captured."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


def senders_of(parent: int) -> list[int]:
    """The `akhbar deliver` processes the `akhbar run` process `parent` started."""
    children: list[int] = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        children += [int(pid) for pid in (task / "children").read_text().split()]
    return [pid for pid in children if b"deliver" in _cmdline(pid)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def kill_with_its_sender(process: asyncio.subprocess.Process) -> None:
    """SIGKILL to `akhbar run` and the sending process it started, as when a machine is lost
    (the sender first: the bot would start it again, and it stops cleanly when the bot dies)."""
    for sender in senders_of(process.pid):
        os.kill(sender, signal.SIGKILL)
    process.kill()


async def eventually(condition, seconds: float, what: str) -> None:
    """Await a condition another process makes true, checking it every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def subscribe_chats(config_path: Path, chat_ids: range, *, queue: bool = False) -> None:
    """Subscribe `chat_ids` as /subscribe does, on the sample news; with `queue`, also queue a
    digest for each, as `akhbar digest send` would."""
    config = load_config(config_path, environ={})
    services = await open_services(config)
    try:
        await services.ingestion.load_sample_if_empty()
        now = datetime.now(UTC)
        for chat_id in chat_ids:
            await chats.remember(services.db, chat_id, type="private", title=None, at=now)
            await services.subscriptions.subscribe(chat_id, [], language="ar")
        if queue:
            assert await services.digests.send_now(None) == len(chat_ids)
    finally:
        await services.close()


async def queue_digests(config_path: Path, chat_ids: range) -> None:
    """Subscribe `chat_ids` and queue a digest for each."""
    await subscribe_chats(config_path, chat_ids, queue=True)


def successful_sends(emulator) -> list[int]:
    return [
        int(call.params["chat_id"])
        for call in emulator.requests
        if call.method == "sendMessage" and call.status == 200
    ]


def outbox_rows(db_path: Path) -> dict[str, int]:
    with sqlite3.connect(db_path) as db:
        rows = db.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
        claimed = db.execute("SELECT count(*) FROM outbox WHERE claimed_by IS NOT NULL")
        return {**dict(rows), "claimed": claimed.fetchone()[0]}
