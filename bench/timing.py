"""Small timing helpers: a stopwatch that accumulates, and percentiles."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

__all__ = ["Stopwatch", "as_the_bot", "percentile", "steady_emulator"]


# The stand-in's CPU priority over the bot's processes while measuring, where allowed (root).
EMULATOR_NICE = -5


@contextmanager
def steady_emulator() -> Iterator[None]:
    """No garbage collection in this process while the block runs, and (where the machine
    allows it) this process ahead of the bot for the CPU.

    The emulator, Telegram's stand-in, runs in the benchmark's own process. A collection over
    its large state pauses it for up to ~150 ms; so does waiting for a core the bot's
    processes hold (Telegram's servers do not share the bot's cores). The bot's requests that
    arrive during such a pause would then be counted together, as a burst the bot never sent,
    and answered 429. Start the bot inside the block, then give it back the usual priority
    with `as_the_bot`.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    before = os.getpriority(os.PRIO_PROCESS, 0)
    raised = _set_priority(0, EMULATOR_NICE)
    try:
        yield
    finally:
        if raised:
            _set_priority(0, before)
        gc.enable()
        gc.unfreeze()


def as_the_bot(pid: int) -> None:
    """A process started inside `steady_emulator` back at the usual priority."""
    _set_priority(pid, 0)


def _set_priority(pid: int, nice: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except PermissionError:
        return False
    return True


class Stopwatch:
    """Accumulates the time spent inside the functions it wraps."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


def percentile(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `samples` (fraction 0.5 = median)."""
    ordered = sorted(samples)
    rank = max(min(round(fraction * len(ordered) + 0.5) - 1, len(ordered) - 1), 0)
    return ordered[rank]
