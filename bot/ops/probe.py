"""`akhbar health`: ask the running bot's /readyz and say plainly what is wrong."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bot.config import Config

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    ready: bool
    lines: tuple[str, ...]


def readyz_url(config: Config) -> str | None:
    """Where the running bot answers /readyz, or None when its HTTP server is off."""
    http = config.http
    if not http.enabled and config.telegram.mode == "polling":
        return None
    host = http.listen
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{http.port}/readyz"


async def probe(url: str) -> ProbeAnswer:
    """GET /readyz; every check becomes one line `ok|FAIL name: detail`."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as http,
            http.get(url) as response,
        ):
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        reason = type(error).__name__
        return ProbeAnswer(False, (f"nothing answers at {url} ({reason}): is the bot running?",))
    checks = body.get("checks", {}) if isinstance(body, dict) else {}
    lines = tuple(
        f"{'ok' if c.get('ok') else 'FAIL'} {name}: {c.get('detail', '')}".rstrip(": ")
        for name, c in checks.items()
    )
    return ProbeAnswer(bool(isinstance(body, dict) and body.get("ready")), lines)
