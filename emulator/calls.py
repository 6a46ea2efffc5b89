"""The log of every API call, bounded if asked, with waiting on a condition."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterator

from .records import ApiCall
from .signals import Signal


class CallLog:
    """API calls in arrival order; `max_size` keeps only the newest ones."""

    def __init__(self, max_size: int | None = None) -> None:
        self._calls: deque[ApiCall] = deque(maxlen=max_size)
        self._appended = Signal()
        self._listeners: list[Callable[[ApiCall], None]] = []

    def __iter__(self) -> Iterator[ApiCall]:
        return iter(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def append(self, call: ApiCall) -> None:
        """Record a call and wake waiters."""
        self._calls.append(call)
        self._appended.wake()
        for listener in self._listeners:
            listener(call)

    def listen(self, listener: Callable[[ApiCall], None]) -> None:
        """Call `listener` with every call logged from now on."""
        self._listeners.append(listener)

    def wake(self) -> None:
        """Wake waiters without a new call (used on shutdown)."""
        self._appended.wake()

    async def wait_for(self, predicate: Callable[[ApiCall], bool], seconds: float) -> ApiCall:
        """Return the first logged call matching `predicate`, waiting up to `seconds`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            for call in self._calls:
                if predicate(call):
                    return call
            if not await self._appended.wait(deadline - loop.time()):
                methods = [call.method for call in self._calls][-20:]
                raise TimeoutError(f"no API call matched within {seconds}s; last calls: {methods}")
