"""Concurrent update handling that keeps each chat's order, tagged logs and update metrics.

Updates from different chats are handled at the same time (a slow /search in one chat no
longer holds everyone else), but two updates from one chat still run one after the other, in
the order Telegram sent them: a user's "/subscribe" then "/topics" must not swap.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.logs import update_context
from bot.ops.metrics import Metrics


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Up to `max_concurrent` updates at once, one at a time per chat (or user)."""

    def __init__(self, max_concurrent: int, metrics: Metrics | None = None) -> None:
        super().__init__(max_concurrent)
        self._metrics = metrics
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        update_id = update.update_id if isinstance(update, Update) else None
        with update_context(update_id):
            if key is None:
                await self._timed(update, coroutine)
            else:
                await self._in_order(key, update, coroutine)

    async def _in_order(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        # asyncio.Lock wakes waiters first come, first served: updates keep their order.
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await self._timed(update, coroutine)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def _timed(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update and record it; the time waiting for its turn is not counted."""
        started = time.perf_counter()
        await coroutine
        if self._metrics is not None and isinstance(update, Update):
            seconds = time.perf_counter() - started
            self._metrics.observe_update(update_type(update), _text(update), seconds)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def update_type(update: Update) -> str:
    """Telegram's name for what the update carries: message, callback_query, my_chat_member…"""
    for name in Update.ALL_TYPES:
        if getattr(update, name, None) is not None:
            return name
    return "other"


def _order_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


def _text(update: Update) -> str | None:
    # Only what a person posted can carry a command; a button's message is the bot's own text.
    message = update.message or update.channel_post
    return message.text if message is not None else None
