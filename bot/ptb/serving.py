"""Running the bot in polling or webhook mode, with the operations HTTP server beside it.

Start: resources (post_init), the HTTP server (health and metrics first, so a supervisor sees
the process), then updates (setWebhook, or deleteWebhook + long polling), then handlers.
Stop on SIGTERM/SIGINT in the reverse order: no new updates, handlers finish, the outbox worker
lets requests in flight finish and gives its claims back (post_shutdown), resources close.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.config import Config
from bot.ops import Operations, OpsServer, Pulse, WebhookRoute, webhook_secret
from bot.ops.backup import back_up_into, use_pg_dump
from bot.ops.retention import prune_history
from bot.ptb.context import AkhbarApp, AkhbarContext
from bot.services import tls_context

log = logging.getLogger(__name__)

WEBHOOK_PROBE_SECONDS = 60.0
PRUNE_JOB = "ops:prune-history"
PRUNE_INTERVAL_SECONDS = 24 * 3600.0
PRUNE_FIRST_SECONDS = 600.0


class ObservedRequest(BaseRequest):
    """PTB's HTTPX transport that beats a pulse whenever the Bot API answers (status < 500)."""

    __slots__ = ("_inner", "_pulse")

    def __init__(self, pulse: Pulse, *, connection_pool_size: int) -> None:
        self._inner = HTTPXRequest(
            connection_pool_size=connection_pool_size, httpx_kwargs={"verify": tls_context()}
        )
        self._pulse = pulse

    @property
    def read_timeout(self) -> float | None:
        return self._inner.read_timeout

    async def initialize(self) -> None:
        await self._inner.initialize()

    async def shutdown(self) -> None:
        await self._inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await self._inner.do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if status < 500:
            self._pulse.beat()
        return status, payload


def _operations(app: AkhbarApp) -> Operations:
    ops = app.bot_data.ops
    if ops is None:
        raise RuntimeError("the application was built without operations")
    return ops


@asynccontextmanager
async def running(app: AkhbarApp, config: Config) -> AsyncIterator[OpsServer | None]:
    """Run the bot inside the caller's event loop; yields the HTTP server (None if disabled)."""
    config = webhook_secret(config)
    ops = _operations(app)
    await app.initialize()
    try:
        if app.post_init:
            await app.post_init(app)
        server = await _start_server(app, ops, config)
        try:
            await _start_updates(app, config)
            await app.start()
            try:
                yield server
            finally:
                await _stop_intake(app, server)
                await app.stop()  # handlers finish, updates already queued included
        finally:
            await _stop_intake(app, server)
    finally:
        if app.post_shutdown:
            await app.post_shutdown(app)
        await app.shutdown()


async def _stop_intake(app: AkhbarApp, server: OpsServer | None) -> None:
    """No new updates: polling stops; webhook requests get a refused connection (Telegram
    keeps them and retries). The leadership goes first, so that another process takes over
    polling now rather than this one starting it again while it stops."""
    if app.bot_data.leadership is not None:
        await app.bot_data.leadership.stop()
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if server is not None:
        await server.stop()


async def _start_server(app: AkhbarApp, ops: Operations, config: Config) -> OpsServer | None:
    server = _server(app, ops, config)
    if server is None:
        return None
    try:
        await server.start()
    except OSError as error:
        if config.telegram.mode == "webhook":
            raise
        # In polling mode the bot can serve users without it; the health check will say so.
        log.error(
            "HTTP server (health, metrics) not started on %s:%s: %s",
            config.http.listen, config.http.port, error.strerror or error,
        )  # fmt: skip
        return None
    return server


def _server(app: AkhbarApp, ops: Operations, config: Config) -> OpsServer | None:
    telegram = config.telegram
    if telegram.mode == "webhook":
        return ops.build_server(
            WebhookRoute(
                path=telegram.webhook_path,
                secret=telegram.secret_token.get_secret_value(),
                max_bytes=config.http.max_update_bytes,
                accept=lambda payload: _accept(app, payload),
            )
        )
    return ops.build_server() if config.http.enabled else None


async def _accept(app: AkhbarApp, payload: dict[str, Any]) -> None:
    await app.update_queue.put(Update.de_json(payload, app.bot))


