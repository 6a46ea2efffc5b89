"""The event loop every `akhbar` command runs on.

uvloop where it is installed (every platform but Windows). The bot's one event loop composes
digests, answers updates and drives the outbox; with uvloop's transports and timers it spends
less of its core per message, so a broadcast at the paid limit loses fewer send slots to a
loop that woke late (measured in bench/analysis.md).
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a new event loop, as `asyncio.run` does."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


# Objects allocated per collection of the youngest generation (Python's default is 700).
GC_YOUNG_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Keep garbage collection from pausing the event loop during a broadcast (call once
    start-up is done, in the bot's process and in its sending process).

    What start-up loaded (libraries, catalogs, services) lives as long as the process: frozen,
    full collections no longer walk it. Measured on a 30,000-digest slot before this, twelve
    full collections took 0.9 s, the longest 245 ms, and every such pause skipped the send
    slots it covered (at 1,000 msg/s, 245 messages' worth).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
