"""Telegram's flood limits as a schedule of send slots on a monotonic clock.

Three rules: an overall rate (evenly spaced slots on a drift-free schedule, no bursts, so a
30/s limit is not exceeded in any one-second window); one message in flight per chat; and a
minimum gap per chat measured from the *answer* to the previous send, because Telegram counts
arrivals and an early slot followed by a slow request could otherwise land two messages closer
than the gap. Groups and channels (negative ids) get the longer of the chat gap and
60 s / their per-minute limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

_PRUNE_ABOVE = 4096
# Telegram counts arrivals, not our start times: slots sit 2% further apart than the rate so
# up to 20 ms of request-latency jitter per second never puts one message too many in a window.
JITTER_ALLOWANCE = 0.02


@dataclass(frozen=True, slots=True)
class Limits:
    """Rates the pacer keeps to."""

    overall_per_second: float
    per_chat_interval: float
    per_group_per_minute: float

    @property
    def group_interval(self) -> float:
        """Seconds between two messages to one group or channel."""
        return max(self.per_chat_interval, 60.0 / self.per_group_per_minute)

    def gap(self, chat_id: int) -> float:
        """Seconds between two messages to this chat (negative ids: groups and channels)."""
        return self.group_interval if chat_id < 0 else self.per_chat_interval


class Pacer:
    """Books send slots; memory holds only chats with a recent or running send.

    `paces_overall=False` leaves the overall rate to a schedule shared with other processes
    (`bot.delivery.budget`): this one would only add waits of its own.
    """

    def __init__(self, limits: Limits, *, paces_overall: bool = True) -> None:
        self._limits = limits
        rate = limits.overall_per_second if paces_overall else math.inf
        self._spacing = (1.0 + JITTER_ALLOWANCE) / rate
        self._next_slot = 0.0
        self._prune_above = _PRUNE_ABOVE
        self._paused_until = 0.0
        self._chat_free: dict[int, float] = {}  # chat -> earliest next start; inf while in flight

    def next_slot(self, now: float) -> float:
        """The earliest time any message may start."""
        return max(now, self._next_slot, self._paused_until)

    def chat_ready_at(self, chat_id: int) -> float:
        """The earliest time a message to this chat may start (inf while one is in flight)."""
        return self._chat_free.get(chat_id, 0.0)

    def book(self, chat_id: int, now: float) -> None:
        """Take the current slot for a send to `chat_id` starting now."""
        # A start a little late keeps the schedule (no drift below the rate); after a longer
        # idle spell the schedule restarts at now instead of allowing a burst.
        is_on_schedule = now - self._next_slot < self._spacing
        self._next_slot = (self._next_slot if is_on_schedule else now) + self._spacing
        self._chat_free[chat_id] = math.inf

    def finished(self, chat_id: int, now: float, *, wait: float = 0.0) -> None:
        """The send to `chat_id` was answered at `now`; `wait` is any extra pause asked for."""
        self._chat_free[chat_id] = now + max(self._limits.gap(chat_id), wait)
        if len(self._chat_free) > self._prune_above:
            self._prune(now)

    def pause_all(self, until: float) -> None:
        """Start nothing before `until` (Telegram answered 429, or cannot be reached)."""
        self._paused_until = max(self._paused_until, until)

    @property
    def paused_until(self) -> float:
        """When the last pause of every send ends (0 if there was none)."""
        return self._paused_until

    def _prune(self, now: float) -> None:
        self._chat_free = {chat: t for chat, t in self._chat_free.items() if t > now}
        # Grow the threshold with what survives so pruning stays amortised O(1) per send.
        self._prune_above = max(_PRUNE_ABOVE, 2 * len(self._chat_free))


class InFlightLimit:
    """How many requests may be in flight: the rate × the observed round trip, with headroom.

    At 1,000 messages/s and a 50 ms round trip, 50 requests must be in flight to hold the rate:
    a fixed 32 caps the engine at 640/s. The round trip is a moving average of the answers
    seen (slow answers raise it at once, fast ones lower it gradually), so the limit follows
    the network; `ceiling` (config `concurrency`) bounds it.
    """

    HEADROOM = 1.5
    FLOOR = 4
    _RISE, _FALL = 0.5, 0.05  # weights of a slower / faster answer in the average

    def __init__(self, rate: float, *, ceiling: int, first_round_trip: float = 0.1) -> None:
        self._rate = rate
        self._ceiling = ceiling
        self.round_trip = first_round_trip
        self.value = self._sized()

    def observe(self, seconds: float) -> None:
        """One request took `seconds` from start to answer."""
        weight = self._RISE if seconds > self.round_trip else self._FALL
        self.round_trip += weight * (seconds - self.round_trip)
        self.value = self._sized()

    def _sized(self) -> int:
        wanted = math.ceil(self._rate * self.round_trip * self.HEADROOM) + 1
        return max(min(self.FLOOR, self._ceiling), min(wanted, self._ceiling))