class LongPolling:
    """getUpdates, which only one process may run at a time: a leader's duty."""

    name = "long polling"

    def __init__(self, app: AkhbarApp, *, timeout: int) -> None:
        self._app = app
        self._timeout = timeout

    async def start(self) -> None:
        # start_polling calls deleteWebhook first: switching back from webhook mode just works.
        await self._app.updater.start_polling(
            allowed_updates=Update.ALL_TYPES, timeout=self._timeout
        )

    async def stop(self) -> None:
        if self._app.updater.running:
            await self._app.updater.stop()


async def _start_updates(app: AkhbarApp, config: Config) -> None:
    telegram = config.telegram
    if telegram.mode == "polling":
        polling = LongPolling(app, timeout=telegram.poll_timeout_seconds)
        leadership = app.bot_data.leadership
        if leadership is None:
            await polling.start()
            return
        await leadership.add(polling)
        if config.storage.is_postgres:
            # A follower asks Telegram nothing by itself: this keeps the readiness check's
            # "Telegram answered recently" meaningful on every process.
            app.job_queue.run_repeating(
                _probe_api, interval=WEBHOOK_PROBE_SECONDS, first=0, name="ops:api-probe"
            )
        return
    await app.bot.set_webhook(
        url=telegram.webhook_url,
        secret_token=telegram.secret_token.get_secret_value(),
        allowed_updates=Update.ALL_TYPES,
        max_connections=telegram.max_connections,
    )
    log.info("webhook set; updates arrive on %s", telegram.webhook_path)
    # Without long polls nothing else asks Telegram anything regularly: this keeps the
    # readiness check's "Telegram answered recently" meaningful.
    app.job_queue.run_repeating(
        _probe_webhook, interval=WEBHOOK_PROBE_SECONDS, first=0, name="ops:webhook-probe"
    )


async def _probe_api(context: AkhbarContext) -> None:
    await context.bot.get_me()


async def _probe_webhook(context: AkhbarContext) -> None:
    info = await context.bot.get_webhook_info()
    if info.last_error_message:
        log.warning("Telegram reports a webhook error: %s", info.last_error_message)


async def serve(app: AkhbarApp, config: Config) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running(app, config):
            await stop.wait()
            log.info("stopping: finishing updates and sends in flight")
            stopping = loop.time()
        log.info("stopped in %.1f s", loop.time() - stopping)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def history_pruning(config: Config) -> Callable[[AkhbarContext], Awaitable[None]]:
    """The job that deletes the history older than `[storage] keep_history_days`
    (`bot.ops.retention`). The leading process runs it daily, first soon after it starts, so
    a bot restarted every day prunes too."""
    keep_days = config.storage.keep_history_days

    async def prune(context: AkhbarContext) -> None:
        services = context.services
        try:
            pruned = await prune_history(services.db, now=services.clock(), keep_days=keep_days)
        except Exception:
            # Each batch rolled back or committed on its own: the next run goes on from there.
            log.exception("deleting old history failed; trying again at the next run")
            return
        if pruned:
            log.info(
                "history older than %s days deleted: %s sent messages, %s message bodies,"
                " %s delivery records, %s photo messages",
                keep_days, pruned.messages, pruned.bodies, pruned.deliveries, pruned.photos,
            )  # fmt: skip

    return prune


def schedule_backups(app: AkhbarApp, config: Config) -> None:
    """With `[backup] enabled`, back the database up every interval, keeping the last N."""
    settings = config.backup
    if not settings.enabled or config.storage.path == ":memory:":
        return
    if config.storage.is_postgres:
        log.warning("[backup] is not used: %s", use_pg_dump(config.storage.location))
        return

    async def back_up(context: AkhbarContext) -> None:
        services = context.services
        target = await back_up_into(
            Path(settings.directory),
            Path(config.storage.path),
            at=services.clock(),
            keep=settings.keep,
        )
        log.info("database backed up to %s", target)

    app.job_queue.run_repeating(
        back_up,
        interval=settings.interval_hours * 3600,
        first=settings.interval_hours * 3600,
        name="ops:backup",
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
