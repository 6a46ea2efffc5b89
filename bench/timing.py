"""Small timing helpers: a stopwatch that accumulates, and percentiles."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

__all__ = ["Stopwatch", "percentile", "steady_emulator"]


@contextmanager
def steady_emulator() -> Iterator[None]:
    """No garbage collection in this process while the block runs.

    The emulator, Telegram's stand-in, runs in the benchmark's own process. A collection over
    its large state pauses it for up to ~150 ms. The bot's requests that arrive during such a
    pause would then be counted together, as a burst the bot never sent, and answered 429.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


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
