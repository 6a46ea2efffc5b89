"""The event loop every `akhbar` command runs on.

uvloop where it is installed (every platform but Windows). The bot's one event loop composes
digests, answers updates and drives the outbox; with uvloop's transports and timers it spends
less of its core per message, so a broadcast at the paid limit loses fewer send slots to a
loop that woke late (measured in bench/analysis.md).
"""

from __future__ import annotations

import asyncio
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
