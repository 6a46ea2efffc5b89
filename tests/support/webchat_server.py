"""The emulator and its web chat on an event loop of their own, for tests that drive a browser
with Playwright's synchronous API (which must not run inside an event loop)."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.request
from collections.abc import Callable
from typing import Any, TypeVar

from emulator import BotApiEmulator
from emulator.webchat import WebChat

T = TypeVar("T")


class BackgroundWebChat:
    def __init__(self, token: str) -> None:
        self.token = token
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.emulator: BotApiEmulator | None = None
        self.webchat: WebChat | None = None

    def start(self, samples: dict[str, bytes]) -> str:
        self._thread.start()

        async def start() -> str:
            self.emulator = await BotApiEmulator(self.token).start()
            self.webchat = WebChat(self.emulator, samples=samples)
            return await self.webchat.start()

        return self.run(start())

    def run(self, coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the emulator's loop thread (its state is not thread-safe)."""

        async def run() -> T:
            return function()

        return self.run(run())

    def bot_api(self, method: str, **params: Any) -> dict[str, Any]:
        """A Bot API request over HTTP, as a bot would make it; returns Telegram's answer."""
        request = urllib.request.Request(
            f"{self.emulator.base_url}{self.token}/{method}",
            data=json.dumps(params).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            return json.load(error)

    def stop(self) -> None:
        async def stop() -> None:
            await self.webchat.stop()
            await self.emulator.stop()

        self.run(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
