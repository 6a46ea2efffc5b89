"""The broadcast engine: a crash-safe outbox drained within Telegram's limits."""

from bot.delivery.outbox import ChatEvents, Outbox, OutboxSettings, OutboxStats
from bot.delivery.worker import OutboxWorker

__all__ = ["ChatEvents", "Outbox", "OutboxSettings", "OutboxStats", "OutboxWorker"]
