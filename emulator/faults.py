"""Fault injection: scripted failures, blocked chats and Telegram-like flood control."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .errors import ApiError, forbidden, too_many_requests

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
_BLOCKED_REASONS = {
    "private": "bot was blocked by the user",
    "group": "bot was kicked from the group chat",
    "supergroup": "bot was kicked from the supergroup chat",
    "channel": "bot is not a member of the channel chat",
}


@dataclass(slots=True)
class _FaultRule:
    method: str
    chat_id: int | str | None
    error: ApiError
    remaining: int


def injected_error(status: int, retry_after: int, description: str | None) -> ApiError:
    """Return the error a scripted fault answers with."""
    if status == 429:
        error = too_many_requests(retry_after)
        if description:
            error.description = description
        return error
    return ApiError(status, description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"))


def blocked_error(chat_type: str) -> ApiError:
    """Return the 403 Telegram gives when the bot was blocked or removed from a chat."""
    return forbidden(_BLOCKED_REASONS.get(chat_type, "bot was blocked by the user"))


class FaultPlan:
    """Failures scripted by a test: the next N calls of a method (optionally for one chat)."""

    def __init__(self) -> None:
        self._rules: list[_FaultRule] = []

    def add(self, method: str, chat_id: int | str | None, error: ApiError, times: int) -> None:
        """Fail the next `times` matching calls with `error`."""
        self._rules.append(_FaultRule(method.lower(), chat_id, error, times))

    def take(self, method: str, chat_id: object) -> ApiError | None:
        """Return (and use up) the error for this call, if a rule matches."""
        if not self._rules:
            return None
        for rule in self._rules:
            if rule.method not in (method, "*"):
                continue
            if rule.chat_id is not None and str(rule.chat_id) != str(chat_id):
                continue
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._rules.remove(rule)
            return rule.error
        return None

    def clear(self) -> None:
        """Drop every pending scripted failure."""
        self._rules.clear()


class FloodLimiter:
    """About 1 msg/s per chat (small burst), 20/min per group, 30/s overall; answers 429."""

    def __init__(
        self,
        *,
        per_chat_burst: int = 3,
        per_chat_rate: float = 1.0,
        per_group_per_minute: int = 20,
        overall_per_second: int = 30,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat_burst = per_chat_burst
        self.per_chat_rate = per_chat_rate
        self.per_group_per_minute = per_group_per_minute
        self.overall_per_second = overall_per_second
        self._monotonic = monotonic
        self._buckets: dict[int, tuple[float, float]] = {}
        self._group_sends: dict[int, deque[float]] = {}
        self._overall_sends: deque[float] = deque()

    def admit(self, chat_id: int, is_group: bool) -> ApiError | None:
        """Record a send to `chat_id`, or return the 429 Telegram would answer."""
        now = self._monotonic()
        wait = max(
            self._overall_wait(now),
            self._chat_wait(chat_id, now),
            self._group_wait(chat_id, now) if is_group else 0.0,
        )
        if wait > 0:
            return too_many_requests(max(1, math.ceil(wait)))
        self._record(chat_id, is_group, now)
        return None

    def _overall_wait(self, now: float) -> float:
        sends = self._overall_sends
        while sends and sends[0] <= now - 1.0:
            sends.popleft()
        return sends[0] + 1.0 - now if len(sends) >= self.overall_per_second else 0.0

    def _chat_wait(self, chat_id: int, now: float) -> float:
        tokens = self._tokens(chat_id, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.per_chat_rate

    def _tokens(self, chat_id: int, now: float) -> float:
        tokens, last = self._buckets.get(chat_id, (float(self.per_chat_burst), now))
        return min(float(self.per_chat_burst), tokens + (now - last) * self.per_chat_rate)

    def _group_wait(self, chat_id: int, now: float) -> float:
        sends = self._group_sends.get(chat_id)
        if not sends:
            return 0.0
        while sends and sends[0] <= now - 60.0:
            sends.popleft()
        return sends[0] + 60.0 - now if len(sends) >= self.per_group_per_minute else 0.0

    def _record(self, chat_id: int, is_group: bool, now: float) -> None:
        self._overall_sends.append(now)
        self._buckets[chat_id] = (self._tokens(chat_id, now) - 1.0, now)
        if is_group:
            self._group_sends.setdefault(chat_id, deque()).append(now)
