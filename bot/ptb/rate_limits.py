"""Replies keep the bot's overall rate together with the broadcast, in every process (issue 13).

Telegram's overall limit is per bot, not per process: a handler's reply takes its slot from
the schedule the outbox worker draws from (`bot.delivery.budget`), so replies and broadcasts of
all processes together keep `[delivery] overall_per_second`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.config import FREE_BROADCAST_PER_SECOND
from bot.delivery.budget import BudgetSource, SharedBudget
from bot.delivery.pacing import JITTER_ALLOWANCE
from storage import send_budget

_Answer = bool | dict[str, Any] | list[dict[str, Any]]


class SharedRateLimiter(AIORateLimiter):
    """PTB's limiter (per-group limit, 429 retries) whose overall rate is the shared schedule.

    PTB's own overall limit is off: a request to a chat (its `data` has a `chat_id`) first
    awaits a slot of this process's shared budgets, bound once the worker is open. Before that
    and after shutdown an in-process limit holds instead. Requests without a chat (answering a
    callback or inline query, getMe) never wait for a slot.
    """

    __slots__ = ("_budgets", "_fallback", "_overall", "_owned", "_per_second", "_waiting")

    def __init__(self, *, overall_per_second: float, max_retries: int) -> None:
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        # Replies are never paid broadcasts: allow_paid_broadcast covers only the messages sent
        # with it (Telegram: "up to 1000 messages per second, ignoring broadcasting limits").
        # Every other message still counts against the free limit, so replies never go faster.
        self._per_second = min(overall_per_second, FREE_BROADCAST_PER_SECOND)
        self._overall = overall_per_second
        self._fallback = _LocalSchedule(self._per_second)
        self._budgets: tuple[SharedBudget, ...] = ()
        self._owned: tuple[SharedBudget, ...] = ()
        self._waiting = 0

    async def bind(self, worker: BudgetSource) -> None:
        """Draw slots from the worker's shared schedule (or the process's own connection to
        it) from now on."""
        budgets = (worker.budget,)
        if self._overall > self._per_second:
            # Paid broadcasts take the overall schedule above the free rate: replies also keep
            # a schedule of their own at the free rate, shared by every process. How Telegram
            # counts paid and free messages together is unpublished, so both bounds hold.
            free = await worker.budget_named(send_budget.FREE, rate=self._per_second)
            self._owned = (free,)
            budgets = (free, worker.budget)
        self._budgets = budgets

    async def unbind(self) -> None:
        """Back to the in-process limit (the worker stops)."""
        self._budgets = ()
        owned, self._owned = self._owned, ()
        for budget in owned:
            await budget.close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, _Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> _Answer:
        """PTB's processing, each attempt at a chat in a slot of the shared overall rate."""
        if data.get("chat_id") is None:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )

        async def in_a_slot(*call_args: Any, **call_kwargs: Any) -> _Answer:
            await self._slot()
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as error:
                await self._pause(error.retry_after)
                raise

        return await super().process_request(
            in_a_slot, args, kwargs, endpoint, data, rate_limit_args
        )

    async def _slot(self) -> None:
        budgets = self._budgets
        if not budgets:
            await self._fallback.wait()
            return
        self._waiting += 1
        try:
            for budget in budgets:
                await budget.acquire(wanted=lambda: self._waiting)
        finally:
            self._waiting -= 1

    async def _pause(self, retry_after: timedelta | float) -> None:
        # The worker pauses the schedule on its 429s; a reply's 429 means the same bot-wide
        # budget is spent, so every process holds back too.
        seconds = (
            retry_after.total_seconds()
            if isinstance(retry_after, timedelta)
            else float(retry_after)
        )
        for budget in self._budgets:
            await budget.pause(seconds)


class _LocalSchedule:
    """Evenly spaced slots in this process alone, while no shared schedule is bound."""

    def __init__(self, rate: float) -> None:
        self._spacing = (1.0 + JITTER_ALLOWANCE) / rate
        self._next = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, self._next)
        self._next = start + self._spacing
        if start > now:
            await asyncio.sleep(start - now)
