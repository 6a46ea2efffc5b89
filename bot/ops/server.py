"""One small HTTP server in the bot process: the webhook, /healthz, /readyz and /metrics.

The webhook route checks Telegram's secret header (constant-time), the body's size and that it
is a JSON object with an update_id, then hands the object to `accept` (the PTB side turns it
into an Update on the application's queue) and answers at once: handlers run after the answer,
so a slow handler never makes Telegram wait or retry.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot.ops.health import Check, run_checks
from bot.ops.metrics import CONTENT_TYPE_LATEST, DatabaseSnapshot, Metrics

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True, slots=True)
class WebhookRoute:
    """Where Telegram posts updates and what the server does with them."""

    path: str
    secret: str
    max_bytes: int
    accept: Callable[[dict[str, Any]], Awaitable[None]]


class OpsServer:
    """aiohttp on one address and port; `port` is the bound one after start()."""

    def __init__(
        self,
        *,
        listen: str,
        port: int,
        metrics: Metrics,
        snapshot: Callable[[], Awaitable[DatabaseSnapshot]],
        checks: Mapping[str, Check],
        metrics_token: str = "",
        webhook: WebhookRoute | None = None,
    ) -> None:
        self._listen = listen
        self._port = port
        self._metrics = metrics
        self._snapshot = snapshot
        self._checks = checks
        self._metrics_token = metrics_token
        self._webhook = webhook
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    async def start(self) -> int:
        """Start listening; return the bound port."""
        max_bytes = self._webhook.max_bytes if self._webhook else 1024 * 1024
        app = web.Application(client_max_size=max_bytes)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics_page)
        if self._webhook is not None:
            app.router.add_post(self._webhook.path, self._update)
        # No access log: it would write request lines and headers, the secret among them.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self._port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("HTTP server on %s:%s", self._listen, self.port)
        return self.port

    async def stop(self) -> None:
        """Stop accepting requests and close connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _healthz(self, request: web.Request) -> web.Response:
        # Answering at all proves the process and its event loop are alive.
        return web.json_response({"status": "ok"})

    async def _readyz(self, request: web.Request) -> web.Response:
        results = await run_checks(self._checks)
        ready = all(result.ok for result in results.values())
        body = {
            "ready": ready,
            "checks": {
                name: {"ok": result.ok, "detail": result.detail} for name, result in results.items()
            },
        }
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        refusal = self._metrics_refusal(request)
        if refusal is not None:
            return refusal
        body = self._metrics.exposition(await self._snapshot())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    def _metrics_refusal(self, request: web.Request) -> web.Response | None:
        if self._metrics_token:
            given = request.headers.get("Authorization", "")
            expected = f"Bearer {self._metrics_token}"
            if hmac.compare_digest(given.encode(), expected.encode()):
                return None
            return web.json_response({"error": "unauthorized"}, status=401)
        if _is_loopback(request.remote):
            return None
        return web.json_response({"error": "metrics are served to loopback only"}, status=403)

    async def _update(self, request: web.Request) -> web.Response:
        route = self._webhook
        assert route is not None
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), route.secret.encode()):
            self._metrics.observe_webhook_refused("secret")
            return web.json_response({"error": "forbidden"}, status=403)
        if request.content_length is not None and request.content_length > route.max_bytes:
            self._metrics.observe_webhook_refused("too_large")
            return web.json_response({"error": "too large"}, status=413)
        try:
            payload = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            self._metrics.observe_webhook_refused("too_large")
            return web.json_response({"error": "too large"}, status=413)
        except (ValueError, UnicodeDecodeError):
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            self._metrics.observe_webhook_refused("not_json")
            return web.json_response({"error": "not an update"}, status=400)
        try:
            await route.accept(payload)
        except Exception:
            # Logged without the body: it holds what people wrote.
            log.exception("webhook update %s could not be read", payload["update_id"])
            self._metrics.observe_webhook_refused("not_json")
            return web.json_response({"error": "not an update"}, status=400)
        return web.Response(status=200)


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
