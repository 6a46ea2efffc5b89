"""Helpers for the operations tests: free loopback ports, HTTP calls, Prometheus samples."""

from __future__ import annotations

import socket
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families


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
