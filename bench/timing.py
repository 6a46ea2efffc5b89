"""Small timing helpers: a stopwatch that accumulates, and percentiles."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

__all__ = ["Stopwatch", "percentile"]


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
