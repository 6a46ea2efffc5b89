"""Running in production: health checks, metrics, the HTTP server and backups.

No `telegram` import here: the PTB side (bot/ptb/serving.py) builds Updates and calls in.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection

from pydantic import SecretStr

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.ops.health import Check, CheckResult, Pulse, database_check, outbox_check, telegram_check
from bot.ops.metrics import DatabaseSnapshot, Metrics
from bot.ops.server import OpsServer, WebhookRoute
from storage import health as db_health
from storage.connection import Connection

__all__ = [
    "Check",
    "CheckResult",
    "Metrics",
    "Operations",
    "OpsServer",
    "Pulse",
    "WebhookRoute",
    "webhook_secret",
]


def webhook_secret(config: Config) -> Config:
    """The config with a webhook secret: the configured one, or a random one for this run."""
    telegram = config.telegram
    if telegram.mode != "webhook" or telegram.secret_token.get_secret_value():
        return config
    chosen = telegram.model_copy(update={"secret_token": SecretStr(secrets.token_urlsafe(32))})
    return config.model_copy(update={"telegram": chosen})


class Operations:
    """The running bot's metrics, readiness checks and HTTP server, shared by the wiring."""

    def __init__(self, config: Config, *, commands: Collection[str] = ()) -> None:
        self.config = config
        self.metrics = Metrics(commands=commands)
        self.telegram = Pulse()  # beats on every answer from the Bot API
        self.checks: dict[str, Check] = {}
        self.server: OpsServer | None = None
        self._db: Connection | None = None
        self._outbox: Outbox | None = None

    def add_check(self, name: str, check: Check) -> None:
        """Register one more readiness check (e.g. sources stuck beyond a threshold)."""
        self.checks[name] = check

    def watch(
        self,
        *,
        db: Connection,
        outbox: Outbox,
        is_worker_running: Callable[[], bool],
        clock: Clock,
    ) -> None:
        """Register the database, outbox and Telegram checks once services are open."""
        health = self.config.health
        self._db, self._outbox = db, outbox
        self.add_check("database", database_check(db))
        self.add_check(
            "outbox",
            outbox_check(
                is_running=is_worker_running,
                db=db,
                progress=self.metrics.outbox_progress,
                clock=clock,
                stuck_after=health.outbox_stuck_seconds,
            ),
        )
        self.add_check(
            "telegram", telegram_check(self.telegram, silence=health.telegram_silence_seconds)
        )

    async def snapshot(self) -> DatabaseSnapshot:
        """The database-backed gauges, read at scrape time."""
        if self._db is None or self._outbox is None:
            return DatabaseSnapshot({}, None, 0, 0, 0)
        stats = await self._outbox.stats()
        reports, hidden = await db_health.moderation_counts(self._db)
        return DatabaseSnapshot(
            outbox={
                "queued": stats.queued,
                "sending": stats.sending,
                "sent": stats.sent,
                "failed": stats.failed,
            },
            broadcast_rate=stats.last_rate,
            image_reports=reports,
            images_hidden=hidden,
            database_bytes=await db_health.size_bytes(self._db),
        )

    def build_server(self, webhook: WebhookRoute | None = None) -> OpsServer:
        """The HTTP server for `[http]`, with the webhook route when given."""
        http = self.config.http
        self.server = OpsServer(
            listen=http.listen,
            port=http.port,
            metrics=self.metrics,
            snapshot=self.snapshot,
            checks=self.checks,
            metrics_token=http.metrics_token.get_secret_value(),
            webhook=webhook,
        )
        return self.server
