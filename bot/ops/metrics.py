"""Prometheus metrics: updates, the outbox, sources, moderation and the database.

Each `Metrics` has its own registry (several bots in one test process never mix). Counters move
as things happen; the outbox, moderation and size gauges are read from SQLite at scrape time.
Labels are bounded: commands outside the known list count as "other", update types are
Telegram's field names, failure kinds are error class names.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.delivery.outcomes import (
    ApiUnavailable,
    Delivered,
    FloodWait,
    Migrated,
    Rejected,
    SendOutcome,
    TransientFailure,
    Unreachable,
)
from bot.ops.health import Pulse

__all__ = ["CONTENT_TYPE_LATEST", "DatabaseSnapshot", "Metrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 60)
_KIND = re.compile(r"[^a-z0-9_]+")
_OUTCOME_NAMES: dict[type, str] = {
    Delivered: "delivered",
    FloodWait: "flood_wait",
    Unreachable: "unreachable",
    Migrated: "migrated",
    TransientFailure: "transient",
    ApiUnavailable: "api_unavailable",
    Rejected: "rejected",
}


def answer_of(outcome: SendOutcome, seconds: float) -> tuple[str, float, float]:
    """An outbox request's answer as `observe_answer` takes it: outcome name, seconds taken,
    and the pause a 429 asked for (0 otherwise)."""
    retry_after = outcome.seconds if isinstance(outcome, FloodWait) else 0.0
    return _OUTCOME_NAMES.get(type(outcome), "other"), seconds, retry_after


@dataclass(frozen=True, slots=True)
class DatabaseSnapshot:
    """What the scrape reads from SQLite."""

    outbox: dict[str, int]  # queued, sending, sent, failed
    broadcast_rate: float | None
    image_reports: int
    images_hidden: int
    database_bytes: int


class Metrics:
    """The bot's metrics; `observe_*` methods are called by the code that does the work."""

    def __init__(
        self, *, commands: Collection[str] = (), wall_clock: Callable[[], float] = time.time
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._commands = frozenset(commands)
        self._wall_clock = wall_clock
        self.outbox_progress = Pulse()
        self._define_updates()
        self._define_outbox()
        self._define_sources()
        self._define_database()

    # Updates

    def _define_updates(self) -> None:
        r = self.registry
        self.updates = Counter(
            "akhbar_updates", "Updates handled, by type and command", ["type", "command"],
            registry=r,
        )  # fmt: skip
        self.update_seconds = Histogram(
            "akhbar_update_handler_seconds", "Time to handle one update", ["type"],
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.update_errors = Counter(
            "akhbar_update_errors", "Updates whose handler raised", ["type"], registry=r
        )
        self.webhook_refused = Counter(
            "akhbar_webhook_refused",
            "Webhook requests refused, by reason (secret, too_large, not_json)",
            ["reason"],
            registry=r,
        )

    def observe_update(self, kind: str, text: str | None, seconds: float) -> None:
        """One update handled: its type, the command it carried (if any) and how long it took."""
        self.updates.labels(kind, self._command(text)).inc()
        self.update_seconds.labels(kind).observe(seconds)

    def observe_update_error(self, kind: str) -> None:
        self.update_errors.labels(kind).inc()

    def observe_webhook_refused(self, reason: str) -> None:
        self.webhook_refused.labels(reason).inc()

    def _command(self, text: str | None) -> str:
        if not text or not text.startswith("/"):
            return ""
        name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
        name = name.split("_", 1)[0] if name.startswith("read_") else name
        return name if name in self._commands else "other"

    # Outbox

    def _define_outbox(self) -> None:
        r = self.registry
        self.outbox_messages = Gauge(
            "akhbar_outbox_messages", "Outbox rows by status", ["status"], registry=r
        )
        self.outbox_requests = Counter(
            "akhbar_outbox_requests", "Outbox requests to Telegram by outcome", ["outcome"],
            registry=r,
        )  # fmt: skip
        self.outbox_retries = Counter(
            "akhbar_outbox_retries", "Requests to be retried (network errors, 5xx)", registry=r
        )
        self.outbox_flood_waits = Counter(
            "akhbar_outbox_flood_waits", "429 answers from Telegram", registry=r
        )
        self.outbox_last_retry_after = Gauge(
            "akhbar_outbox_last_retry_after_seconds", "retry_after of the last 429", registry=r
        )
        self.outbox_send_seconds = Histogram(
            "akhbar_outbox_send_seconds", "Time Telegram took to answer one outbox request",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.broadcast_rate = Gauge(
            "akhbar_broadcast_rate_messages_per_second", "The last broadcast's rate", registry=r
        )

    def observe_send(self, outcome: SendOutcome, seconds: float) -> None:
        """One outbox request answered (the worker's observer)."""
        self.observe_answer(*answer_of(outcome, seconds))

    def observe_answer(self, outcome: str, seconds: float, retry_after: float = 0.0) -> None:
        """One outbox request answered, by outcome name (also as the worker's process
        reports it, `bot.ptb.sender_process`)."""
        if outcome != "api_unavailable":  # an outage is no progress: readiness fails
            self.outbox_progress.beat()
        self.outbox_requests.labels(outcome).inc()
        self.outbox_send_seconds.observe(seconds)
        if outcome == "flood_wait":
            self.outbox_flood_waits.inc()
            self.outbox_last_retry_after.set(retry_after)
        elif outcome == "transient":
            self.outbox_retries.inc()

    # Sources

    def _define_sources(self) -> None:
        r = self.registry
        self.source_fetches = Counter(
            "akhbar_source_fetches", "Source polls by outcome (fetched, not_modified, failed)",
            ["source", "outcome"], registry=r,
        )  # fmt: skip
        self.source_new_articles = Counter(
            "akhbar_source_new_articles", "New articles stored", ["source"], registry=r
        )
        self.source_not_modified = Counter(
            "akhbar_source_not_modified", "304 Not Modified answers", ["source"], registry=r
        )
        self.source_failures = Counter(
            "akhbar_source_failures", "Failed polls by kind", ["source", "kind"], registry=r
        )
        self.source_last_success = Gauge(
            "akhbar_source_last_success_timestamp_seconds", "Last successful poll (Unix time)",
            ["source"], registry=r,
        )  # fmt: skip
        self.source_fetch_seconds = Histogram(
            "akhbar_source_fetch_seconds", "Time one source poll took", ["source"],
            buckets=_FETCH_BUCKETS, registry=r,
        )  # fmt: skip

    def observe_source_poll(
        self, source: str, outcome: str, seconds: float, new_articles: int = 0
    ) -> None:
        """One poll of one source: outcome is fetched, not_modified or failed:<kind>."""
        status, _, kind = outcome.partition(":")
        if status not in ("fetched", "not_modified", "failed"):
            raise ValueError(f"unknown poll outcome {outcome!r}")
        self.source_fetches.labels(source, status).inc()
        self.source_fetch_seconds.labels(source).observe(seconds)
        if status == "failed":
            self.source_failures.labels(source, _KIND.sub("_", kind.lower()) or "other").inc()
            return
        self.source_last_success.labels(source).set(self._wall_clock())
        if status == "not_modified":
            self.source_not_modified.labels(source).inc()
        self.source_new_articles.labels(source).inc(new_articles)

    # Database

    def _define_database(self) -> None:
        r = self.registry
        self.image_reports = Gauge("akhbar_image_reports", "Image reports stored", registry=r)
        self.images_hidden = Gauge("akhbar_images_hidden", "Images hidden", registry=r)
        self.database_bytes = Gauge("akhbar_database_bytes", "SQLite database size", registry=r)

    def exposition(self, snapshot: DatabaseSnapshot) -> bytes:
        """The Prometheus text format, with the database gauges set from `snapshot`."""
        for status, count in snapshot.outbox.items():
            self.outbox_messages.labels(status).set(count)
        self.broadcast_rate.set(snapshot.broadcast_rate or 0.0)
        self.image_reports.set(snapshot.image_reports)
        self.images_hidden.set(snapshot.images_hidden)
        self.database_bytes.set(snapshot.database_bytes)
        return generate_latest(self.registry)
