"""Webhook delivery: while a webhook is set, pending updates are POSTed to it, as Telegram does.

One update at a time, in update_id order, with the secret in X-Telegram-Bot-Api-Secret-Token.
An answer other than 2xx (or no answer) is recorded as the webhook's last error, and the same
update is tried again after `retry_seconds`; a 2xx confirms it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiohttp

from .api import BotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST of an update to the bot's webhook and what it answered (0: no answer)."""

    update_id: int
    status: int


class WebhookPusher:
    """Pushes the emulator's pending updates to the webhook while one is set."""

    def __init__(self, api: BotApi, *, retry_seconds: float = 0.2) -> None:
        self._api = api
        self._retry_seconds = retry_seconds
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self.deliveries: list[WebhookDelivery] = []

    def start(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._task = asyncio.create_task(self._run(), name="emulator:webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        state = self._api.state
        while True:
            update = None
            if state.webhook_url:
                pending = state.updates.pending(1, state.allowed_updates)
                update = pending[0] if pending else None
            if update is None:
                await self._api.updates_arrived.wait(3600)
                continue
            if await self._post(state.webhook_url, state.webhook_secret, update):
                state.updates.confirm(update["update_id"] + 1)
                self._api.messages_changed.wake()
            else:
                await asyncio.sleep(self._retry_seconds)

    async def _post(self, url: str, secret: str, update: dict) -> bool:
        assert self._session is not None
        headers = {SECRET_HEADER: secret} if secret else {}
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                status, reason = response.status, response.reason or ""
        except (aiohttp.ClientError, TimeoutError) as error:
            status, reason = 0, f"Connection failed: {type(error).__name__}"
        self.deliveries.append(WebhookDelivery(update["update_id"], status))
        if 200 <= status < 300:
            return True
        message = f"Wrong response from the webhook: {status} {reason}" if status else reason
        self._api.state.webhook_last_error = (self._api.state.now(), message)
        return False
